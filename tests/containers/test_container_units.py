"""The container runtime's pure parts and engine discovery: no engine needed, never skipped."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from workloadlab.cli import build_parser
from workloadlab.server.runtimes import make_runtime
from workloadlab.server.runtimes.container.engine import (
    DEFAULT_DOCKER_SOCKET,
    SYSTEM_PODMAN_SOCKET,
    candidate_hosts,
    find_engine,
)
from workloadlab.server.runtimes.container.instance import describe_container_exit, format_bytes
from workloadlab.server.runtimes.container.logs import (
    Inbox,
    Item,
    LogCursor,
    LogPosition,
    parse_log_time,
)
from workloadlab.server.runtimes.process import ProcessRuntime
from workloadlab.server.settings import ServerSettings

EPOCH = int(dt.datetime(2026, 11, 27, 11, 7, 14, tzinfo=dt.UTC).timestamp())


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2026-11-27T11:07:14Z", (EPOCH, 0)),  # podman: whole seconds
        ("2026-11-27T11:07:14.123456789Z", (EPOCH, 123_456_789)),  # dockerd: nanoseconds
        ("2026-11-27T11:07:14.5Z", (EPOCH, 500_000_000)),  # trailing zeros trimmed
        ("2026-11-27T12:07:14.25+01:00", (EPOCH, 250_000_000)),
        ("not a time", None),
        ("2026-11-27 11:07:14", None),
    ],
)
def test_parse_log_time(text: str, parsed: tuple[int, int] | None) -> None:
    assert parse_log_time(text) == parsed


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (512, "512 bytes"),
        (2048, "2 KiB"),
        (16 * 1024 * 1024, "16 MiB"),
        (1536 * 1024 * 1024, "1.5 GiB"),
        (4 * 1024**4, "4096 GiB"),
    ],
)
def test_format_bytes(size: int, text: str) -> None:
    assert format_bytes(size) == text


MIB16 = 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("code", "options", "message"),
    [
        (0, {}, "exited (status 0)"),
        (3, {}, "exited with status 3"),
        (None, {}, "exited (status unknown: adopted after a server restart)"),
        (
            137,
            {"oom_killed": True, "memory": MIB16},
            "was killed: out of memory (OOM, limit 16 MiB)",
        ),
        (137, {"oom_killed": True}, "was killed: out of memory (OOM)"),
        (
            137,
            {"memory": MIB16},
            "was killed by signal 9 (SIGKILL; exit status 137), probably out of memory"
            " (limit 16 MiB)",
        ),
        (
            137,
            {"memory": MIB16, "killed_after": 3.0},
            "was killed by signal 9 (SIGKILL; exit status 137) after the 3 s grace period",
        ),
        (137, {}, "was killed by signal 9 (SIGKILL; exit status 137)"),
        (143, {"memory": MIB16}, "was killed by signal 15 (SIGTERM; exit status 143)"),
        (255, {}, "exited with status 255"),
    ],
)
def test_describe_container_exit(code: int | None, options: dict[str, Any], message: str) -> None:
    assert describe_container_exit(code, **options) == message


def _lines(*items: tuple[str, str]) -> bytes:
    return b"".join(f"{stamp} {text}\n".encode() for stamp, text in items)


SAME_SECOND = [("2026-11-27T11:07:14Z", text) for text in ("a", "b", "c")]


def test_cursor_splits_chunks_into_lines_and_tracks_its_position() -> None:
    cursor = LogCursor("stdout", LogPosition())
    assert cursor.since() is None, "a fresh stream is read from its start"
    data = _lines(*SAME_SECOND)
    assert cursor.feed(data[:25]) == ["a"]
    assert cursor.feed(data[25:]) == ["b", "c"]
    assert cursor.feed(b"2026-11-27T11:07:15Z no newline yet") == []
    assert cursor.feed(b"", final=True) == ["no newline yet"]
    assert cursor.read.as_json() == {"time": "2026-11-27T11:07:15Z", "count": 1}
    assert cursor.since() == EPOCH  # a second early: the engine may round the other way
    assert cursor.stored.as_json() == {"time": "", "count": 0}, "nothing handed over yet"
    cursor.mark_stored()
    assert cursor.stored == cursor.read


def test_cursor_skips_what_a_reconnection_repeats_within_the_same_second() -> None:
    # Two lines of a second were stored; the engine stamps whole seconds, so a reconnection
    # from that second repeats both before the third, new one.
    position = LogPosition.from_json({"time": "2026-11-27T11:07:14Z", "count": 2})
    cursor = LogCursor("stderr", position)
    assert cursor.since() == EPOCH - 1
    cursor.connect()
    earlier = [("2026-11-27T11:07:13Z", "older")]
    assert cursor.feed(_lines(*earlier, *SAME_SECOND, ("2026-11-27T11:07:16Z", "d"))) == [
        "c",
        "d",
    ]
    # Reconnecting again repeats everything again: nothing new comes out.
    cursor.connect()
    assert cursor.feed(_lines(*SAME_SECOND, ("2026-11-27T11:07:16Z", "d"))) == []
    assert cursor.feed(_lines(("2026-11-27T11:07:16Z", "e"))) == ["e"]
    assert cursor.read.as_json() == {"time": "2026-11-27T11:07:16Z", "count": 2}


def test_cursor_with_nanosecond_stamps_and_odd_lines() -> None:
    cursor = LogCursor("stdout", LogPosition.from_json({"time": "2026-11-27T11:07:14.2Z"}))
    cursor.connect()
    lines = _lines(
        ("2026-11-27T11:07:14.1Z", "old"),
        ("2026-11-27T11:07:14.3Z", "new"),
    )
    assert cursor.feed(lines + b"no timestamp at all\n" + b"x" * 70_000 + b"\n") == [
        "new",
        "no timestamp at all",
        "x" * 16 * 1024 + " [line truncated]",
    ]
    assert LogPosition.from_json({"time": "garbage"}) == LogPosition()
    assert LogPosition.from_json(None) == LogPosition()


def test_cursor_cuts_a_runaway_line_and_drops_its_rest() -> None:
    # As the process runtime does: the rest of a line cut while it was still being written is
    # not a line of its own (it has no timestamp, so a reconnection would repeat it).
    cursor = LogCursor("stdout", LogPosition())
    assert cursor.feed(b"2026-11-27T11:07:14Z " + b"x" * 70_000) == [
        "x" * 16 * 1024 + " [line truncated]"
    ]
    assert cursor.feed(b"x" * 5_000 + b"\n2026-11-27T11:07:15Z next\n") == ["next"]
    assert cursor.read.as_json() == {"time": "2026-11-27T11:07:15Z", "count": 1}


def test_candidate_hosts_order() -> None:
    env = {"DOCKER_HOST": "tcp://10.0.0.1:2375", "XDG_RUNTIME_DIR": "/run/user/1000"}
    assert candidate_hosts(env) == [
        "tcp://10.0.0.1:2375",
        DEFAULT_DOCKER_SOCKET,
        SYSTEM_PODMAN_SOCKET,
        "unix:///run/user/1000/podman/podman.sock",
    ]
    assert candidate_hosts({"DOCKER_HOST": DEFAULT_DOCKER_SOCKET}) == [
        DEFAULT_DOCKER_SOCKET,
        SYSTEM_PODMAN_SOCKET,
    ]


def _default_sockets_exist() -> bool:
    return any(Path(h.removeprefix("unix://")).exists() for h in candidate_hosts({}))


def test_find_engine_without_any(tmp_path: Path) -> None:
    if _default_sockets_exist():
        pytest.skip("this machine has an engine socket at a default place")
    env = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock", "XDG_RUNTIME_DIR": str(tmp_path)}
    assert find_engine(env) is None


def test_auto_runtime_falls_back_to_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if _default_sockets_exist():
        pytest.skip("this machine has an engine socket at a default place")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    runtime = make_runtime(ServerSettings(data_dir=tmp_path / "data", runtime="auto"))
    assert isinstance(runtime, ProcessRuntime)


@pytest.mark.parametrize("runtime", ["process", "container", "auto"])
def test_cli_runtime_choices(runtime: str) -> None:
    assert build_parser().parse_args(["serve", "--runtime", runtime]).runtime == runtime


def _data(inbox: Inbox) -> list[tuple[int, str, str, bytes, int]]:
    """What the consumer would take, in order."""
    taken = []
    while (item := inbox.take()) is not None:
        taken.append((item.index, item.stream, item.kind, bytes(item.data), item.skipped))
    return taken


async def test_inbox_keeps_the_newest_data_and_counts_what_it_dropped() -> None:
    inbox = Inbox(asyncio.get_running_loop(), limit=30)
    inbox.put(Item(0, "stdout", "connect"))
    inbox.put(Item(0, "stderr", "data", b"e" * 10))
    for chunk in (b"a" * 10, b"b" * 10, b"c" * 10, b"d" * 10):
        inbox.put(Item(0, "stdout", "data", chunk))
    inbox.put(Item(0, "stdout", "end"))
    assert _data(inbox) == [
        (0, "stdout", "connect", b"", 0),
        (0, "stderr", "skipped", b"", 10),  # the oldest data went first, whatever its stream
        (0, "stdout", "skipped", b"", 30),  # a, b and c, merged into one item, went together
        (0, "stdout", "data", b"d" * 10, 0),
        (0, "stdout", "end", b"", 0),
    ]
    inbox.put(Item(0, "stdout", "final", b"f" * 100), force=True)  # the last read: all of it
    assert _data(inbox) == [(0, "stdout", "final", b"f" * 100, 0)]


async def test_inbox_merges_a_streams_chunks_and_wakes_the_loop_once() -> None:
    inbox = Inbox(asyncio.get_running_loop())
    woken = asyncio.create_task(inbox.wait())

    def follower() -> None:
        for n in range(1000):
            inbox.put(Item(1, "stdout", "data", b"line %d\n" % n))

    await asyncio.to_thread(follower)
    await asyncio.wait_for(woken, 5)
    taken = _data(inbox)
    assert len(taken) < 10, "merged into few items"
    assert b"".join(item[3] for item in taken) == b"".join(b"line %d\n" % n for n in range(1000))
    assert not inbox._ready.is_set(), "empty: the next put wakes the loop again"
