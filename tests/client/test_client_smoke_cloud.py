"""Smoke checks against DataRobot (mocked with respx): the checks go through the invoke routes
DataRobot serves, ``/endpoints/workloads/{id}/`` on either generation and
``/endpoints/deployments/{id}/`` for a v2.41 deployment, with the bearer token on the wire and
nowhere in what the results say."""

from __future__ import annotations

from pathlib import Path

import respx
from test_client_generations import detect_as

from workloadlab import smoke
from workloadlab.client import AsyncClient
from workloadlab.models import Deployment, parse_response
from workloadlab.models.neutral import Workload

from clienttools import CLOUD_TOKEN, fixture

WORKLOAD = "6650c1d2e3f4a5b6c7d8e9f0"
DEPLOYMENT = "6650c1d2e3f4a5b6c7d8eaa0"


def recorded(tmp_path: Path) -> Path:
    path = tmp_path / "workloadlab-smoke.yaml"
    check = smoke.SmokeCheck.model_validate(
        {"request": {"path": "/whoami?v=1"}, "expect": {"status": 200, "fields": {"user": "me"}}}
    )
    smoke.save(path, smoke.SmokeFile().with_check("whoami-dev", "who", check))
    return path


async def test_checks_reach_a_v241_workload_and_its_deployment(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, tmp_path: Path
) -> None:
    path = recorded(tmp_path)
    cloud_mock.get(f"/console/workloads/{WORKLOAD}/").respond(json=fixture("workload-running.json"))
    draft = cloud_mock.get(f"/endpoints/workloads/{WORKLOAD}/whoami").respond(json={"user": "me"})
    deployed = cloud_mock.get(f"/endpoints/deployments/{DEPLOYMENT}/whoami").respond(
        json={"user": "someone else"}
    )
    results = await smoke.run_checks(cloud, WORKLOAD, path=path)
    assert [r.ok for r in results] == [True]
    sent = draft.calls.last.request
    assert sent.url.params["v"] == "1", "the query went along"
    assert sent.headers["authorization"] == f"Bearer {CLOUD_TOKEN}"

    workload = await cloud.workloads.get(WORKLOAD)
    deployment = parse_response(Deployment, fixture("deployment.json"))
    compared = await smoke.draft_vs_deployed(cloud, workload, deployment, path=path)
    assert [c.verdict for c in compared] == ["different: /user"]
    assert deployed.called
    assert CLOUD_TOKEN not in smoke.comparison_text(compared)
    assert CLOUD_TOKEN not in path.read_text()


async def test_checks_reach_a_current_generation_workload(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, tmp_path: Path
) -> None:
    detect_as(cloud_mock, 200)
    assert await cloud.generation() == "current"
    path = recorded(tmp_path)
    route = cloud_mock.get(f"/endpoints/workloads/{WORKLOAD}/whoami").respond(json={"user": "x"})
    workload = Workload.model_validate(fixture("workload-running.json"))
    (result,) = await smoke.run_checks(cloud, workload, path=path)
    assert route.called, "the same invoke route on the current generation"
    assert result.summary == 'who (GET /whoami?v=1): /user: expected "me", got "x"'
