"""Two instances of one workload side by side in the process runtime (a rolling change): the one
that starts while the other is alive gets a slot and a free host port of its own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_process_runtime import HELLO, WL, free_port, get, make_spec

from logsink import Sink
from workloadlab.server.runtimes.process import ProcessRuntime, procinfo
from workloadlab.server.runtimes.process.instance import ProcessInstance
from workloadlab.server.settings import ServerSettings

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


async def test_an_instance_beside_another_gets_its_own_port_slot_and_logs(
    runtime: ProcessRuntime, settings: ServerSettings
) -> None:
    port = free_port()
    old_sink, new_sink = Sink(), Sink()
    old = await runtime.start(WL, make_spec(HELLO, port, GREETING="old"), old_sink)
    new = await runtime.start(WL, make_spec(HELLO, port, GREETING="new"), new_sink)
    assert isinstance(new, ProcessInstance)

    assert (old.slot, old.target) == (0, f"http://127.0.0.1:{port}")
    assert new.slot == 1
    assert new.port != port
    assert new.target == f"http://127.0.0.1:{new.port}"
    assert (new.port_for(port), new.port_for(9000)) == (new.port, 9000)
    assert (await get(old.target + "/")).json()["greeting"] == "old"
    assert (await get(new.target + "/")).json()["greeting"] == "new"
    # (Read once they answer: /proc shows the server's environment until the exec.)
    assert environ(new.pid)["PORT"] == str(new.port)
    assert environ(new.pid)["WORKLOADLAB_INSTANCE"] == runtime.marker(WL, 1)
    assert environ(old.pid)["WORKLOADLAB_INSTANCE"] == runtime.marker(WL)
    assert (new.state["slot"], new.state["port"], new.state["containerPort"]) == (
        1,
        new.port,
        port,
    )
    # Each writes its own log files, read by its own sink.
    await old_sink.wait_message(f"hello: serving on 127.0.0.1:{port}")
    await new_sink.wait_message(f"hello: serving on 127.0.0.1:{new.port}")
    assert not any("new" in m or str(new.port) in m for m in old_sink.messages)
    logs = settings.logs_dir
    assert {p.name for p in logs.iterdir()} == {
        f"{WL}.stdout",
        f"{WL}.stderr",
        f"{WL}@1.stdout",
        f"{WL}@1.stderr",
    }

    # The old one goes; the new one serves on. One that starts beside it now takes slot 0
    # again, with a free port too (the new one might hold the spec's port after a restart).
    await old.stop(5)
    assert (await get(new.target + "/")).json()["greeting"] == "new"
    third = await runtime.start(WL, make_spec(HELLO, port, GREETING="third"), Sink())
    assert isinstance(third, ProcessInstance)
    assert third.slot == 0
    assert third.port not in (port, new.port)
    assert (await get(third.target + "/")).json()["greeting"] == "third"
    await third.stop(5)
    await new.stop(5)
    runtime.forget(WL)
    assert list(logs.iterdir()) == []


async def test_both_instances_are_adopted_and_kept_by_a_sweep(
    runtime: ProcessRuntime, settings: ServerSettings
) -> None:
    port = free_port()
    old = await runtime.start(WL, make_spec(HELLO, port, GREETING="old"), Sink())
    new = await runtime.start(WL, make_spec(HELLO, port, GREETING="new"), Sink())
    await get(new.target + "/")
    await runtime.close()  # as a server that is killed: the processes run on

    second = ProcessRuntime(settings)
    try:
        adopted_old = await second.adopt(WL, old.state, Sink())
        adopted_new = await second.adopt(WL, new.state, Sink())
        assert adopted_old is not None
        assert isinstance(adopted_new, ProcessInstance)
        assert (adopted_new.slot, adopted_new.target) == (1, new.target)
        assert adopted_new.port_for(port) == new.port
        assert await second.sweep([adopted_old, adopted_new]) == []
        # Keep only the new one (a switch that the old one did not outlive): the old one is an
        # orphan of its workload, and only it is killed.
        assert await second.sweep([adopted_new]) == [
            f"killed orphan process {old.state['pid']} of workload {WL}"
        ]
        assert procinfo.is_running(new.state["pid"], new.state["startTime"])
        assert (await get(adopted_new.target + "/")).json()["greeting"] == "new"
        await adopted_new.stop(5)
    finally:
        await second.sweep([])
        await second.close()


async def test_forget_others_removes_every_slot_of_a_deleted_workload(
    runtime: ProcessRuntime, settings: ServerSettings
) -> None:
    logs = settings.logs_dir
    logs.mkdir(parents=True)
    for name in ("gone.stdout", "gone@1.stderr", "kept@1.stdout", "kept.stderr", "x@y.stdout"):
        (logs / name).write_text("")

    removed = runtime.forget_others(["kept"])

    assert removed == ["removed the log files of deleted workload gone"]
    assert sorted(p.name for p in logs.iterdir()) == [
        "kept.stderr",
        "kept@1.stdout",
        "x@y.stdout",  # not a workload's
    ]
