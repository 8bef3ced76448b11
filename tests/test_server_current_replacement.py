"""Applying edits to a running workload on the current API generation: promote, ``PATCH
…/settings`` and ``POST …/replacement`` (rolling, on the supervisor's rolling changes), with an
invoke loop running: every answer ``200``, exactly one switch."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from currenttools import CURRENT, create, current_artifact, runtime, wait_for
from rollouttools import InvokeLoop, runs, wait_marked

from harness import (
    LocalServer,
    free_port,
    kill_marked,
    processes_marked,
    running_server,
    wait_until,
)


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One ``--api current`` server for the module (completed replacements linger 2 s)."""
    data_dir = tmp_path_factory.mktemp("current")
    with running_server(data_dir, *CURRENT, "--replacement-linger", "2s") as started:
        yield started
    kill_marked(data_dir)


def replacement_over(capi: httpx.Client, workload_id: str) -> dict[str, Any]:
    """Wait, as a client does, until the workload has no replacement under way; the newest
    history record."""
    wait_until(lambda: capi.get(f"/workloads/{workload_id}").json()["replacement"] is None)
    newest: dict[str, Any] = capi.get(f"/workloads/{workload_id}/history").json()["data"][0]
    return newest


def with_greeting(spec: dict[str, Any], greeting: str) -> dict[str, Any]:
    """``spec`` with its ``GREETING`` variable changed."""
    changed = copy.deepcopy(spec)
    changed["containerGroups"][0]["containers"][0]["environmentVars"][0]["value"] = greeting
    return changed


def test_settings_roll_onto_the_current_spec_without_a_503(
    capi: httpx.Client, current: LocalServer
) -> None:
    artifact = current_artifact(free_port(), "old")
    workload = create(capi, "rolling", {"artifact": artifact})
    workload_id = workload["id"]
    running = wait_for(capi, workload_id, "running")
    settings = capi.get(f"/workloads/{workload_id}/settings").json()
    assert settings == {"runtime": runtime()}

    edited = capi.patch(
        f"/artifacts/{workload['artifactId']}",
        json={"spec": with_greeting(artifact["spec"], "new")},
    )
    assert edited.status_code == 200, edited.text
    with InvokeLoop(current, f"/endpoints/workloads/{workload_id}/") as calls:
        calls.wait_for(20)
        assert runs(calls.greetings()) == ["old"], "edits are never picked up alone"
        patched = capi.patch(f"/workloads/{workload_id}/settings", json=settings)
        assert patched.status_code == 202, patched.text
        replacement = patched.json()
        assert replacement["candidateArtifactId"] == workload["artifactId"]
        assert replacement["previousProtonIds"] == [running["protonId"]]
        assert replacement["status"] in ("submitted", "initializing")
        again = capi.patch(f"/workloads/{workload_id}/settings", json=settings)
        assert again.status_code == 409, "one active replacement per workload"
        during = capi.get(f"/workloads/{workload_id}").json()
        assert during["status"] == "running"
        assert during["replacement"]["strategy"] == "rolling"
        newest = replacement_over(capi, workload_id)
        calls.wait_for(20)
    assert calls.failures() == [], calls.failures()[:3]
    assert runs(calls.greetings()) == ["old", "new"], "exactly one switch"
    assert newest["status"] == "completed"
    assert newest["id"] == replacement["id"]
    assert (
        newest["message"] == f"switched to draft {workload['artifactId']}; the old instance stops"
    )
    after = capi.get(f"/workloads/{workload_id}").json()
    assert after["protonId"] == newest["candidateProtonIds"][0] != running["protonId"]
    assert capi.get(f"/workloads/{workload_id}/replacement").json()["status"] == "completed"
    wait_until(lambda: capi.get(f"/workloads/{workload_id}/replacement").status_code == 404)
    gone = capi.get(f"/workloads/{workload_id}/replacement").json()
    assert gone == {"detail": "There is no active replacement for this workload."}
    events = [e["eventType"] for e in capi.get(f"/workloads/{workload_id}/events").json()["data"]]
    assert "workload.settingsUpdated" in events
    assert capi.delete(f"/workloads/{workload_id}").status_code == 204


