"""The magics on both generations of the Workload API, each against a real local server of that
profile: lock (register, or promote), deploy (a deployment, or promote / a new production
workload), restart (stop + start, or rolling through settings), and the v2.41-only
subcommands refusing in one line on the current generation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from test_magics_governance import edit_greeting

from workloadlab.client import Generation
from workloadlab.commands import CommandError
from workloadlab.commands.current import rollback_target
from workloadlab.commands.restarting import RestartWay, restart_way
from workloadlab.models import Deployment, WorkloadStatus
from workloadlab.models.neutral import Workload

from harness import LocalServer, kill_marked, running_server, wait_until
from magictools import all_text, magic, refusal, spec_file

PROFILES = {"v2.41": [], "current": ["--api", "current"]}


@pytest.fixture(scope="module", params=list(PROFILES))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServer]:
    """A local server of each profile (one per profile, for the module)."""
    data_dir = tmp_path_factory.mktemp(f"server-{request.param}")
    with running_server(data_dir, *PROFILES[request.param]) as started:
        yield started
    kill_marked(data_dir)


def profile(server: LocalServer) -> Generation:
    return Generation.CURRENT if "current" in server.extra_args else Generation.V2_41


def test_lock_registers_or_promotes_and_keeps_the_endpoint(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    with capture_output():
        created: Workload = magic(shell, f"create {spec_file(tmp_path)} --name locking")
    with capture_output() as captured:
        locked = magic(shell, "lock --yes")
    shown = all_text(captured)
    assert locked.is_registered
    assert locked.version == 1
    assert "✓ running and ready" in shown
    if profile(server) is Generation.CURRENT:
        assert "workload 'locking' is promoted" in shown
        assert "locked as version 1" in shown
        with server.client() as api:
            history = api.get(f"/workloads/{created.id}/history").json()["data"]
        assert history[0]["candidateArtifactId"] == locked.id, "locked by promote"
    else:
        assert "registered as version 1" in shown
    after: Workload = magic(shell, "status")
    assert after.status is WorkloadStatus.RUNNING, "not restarted"
    assert after.id == created.id
    message, _ = refusal(shell, "lock --yes")
    word = "locked" if profile(server) is Generation.CURRENT else "registered"
    assert message == f"artifact 'hello-artifact' is already {word} (version 1)"


def test_deploy_promotes_this_workload_or_creates_a_deployment(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    with capture_output():
        created: Workload = magic(shell, f"create {spec_file(tmp_path)} --name promoting")
    with capture_output() as captured:
        result = magic(shell, "deploy --yes")
    shown = all_text(captured)
    assert "✓ not already deployed" in shown
    if profile(server) is Generation.CURRENT:
        assert isinstance(result, Workload)
        assert result.id == created.id, "the workload itself is production"
        assert result.status is WorkloadStatus.RUNNING
        assert "its endpoint is unchanged" in shown
        assert magic(shell, "spec").is_registered
        with capture_output() as captured:
            again = magic(shell, "deploy --yes")
        assert again.id == created.id
        assert "promoting already runs locked version 1: it is production" in captured.stdout
        message, _ = refusal(shell, "deploy --yes --name prod")
        assert message.startswith("--name names a v2.41 deployment")
    else:
        assert isinstance(result, Deployment)
        assert result.workload_id == created.id
        message, _ = refusal(shell, "deploy --yes --new prod")
        assert message.startswith("--new is the current generation's")


@pytest.mark.parametrize("server", ["current"], indirect=True)
def test_deploy_new_makes_a_production_workload_of_the_locked_artifact(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    with capture_output():
        created: Workload = magic(shell, f"create {spec_file(tmp_path)} --name dev")
    # Both workloads of the one artifact run: the new one on a free port in $PORT (the process
    # runtime gives it one, as the spec's port is the dev workload's).
    with capture_output() as captured:
        production: Workload = magic(shell, "deploy --yes --new --importance high")
    assert "Promoted: 'dev'" in captured.stdout
    assert production.name == "dev-prod"
    assert production.status is WorkloadStatus.RUNNING
    with server.client() as api:
        dev = api.get(f"/workloads/{created.id}").json()
        made = api.get(f"/workloads/{production.id}").json()
        assert made["importance"] == "high"
        assert made["artifactId"] == dev["artifactId"], "the same locked artifact"
        assert made["runtime"] == dev["runtime"]
        assert dev["status"] == "running"
        for workload_id in (created.id, production.id):
            assert api.get(f"/endpoints/workloads/{workload_id}/").status_code == 200


def test_restart_rolls_a_running_workload_on_the_current_generation(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    with capture_output():
        created: Workload = magic(shell, f"create {spec_file(tmp_path, 'one')} --name rolling")
    edit_greeting(shell, "two")
    with capture_output() as captured:
        restarted: Workload = magic(shell, "restart")
    shown = all_text(captured)
    assert restarted.status is WorkloadStatus.RUNNING
    assert magic(shell, "lock --yes").is_registered, "the saved spec runs now"
    if profile(server) is Generation.CURRENT:
        assert "switched (rolling)" in shown
        with server.client() as api:
            history = api.get(f"/workloads/{created.id}/history").json()["data"]
            events = api.get(f"/workloads/{created.id}/events").json()["data"]
        assert any(record["status"] == "completed" for record in history[1:])
        assert not any(e.get("type") == "workload.stopped" for e in events), "never stopped"
    else:
        assert "switched (rolling)" not in shown


@pytest.mark.parametrize("server", ["current"], indirect=True)
def test_v241_only_subcommands_refuse_in_one_line_on_the_current_generation(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    with capture_output():
        magic(shell, f"create {spec_file(tmp_path)} --name nodeploy")
    message, _ = refusal(shell, "deployments")
    assert message.startswith("%workload deployments: the current generation")
    assert "`%workload deploy --new NAME`" in message
    message, _ = refusal(shell, "undeploy something --yes")
    assert message.startswith("%workload undeploy: the current generation")
    with capture_output() as captured:
        assert magic(shell, "versions") == []
    assert "No locked versions" in captured.stdout
    message, _ = refusal(shell, "rollback")
    assert message == "not rolled back: the workload runs a draft (`%workload lock` first)"
    with capture_output():
        magic(shell, "stop")  # no deployment to protect: no --force needed
        magic(shell, "delete --yes")


def test_the_ways_are_decided_by_generation_and_status() -> None:
    running, stopped = WorkloadStatus.RUNNING, WorkloadStatus.STOPPED
    assert restart_way(Generation.CURRENT, running) is RestartWay.ROLLING
    assert restart_way(Generation.CURRENT, stopped) is RestartWay.STOP_START
    assert restart_way(Generation.V2_41, running) is RestartWay.STOP_START
    versions = {1: "a1", 2: "a2", 3: "a3"}
    assert rollback_target(versions, 3, None) == "a2"
    assert rollback_target(versions, 2, 3) == "a3"
    for running_version, wanted, why in (
        (1, None, "version 1 is the first locked version"),
        (2, 2, "the workload already runs version 2"),
        (3, 7, "no locked version 7 (there are 1, 2, 3)"),
    ):
        with pytest.raises(CommandError, match=re.escape(f"not rolled back: {why}")):
            rollback_target(versions, running_version, wanted)


@pytest.mark.parametrize("server", ["current"], indirect=True)
def test_rollback_on_the_current_generation_replaces_the_workload_with_the_older_version(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    with capture_output():
        created: Workload = magic(shell, f"create {spec_file(tmp_path)} --name versioned")
        first = magic(shell, "lock --yes")
    with server.client() as api:
        clone = api.post(f"/artifacts/{first.id}/clone", json={"name": "hello-artifact"}).json()
        second = api.patch(f"/artifacts/{clone['id']}/", json={"status": "locked"}).json()
        moved = api.post(
            f"/workloads/{created.id}/replacement",
            json={"artifactId": second["id"], "strategy": "rolling"},
        )
        assert moved.status_code == 202, moved.text
    wait_until(lambda: magic(shell, "status").artifact_id == second["id"], timeout=30)
    with capture_output() as captured:
        versions = magic(shell, "versions")
    assert [v.version for v in versions] == [second["version"], first.version]
    with capture_output() as captured:
        back: Workload = magic(shell, "rollback")
    assert back.artifact_id == first.id
    assert back.status is WorkloadStatus.RUNNING
    assert f"runs version {first.version} (was version {second['version']})" in captured.stdout
    message, _ = refusal(shell, f"rollback {first.version}")
    assert message == f"not rolled back: the workload already runs version {first.version}"
