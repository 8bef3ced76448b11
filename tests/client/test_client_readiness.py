"""``client.workloads.lock_readiness``: the Lock & Deploy checklist, against the real local
server (which reports the spec that runs) and a mocked DataRobot (which does not: judged by
restart time)."""

from __future__ import annotations

import copy
from typing import Any

import respx

from workloadlab.client import AsyncClient, CheckName
from workloadlab.client.readiness import TIME_JUDGED, assess
from workloadlab.models import Deployment, parse_response
from workloadlab.models.neutral import Artifact, Workload

from clienttools import fixture
from harness import free_port, hello_spec

NAMES = [CheckName.RUNNING_AND_READY, CheckName.RUNS_SAVED_SPEC, CheckName.NOT_DEPLOYED]


async def running_workload(wl: AsyncClient, name: str, **container: Any) -> Workload:
    created = await wl.workloads.create(name=name, artifact=hello_spec(free_port(), **container))
    return await wl.workloads.wait_for_status(created.id, "running", timeout=30)


async def test_a_workload_running_its_saved_spec_is_ready(wl: AsyncClient) -> None:
    workload = await running_workload(wl, "ready")
    readiness = await wl.workloads.lock_readiness(workload.id)
    assert [check.name for check in readiness.checks] == NAMES, "no form: no unsaved-edits check"
    assert readiness.ok, readiness.checks
    assert readiness.failed == ()
    assert readiness.workload.id == workload.id
    assert readiness.artifact.id == workload.artifact_id
    saved = readiness.get(CheckName.RUNS_SAVED_SPEC)
    assert saved is not None
    assert readiness.artifact.spec_digest is not None
    assert readiness.artifact.spec_digest[:19] in saved.detail
    assert "judged by restart time" not in saved.detail

    with_form = await wl.workloads.lock_readiness(workload.id, unsaved_edits=False)
    assert [check.name for check in with_form.checks] == [CheckName.NO_UNSAVED_EDITS, *NAMES]
    assert with_form.ok
    dirty = await wl.workloads.lock_readiness(workload.id, unsaved_edits=True)
    assert not dirty.ok
    assert [check.name for check in dirty.failed] == [CheckName.NO_UNSAVED_EDITS]
    assert dirty.failed[0].detail == "the form has unsaved edits: save them"


async def test_an_edit_saved_without_a_restart_fails_until_the_restart(wl: AsyncClient) -> None:
    workload = await running_workload(wl, "edited")
    assert workload.artifact_id is not None
    before = await wl.artifacts.get(workload.artifact_id)
    edited = before.to_input()
    edited.spec.primary.environment_vars[0].value = "changed, not applied"
    after = await wl.artifacts.replace(before.id, edited)
    assert before.spec_digest is not None
    assert after.spec_digest is not None

    readiness = await wl.workloads.lock_readiness(workload.id)
    assert not readiness.ok
    assert [check.name for check in readiness.failed] == [CheckName.RUNS_SAVED_SPEC]
    assert readiness.failed[0].detail == (
        f"runs spec {before.spec_digest[:19]} but the saved spec is {after.spec_digest[:19]}"
    )

    await wl.workloads.restart(workload.id, timeout=30)
    assert (await wl.workloads.lock_readiness(workload.id)).ok


async def test_a_stopped_workload_is_not_ready(wl: AsyncClient) -> None:
    workload = await running_workload(wl, "stopped")
    await wl.workloads.stop(workload.id)
    await wl.workloads.wait_for_status(workload.id, "stopped", timeout=30)
    readiness = await wl.workloads.lock_readiness(workload.id, smoke=["/"])
    details = {check.name: check.detail for check in readiness.failed}
    assert details == {
        CheckName.RUNNING_AND_READY: "it is stopped, not running",
        CheckName.RUNS_SAVED_SPEC: "no instance runs (it is stopped)",
        CheckName.SMOKE_CHECKS: "not sent: the workload is not running",
    }


async def test_a_deployed_workload_is_already_deployed(wl: AsyncClient) -> None:
    workload = await running_workload(wl, "deployed")
    assert workload.artifact_id is not None
    await wl.artifacts.register(workload.artifact_id)
    deployment = await wl.deployments.create(workload_id=workload.id, name="deployed-prod")
    readiness = await wl.workloads.lock_readiness(workload.id)
    assert [check.name for check in readiness.failed] == [CheckName.NOT_DEPLOYED]
    assert readiness.failed[0].detail == (
        f"it already backs deployment deployed-prod ({deployment.id})"
    )
    assert [d.id for d in readiness.deployments] == [deployment.id]
    await wl.deployments.delete(deployment.id)
    assert (await wl.workloads.lock_readiness(workload.id)).ok