def test_promote_then_replace_with_the_next_version(
    capi: httpx.Client, current: LocalServer
) -> None:
    artifact = current_artifact(free_port(), "v1")
    workload = create(capi, "promoted", {"artifact": artifact})
    workload_id, draft_id = workload["id"], workload["artifactId"]
    assert workload["expiresAt"] is not None
    early = capi.post(f"/workloads/{workload_id}/promote")
    assert early.status_code == 422, "nothing running yet"
    running = wait_for(capi, workload_id, "running")

    promoted = capi.post(f"/workloads/{workload_id}/promote")
    assert promoted.status_code == 202, promoted.text
    assert promoted.json()["artifact"]["status"] == "locked"
    assert promoted.json()["artifact"]["version"] == 1
    assert promoted.json()["expiresAt"] is None, "promote clears the TTL"
    assert promoted.json()["protonId"] == running["protonId"], "no restart"
    history = capi.get(f"/workloads/{workload_id}/history").json()["data"]
    assert history[0]["status"] == "completed"
    assert history[0]["candidateArtifactId"] == draft_id
    assert capi.post(f"/workloads/{workload_id}/promote").status_code == 422, "not a draft"
    assert capi.get(f"/workloads/{workload_id}/replacement").status_code == 404

    same = capi.post(
        f"/workloads/{workload_id}/replacement",
        json={"artifactId": draft_id, "strategy": "rolling"},
    )
    assert same.status_code == 422
    assert same.json()["detail"][0].startswith("Cannot replace with the same artifact")
    draft = capi.post("/artifacts/", json=current_artifact(free_port(), "draft")).json()
    mismatch = capi.post(
        f"/workloads/{workload_id}/replacement",
        json={"artifactId": draft["id"], "strategy": "rolling"},
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["detail"].startswith("Artifact status mismatch")

    clone = capi.post(f"/artifacts/{draft_id}/clone", json={"name": "hello-artifact"}).json()
    spec = with_greeting(artifact["spec"], "v2")
    assert capi.patch(f"/artifacts/{clone['id']}", json={"spec": spec}).status_code == 200
    locked = capi.patch(f"/artifacts/{clone['id']}", json={"status": "locked"}).json()
    assert locked["version"] == 2

    with InvokeLoop(current, f"/endpoints/workloads/{workload_id}/") as calls:
        calls.wait_for(10)
        body = {"artifactId": locked["id"], "strategy": "rolling", "runtime": runtime(cpu=0.5)}
        replaced = capi.post(f"/workloads/{workload_id}/replacement", json=body)
        assert replaced.status_code == 202, replaced.text
        assert replaced.json()["config"] == {"warmupDurationMinutes": 0, "keepOldVersionMinutes": 0}
        newest = replacement_over(capi, workload_id)
        calls.wait_for(10)
    assert calls.failures() == []
    assert runs(calls.greetings()) == ["v1", "v2"]
    assert newest["status"] == "completed"
    after = capi.get(f"/workloads/{workload_id}").json()
    assert after["artifactId"] == locked["id"]
    assert after["artifact"]["version"] == 2
    assert after["runtime"] == runtime(cpu=0.5), "the workload takes the candidate's runtime"
    history = capi.get(f"/workloads/{workload_id}/history").json()["data"]
    assert [h["candidateArtifactId"] for h in history] == [locked["id"], draft_id]
    assert capi.delete(f"/workloads/{workload_id}").status_code == 204


def test_a_replacement_that_never_gets_ready_errors_and_the_old_one_serves(
    capi: httpx.Client, current: LocalServer
) -> None:
    workload = create(capi, "steady", {"artifact": current_artifact(free_port(), "steady")})
    workload_id = workload["id"]
    wait_for(capi, workload_id, "running")
    broken = current_artifact(free_port(), "broken", name="other")
    main = broken["spec"]["containerGroups"][0]["containers"][0]
    main["readinessProbe"] = {"path": "/nowhere", "port": 1, "periodSeconds": 1}
    target = capi.post("/artifacts/", json=broken).json()
    with InvokeLoop(current, f"/endpoints/workloads/{workload_id}/") as calls:
        path = f"/workloads/{workload_id}/replacement"
        unsure = capi.post(path, json={"artifactId": target["id"]})
        assert unsure.status_code == 422, "strategy is required"
        started = capi.post(path, json={"artifactId": target["id"], "strategy": "rolling"})
        assert started.status_code == 202, started.text
        wait_until(
            lambda: (
                capi.get(f"/workloads/{workload_id}/replacement").json()["status"] == "initializing"
            )
        )
        check_protons(capi, workload_id, target["id"])
        cancelled = capi.delete(f"/workloads/{workload_id}/replacement")
        assert cancelled.status_code == 202
        ended = wait_until(
            lambda: (
                capi.get(f"/workloads/{workload_id}/replacement").json()
                if capi.get(f"/workloads/{workload_id}/replacement").json()["status"] == "errored"
                else None
            )
        )
        calls.wait_for(10)
    assert ended["message"] == "cancelled"
    assert calls.failures() == []
    assert runs(calls.greetings()) == ["steady"]
    assert capi.get(f"/workloads/{workload_id}").json()["artifactId"] == workload["artifactId"]
    assert capi.delete(f"/workloads/{workload_id}/replacement").status_code == 404
    assert [p["role"] for p in capi.get(f"/workloads/{workload_id}/protons").json()["data"]] == [
        "active"
    ]
    assert capi.delete(f"/workloads/{workload_id}").status_code == 204


def check_protons(capi: httpx.Client, workload_id: str, candidate_artifact: str) -> None:
    """During a replacement: the active proton serves, the candidate is launching, and each
    has its snapshot."""
    workload = capi.get(f"/workloads/{workload_id}").json()
    listed = capi.get(f"/workloads/{workload_id}/protons").json()["data"]
    assert [(p["role"], p["status"]) for p in listed] == [
        ("active", "running"),
        ("candidate", "launching"),
    ]
    active, candidate = listed
    assert active["id"] == workload["protonId"]
    assert candidate["id"] in workload["replacement"]["candidateProtonIds"]
    assert candidate["artifactId"] == candidate_artifact
    assert active["statusDetails"]["logTail"], "the active proton's log tail"
    one = capi.get(f"/workloads/{workload_id}/protons/{candidate['id']}")
    assert one.json() == candidate
    snapshot = capi.get(f"/workloads/{workload_id}/protons/{active['id']}/statusDetails").json()
    assert snapshot["overallStatus"]["state"] == "running"
    (replica,) = snapshot["replicas"]
    assert replica["status"] == "running"
    assert any(c["type"] == "Ready" and c["met"] for c in replica["conditions"])
    assert [(c["name"], c["ready"], c["status"]) for c in replica["containers"]] == [
        ("main", True, "running")
    ]
    launching = capi.get(f"/workloads/{workload_id}/protons/{candidate['id']}/statusDetails")
    assert launching.json()["replicas"][0]["status"] == "pending"
    assert capi.get(f"/workloads/{workload_id}/protons/{'0' * 24}").status_code == 404


def test_a_crash_mid_replacement_resumes_it_with_the_same_candidate(data_dir: Path) -> None:
    server = LocalServer(data_dir, list(CURRENT)).start()
    with server.client() as api:
        workload = create(api, "survivor", {"artifact": current_artifact(free_port(), "old")})
        workload_id = workload["id"]
        wait_for(api, workload_id, "running")
        (old_pid,) = processes_marked(data_dir)
        slow = current_artifact(free_port(), "new", env=[{"name": "STARTUP_DELAY", "value": "2"}])
        edited = api.patch(f"/artifacts/{workload['artifactId']}", json={"spec": slow["spec"]})
        assert edited.status_code == 200, edited.text
        settings = {"runtime": runtime(cpu=2)}
        assert api.patch(f"/workloads/{workload_id}/settings", json=settings).status_code == 202
        (new_pid,) = set(wait_marked(server, 2)) - {old_pid}
    server.kill()

    restarted = LocalServer(data_dir, list(CURRENT)).start()
    try:
        with restarted.client() as api:
            wait_until(lambda: api.get(f"/workloads/{workload_id}").json()["replacement"] is None)
            newest = api.get(f"/workloads/{workload_id}/history").json()["data"][0]
            assert newest["status"] == "completed", newest
            assert api.get(f"/endpoints/workloads/{workload_id}/").json()["greeting"] == "new"
            assert api.get(f"/workloads/{workload_id}").json()["runtime"] == runtime(cpu=2)
            assert wait_marked(restarted, 1) == [new_pid], "the same candidate took over"
    finally:
        restarted.stop()
