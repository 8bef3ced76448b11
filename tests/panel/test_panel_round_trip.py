"""The panel's Save sends back what it read but for the edit, and its deployment card shows
only the workload's own deployment.

Against the real local server (a credential reference, nulls and a plain value edited in the
real panel), and against a DataRobot-shaped server mocked with respx (``type: service``,
``securityContext``, ``imageBuildConfig``, unknown keys, ``wid=``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import httpx
import respx

from workloadlab.client import AsyncClient
from workloadlab.notebook.panel import actions, open_panel
from workloadlab.notebook.panel.form import SpecForm
from workloadlab.notebook.session import Session

from harness import free_port, hello_spec
from paneltools import eventually, frontend_click, frontend_set

CLOUD = "https://app.datarobot.com/api/v2"
TOKEN = "dr-fake-token-0a1b2c3d4e5f60718293a4b5"
FIXTURES = Path(__file__).resolve().parents[1] / "client" / "fixtures"
RESPONSE_ONLY = {"id", "version", "artifactCollectionId", "creator", "createdAt", "updatedAt"}
RESPONSE_ONLY |= {"specDigest", "tags", "permissions"}


def test_save_keeps_a_credential_reference_and_nulls(session: Session, api: httpx.Client) -> None:
    token = api.post(
        "/credentials/",
        json={
            "name": f"panel-token-{free_port()}",
            "credentialType": "api_token",
            "apiToken": "x1",
        },
    )
    assert token.status_code == 201, token.text
    reference = {
        "source": "dr-credential",
        "name": "GH_TOKEN",
        "drCredentialId": token.json()["id"],
        "key": "apiToken",
    }
    spec = hello_spec(free_port(), "hello", livenessProbe=None, startupProbe=None)
    spec["spec"]["containerGroups"][0]["containers"][0]["environmentVars"].append(reference)
    created = api.post("/console/workloads/", json={"name": "panel-keeps", "artifact": spec})
    assert created.status_code == 201, created.text
    workload = created.json()
    before = api.get(f"/registry/artifacts/{workload['artifactId']}").json()
    try:
        panel = open_panel(session, workload["id"])
        eventually(lambda: panel.form.containers)
        row = next(r for r in panel.form.containers[0].env.rows if r.name.value == "GREETING")
        frontend_set(row.value, value="edited in the panel")
        eventually(lambda: not panel.save.disabled)
        frontend_click(panel.save)
        eventually(lambda: "Saved (PUT" in str(panel.status.message.value))
        after = api.get(f"/registry/artifacts/{workload['artifactId']}").json()
        expected = copy.deepcopy(before["spec"])
        variables = expected["containerGroups"][0]["containers"][0]["environmentVars"]
        variables[0]["value"] = "edited in the panel"
        assert json.dumps(after["spec"]) == json.dumps(expected)
        assert reference in after["spec"]["containerGroups"][0]["containers"][0]["environmentVars"]
    finally:
        api.delete(f"/console/workloads/{workload['id']}/")


async def test_save_keeps_type_service_and_what_the_form_does_not_show() -> None:
    """The panel's Save path (form → :func:`actions.save`) against DataRobot's current shape."""
    original = json.loads((FIXTURES / "current" / "artifact-draft.json").read_text())
    with respx.mock(base_url=CLOUD, assert_all_called=False) as router:
        router.get(url__regex=r".*/api/v2/workloads/?(\?.*)?$").respond(  # a current probe
            json={"count": 0, "data": []}
        )
        path = rf".*/artifacts/{original['id']}/?$"
        router.get(url__regex=path).respond(json=original)
        put = router.put(url__regex=path).respond(json=original)
        async with AsyncClient(CLOUD, TOKEN) as client:
            base = await client.artifacts.get(original["id"])
            form = SpecForm(lambda: None)
            form.load(base)
            assert form.containers[0].probes, "the advanced section is built, as when opened"
            frontend_set(form.containers[0].image.input, value="ghcr.io/org/hello:2")
            reading = form.read()
            assert reading.artifact is not None, reading.problems
            saved = await actions.save(client, base, reading.artifact)
    assert saved.method == "PUT"
    expected = {k: v for k, v in copy.deepcopy(original).items() if k not in RESPONSE_ONLY}
    expected["spec"]["containerGroups"][0]["containers"][0]["imageUri"] = "ghcr.io/org/hello:2"
    body = json.loads(put.calls.last.request.content)
    assert body["type"] == "service"
    assert json.dumps(body) == json.dumps(expected)


async def test_the_latest_deployment_is_asked_with_wid_and_is_the_workload_s_own() -> None:
    """A server that ignores the filter answers every deployment, newest first."""
    mine = json.loads((FIXTURES / "datarobot" / "deployment.json").read_text())
    other = {**mine, "id": "6650c1d2e3f4a5b6c7d8eaa9", "workloadId": "0" * 24}
    with respx.mock(base_url=CLOUD, assert_all_called=False) as router:
        router.get("/workloads/").respond(404)  # the generation probe: v2.41
        listed = router.get("/console/deployments/").respond(
            json={
                "count": 2,
                "totalCount": 2,
                "next": None,
                "previous": None,
                "data": [other, mine],
            }
        )
        async with AsyncClient(CLOUD, TOKEN) as client:
            found = await actions.latest_deployment(client, mine["workloadId"])
            nothing = await actions.latest_deployment(client, "1" * 24)
    assert found is not None
    assert found.id == mine["id"]
    assert nothing is None
    query = listed.calls.last.request.url.params
    assert query.get("wid") == "1" * 24
    assert "workloadId" not in query
