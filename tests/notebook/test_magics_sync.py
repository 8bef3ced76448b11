"""``%workload sync`` in a real IPython shell: against the module's local server a save makes
the new answer come through ``%workload invoke``, and ``--off`` stops it; against DataRobot
(respx) it refuses in one line."""

from __future__ import annotations

from pathlib import Path

import respx
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workloadlab.notebook.session import get_session
from workloadlab.sync import NOT_LOCAL, syncs_of

from harness import free_port, wait_until
from magictools import magic, refusal
from synctools import app_spec, sync_threads, write_app

WID = "6650c1d2e3f4a5b6c7d8ea01"


def test_sync_restarts_onto_the_saved_file(shell: InteractiveShell, tmp_path: Path) -> None:
    app = write_app(tmp_path / "app", "before")
    shell.user_ns["spec"] = app_spec(app, free_port())
    with capture_output():
        workload = shell.run_line_magic("workload", "create $spec --name magic-sync")
    assert magic(shell, "invoke /") == {"answer": "before"}
    with capture_output() as captured:
        sync = magic(shell, "sync")
    assert f"⟳ live sync of magic-sync: watching {app.parent.resolve()}" in captured.stdout
    assert syncs_of(get_session()).get(workload.id) is sync

    write_app(app.parent, "after")
    wait_until(lambda: sync.syncs == 1 and sync.state.value == "watching", timeout=60)
    assert magic(shell, "invoke /") == {"answer": "after"}

    with capture_output() as captured:
        magic(shell, "sync --off")
    assert "⏹ live sync of magic-sync stopped" in captured.stdout
    assert not sync.running
    assert not sync_threads()
    message, _ = refusal(shell, "sync --off elsewhere")
    assert "takes no PATH" in message
    with capture_output():
        magic(shell, "delete --yes")


def test_sync_of_a_missing_path_refuses(shell: InteractiveShell, tmp_path: Path) -> None:
    app = write_app(tmp_path / "app", "x")
    shell.user_ns["spec"] = app_spec(app, free_port())
    with capture_output():
        shell.run_line_magic("workload", "create $spec --name magic-sync-missing --no-wait")
    message, _ = refusal(shell, f"sync {tmp_path / 'nowhere'}")
    assert message == f"%workload sync: {tmp_path / 'nowhere'} does not exist on this machine"
    with capture_output():
        magic(shell, "delete --yes")


def test_sync_refuses_on_datarobot_in_one_line(
    cloud_shell: tuple[InteractiveShell, respx.MockRouter],
) -> None:
    shell, router = cloud_shell
    router.get("/localServer").respond(404, json={"message": "Not Found"})
    message, printed = refusal(shell, f"sync --id {WID}")
    assert message == f"%workload sync: {NOT_LOCAL}"
    assert "image build" in message
    assert "Traceback" not in printed
