"""The process runtime's log files: read at byte offsets, truncated under a writer that appends
to them (as a workload process does, ``O_APPEND``), skipped ahead when too far behind."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workloadlab.server.runtimes.process.logfile import (
    HARD_SHARE,
    KEEP_TAIL,
    SKIP_BEHIND,
    SOFT_SHARE,
    LogCapper,
    LogFile,
)

CAP = 16 * 1024 * 1024
"""``--log-cap-bytes`` of these tests: truncated at 1 MiB when read, at 2 MiB read or not."""


class Writer:
    """A workload's end of a log file: ``O_APPEND`` writes, numbered lines."""

    def __init__(self, path: Path) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        self.fd = os.open(path, flags, 0o600)
        self.count = 0

    def lines(self, count: int, width: int = 100) -> bytes:
        """Append ``count`` numbered lines of ``width`` bytes (newline included)."""
        chunk = b"".join(
            b"line %09d " % (self.count + i) + b"x" * (width - 16) + b"\n" for i in range(count)
        )
        self.count += count
        os.write(self.fd, chunk)
        return chunk

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "app.stdout"


@pytest.fixture
def writer(path: Path) -> Iterator[Writer]:
    opened = Writer(path)
    yield opened
    opened.close()


def read_all(log: LogFile, final: bool = False) -> list[str]:
    messages: list[str] = []
    while True:
        batch, more = log.read(250, final)
        messages += batch
        if not more:
            return messages


def test_reads_lines_in_steps_and_tracks_the_offset(path: Path, writer: Writer) -> None:
    writer.lines(600)
    log = LogFile(path, "stdout", 0, CAP)
    first, more = log.read(250, False)
    assert len(first) == 250
    assert more
    assert log.offset == 250 * 100
    assert read_all(log)[-1].startswith("line 000000599 ")
    assert log.offset == 600 * 100
    assert log.take_skipped() == 0


def test_a_file_read_to_its_end_is_truncated_and_nothing_is_lost(
    path: Path, writer: Writer
) -> None:
    log = LogFile(path, "stdout", 0, CAP)
    assert log.truncate_at == CAP // SOFT_SHARE
    lines = log.truncate_at // 100 + 1
    writer.lines(lines - 10)
    assert len(read_all(log)) == lines - 10
    assert path.stat().st_size == (lines - 10) * 100, "not yet"
    writer.lines(10)
    assert len(read_all(log)) == 10
    assert path.stat().st_size == 0, "all of it was read: cut to zero"
    assert log.offset == 0
    writer.lines(3)  # the writer goes on at the new end
    assert path.stat().st_size == 300
    assert [m[:14] for m in read_all(log)] == [f"line {lines + i:09d}" for i in range(3)]
    assert log.take_skipped() == 0


def test_the_capper_truncates_an_unread_file_keeping_its_last_lines(
    path: Path, writer: Writer
) -> None:
    log = LogFile(path, "stdout", 0, CAP)
    assert log.hard_limit == CAP // HARD_SHARE
    lines = log.hard_limit // 100 + 10
    log.enforce_cap(time.monotonic())  # the first look: an empty file
    writer.lines(lines)
    log.enforce_cap(time.monotonic() + 60)  # grown slowly, but past the hard limit
    assert path.stat().st_size == 0
    writer.lines(2)  # while the tail waits in memory
    messages = read_all(log)
    kept = KEEP_TAIL // 100  # its last 64 KiB, from the first whole line on
    assert messages[0] == f"line {lines - kept:09d} " + "x" * 84
    assert [m[:14] for m in messages[-3:]] == [f"line {lines + i - 1:09d}" for i in range(3)]
    assert len(messages) == kept + 2
    assert log.take_skipped() == (lines - kept) * 100, "skipped: all but what was kept"


def test_the_capper_truncates_a_fast_growing_file_before_its_limit(
    path: Path, writer: Writer
) -> None:
    log = LogFile(path, "stdout", 0, CAP)
    now = time.monotonic()
    log.enforce_cap(now)
    writer.lines(5000)  # 500 kB in 5 ms: 100 MB/s would fill half the cap in 80 ms
    log.enforce_cap(now + 0.005)
    assert path.stat().st_size == 500_000, "not yet: 50 ms of it fit in half the cap"
    writer.lines(10_000)  # 1 MB in 5 ms: 200 MB/s, 10 MB in 50 ms
    log.enforce_cap(now + 0.010)
    assert path.stat().st_size == 0
    messages = read_all(log)
    assert log.take_skipped() + len(messages) * 100 == 1_500_000, "every byte counted"


def test_a_backlog_is_skipped_to_its_last_lines_instead_of_read(path: Path, writer: Writer) -> None:
    writer.lines(20)
    log = LogFile(path, "stdout", 0, CAP)
    assert len(read_all(log)) == 20
    lines = SKIP_BEHIND // 100 + 100
    writer.lines(lines)
    messages = read_all(log)
    assert messages[-1].startswith(f"line {20 + lines - 1:09d}")
    assert len(messages) == KEEP_TAIL // 100
    assert log.take_skipped() + len(messages) * 100 == lines * 100, "every byte counted"


def test_a_stored_offset_past_the_end_means_the_file_was_cut_meanwhile(
    path: Path, writer: Writer
) -> None:
    writer.lines(2)
    log = LogFile(path, "stdout", 1_000_000, CAP)  # as a new server adopts it
    assert [m[:14] for m in read_all(log)] == ["line 000000000", "line 000000001"]


def test_final_read_completes_an_unterminated_line_and_leaves_the_file(
    path: Path, writer: Writer
) -> None:
    writer.lines(1)
    os.write(writer.fd, b"no newline")
    log = LogFile(path, "stdout", 0, CAP)
    assert len(read_all(log)) == 1
    assert read_all(log, final=True) == ["no newline"]
    assert path.stat().st_size == 110


def test_the_capper_thread_keeps_watched_files_small(path: Path, writer: Writer) -> None:
    capper = LogCapper(CAP)
    log = LogFile(path, "stdout", 0, CAP)
    capper.watch(log)
    try:
        writer.lines(log.hard_limit // 100 + 1)
        deadline = time.monotonic() + 5
        while path.stat().st_size and time.monotonic() < deadline:
            time.sleep(0.005)
        assert path.stat().st_size == 0
        capper.unwatch(log)
        writer.lines(log.hard_limit // 100 + 1)
        time.sleep(0.05)
        assert path.stat().st_size > log.hard_limit, "an unwatched file is left alone"
    finally:
        capper.close()
        log.close()