async def test_smoke_requests_must_answer_below_400(wl: AsyncClient) -> None:
    workload = await running_workload(wl, "smoked", env={"FAIL_HEALTH_AFTER": "0"})
    passing = await wl.workloads.lock_readiness(workload.id, smoke=["/", "readyz"])
    assert passing.checks[-1].name == CheckName.SMOKE_CHECKS
    assert passing.checks[-1].detail == "GET / 200, GET /readyz 200"
    assert passing.ok
    failing = await wl.workloads.lock_readiness(workload.id, smoke=["/", "/healthz"])
    assert [check.detail for check in failing.failed] == ["GET /healthz answered 500"]


# ---------------------------------------------------------------------------------------------
# DataRobot: no runningArtifact, no specDigest

WID = "6650c1d2e3f4a5b6c7d8e9f0"
AID = "6650c1d2e3f4a5b6c7d8e9a1"


def mock_datarobot(
    router: respx.MockRouter,
    *,
    workload: dict[str, Any] | None = None,
    artifact: dict[str, Any] | None = None,
    deployments: list[dict[str, Any]] | None = None,
) -> None:
    """DataRobot's answers for the checklist of workload ``WID`` (artifact ``AID``)."""
    router.get(f"/console/workloads/{WID}/").respond(
        json=workload or fixture("workload-running.json")
    )
    router.get(f"/registry/artifacts/{AID}").respond(json=artifact or draft_artifact())
    items = deployments or []
    router.get("/console/deployments/", params={"wid": WID}).respond(
        json={"count": len(items), "totalCount": len(items), "next": None, "data": items}
    )


def draft_artifact(**changes: Any) -> dict[str, Any]:
    artifact: dict[str, Any] = {**fixture("artifact-draft.json"), "id": AID, **changes}
    return artifact


async def test_datarobot_is_judged_by_restart_time(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    workload = fixture("workload-running.json")
    assert "runningArtifact" not in workload
    assert "specDigest" not in fixture("artifact-draft.json")
    # Started at 16:05:11, the draft last changed at 16:03:56: it runs the saved spec.
    mock_datarobot(cloud_mock)
    readiness = await cloud.workloads.lock_readiness(WID)
    assert readiness.ok, readiness.checks
    saved = readiness.get(CheckName.RUNS_SAVED_SPEC)
    assert saved is not None
    assert saved.detail == (
        "DataRobot does not report which spec runs: judged by restart time; (re)started"
        " 2026-04-24 16:05:11 UTC, after the artifact's last change (2026-04-24 16:03:56 UTC)"
    )


async def test_datarobot_edited_after_the_restart_is_not_ready(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    mock_datarobot(cloud_mock, artifact=draft_artifact(updatedAt="2026-04-24T16:20:00.000000Z"))
    readiness = await cloud.workloads.lock_readiness(WID, unsaved_edits=False)
    assert [check.name for check in readiness.failed] == [CheckName.RUNS_SAVED_SPEC]
    assert readiness.failed[0].detail == (
        f"{TIME_JUDGED}; the artifact changed at 2026-04-24 16:20:00 UTC, after the last"
        " (re)start at 2026-04-24 16:05:11 UTC"
    )


async def test_datarobot_without_the_times_is_not_ready(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    artifact = draft_artifact()
    del artifact["updatedAt"]
    mock_datarobot(cloud_mock, artifact=artifact)
    readiness = await cloud.workloads.lock_readiness(WID)
    assert [check.detail for check in readiness.failed] == [
        f"{TIME_JUDGED}; the artifact does not say when it changed: restart it"
    ]


async def test_datarobot_not_ready_and_deployed(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    workload = copy.deepcopy(fixture("workload-running.json"))
    workload["statusDetails"]["conditions"][1]["value"] = "False"
    deployment = fixture("deployment.json")
    mock_datarobot(cloud_mock, workload=workload, deployments=[deployment])
    readiness = await cloud.workloads.lock_readiness(WID)
    assert {check.name: check.detail for check in readiness.failed} == {
        CheckName.RUNNING_AND_READY: "it is running, but its readiness probe fails",
        CheckName.NOT_DEPLOYED: f"it already backs deployment whoami-prod ({deployment['id']})",
    }

    stopped = {**fixture("workload-running.json"), "status": "stopped", "runningSince": None}
    cloud_mock.get(f"/console/workloads/{WID}/").respond(json=stopped)
    readiness = await cloud.workloads.lock_readiness(WID)
    assert readiness.get(CheckName.RUNS_SAVED_SPEC) == readiness.failed[1]
    assert readiness.failed[1].detail == (
        f"{TIME_JUDGED}; it has not been running since a (re)start"
    )


def test_assess_ignores_deployments_of_other_workloads() -> None:
    """A server that does not know the ``workloadId`` filter answers every deployment."""
    workload = parse_response(Workload, fixture("workload-running.json"))
    artifact = parse_response(Artifact, draft_artifact())
    other = {**fixture("deployment.json"), "workloadId": "0" * 24}
    readiness = assess(workload, artifact, [parse_response(Deployment, other)])
    assert readiness.ok
    assert readiness.deployments == ()
