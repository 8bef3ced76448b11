"""Log ingestion shared by both runtimes: line splitting, cutting, decoding, levels, batches,
the line budget and the markers of skipped output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from logsink import Sink
from workloadlab.server.runtimes.logs import (
    MAX_LINE_BYTES,
    LineSplitter,
    LogBatch,
    LogBudget,
    decode_line,
    skipped_message,
)
from workloadlab.server.store import LogLine


def test_splitter_holds_back_an_unfinished_line_until_its_newline_or_the_end() -> None:
    lines = LineSplitter()
    assert lines.split(b"one\ntw") == [b"one"]
    assert lines.buffered == 2
    assert lines.split(b"o\n\nthree") == [b"two", b""]
    assert lines.split(b"", final=True) == [b"three"]
    assert lines.buffered == 0


def test_splitter_delivers_a_runaway_line_and_drops_the_rest_of_it() -> None:
    lines = LineSplitter(limit=10)
    assert lines.split(b"a" * 11) == [b"a" * 11]
    assert lines.buffered == 0, "nothing of a runaway line is kept"
    assert lines.split(b"a" * 50) == []
    assert lines.split(b"aaa\nnext\n") == [b"next"]
    lines.split(b"b" * 20)
    lines.reset()  # a new connection starts at the start of a line
    assert lines.split(b"fresh\n") == [b"fresh"]


def test_decode_line_cuts_marks_and_replaces() -> None:
    assert decode_line(b"plain\r") == "plain"
    assert decode_line(b"bad \xff byte") == "bad \ufffd byte"
    assert decode_line(b"y" * MAX_LINE_BYTES) == "y" * MAX_LINE_BYTES
    cut = decode_line(b"y" * (MAX_LINE_BYTES + 1))
    assert cut == "y" * MAX_LINE_BYTES + " [line truncated]"
    assert decode_line(cut.encode()) == cut, "cutting twice changes nothing"


async def test_batch_levels_records_and_delivers_them_with_the_state_of_delivery() -> None:
    sink = Sink()
    offsets = {"stdout": 0}
    batch = LogBatch(sink, lambda: {"offsets": dict(offsets)})
    batch.add([], "stdout", "app")
    await batch.deliver()
    assert sink.states == [], "nothing read: the sink is not called"
    batch.add(["hello", "WARNING: low disk"], "stdout", "app")
    batch.add(["Traceback (most recent call last):"], "stderr", "app")
    offsets["stdout"] = 42
    assert len(batch) == 3
    await batch.deliver()
    assert [(line.stream, line.level, line.message) for line in sink.lines] == [
        ("stdout", "info", "hello"),
        ("stdout", "warning", "WARNING: low disk"),
        ("stderr", "error", "Traceback (most recent call last):"),
    ]
    assert {line.container_name for line in sink.lines} == {"app"}
    assert sink.states == [{"offsets": {"stdout": 42}}]
    assert len(batch) == 0


async def test_a_failing_sink_loses_the_batch_and_not_the_reader(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    async def failing(lines: Sequence[LogLine], state: dict[str, Any]) -> None:
        calls.append(len(lines))
        raise OSError("disk full")

    batch = LogBatch(failing, dict)
    batch.add(["a", "b"], "stdout", "app")
    await batch.deliver()
    await batch.deliver()
    assert calls == [2], "a lost batch is not delivered again"
    assert "storing 2 log lines failed" in caplog.text


def test_splitter_resync_drops_the_rest_of_the_line_in_progress() -> None:
    lines = LineSplitter()
    assert lines.split(b"whole\nhalf of a li") == [b"whole"]
    lines.resync()  # bytes were lost here
    assert lines.split(b"ne that lost its start\nnext\n") == [b"next"]


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_budget_allows_a_burst_then_its_rate_and_pays_off_debts_first() -> None:
    clock = Clock()
    budget = LogBudget(rate=1000, burst=200, clock=clock)
    assert budget.available() == 200
    budget.spend(200)
    assert budget.available() == 0
    assert budget.wait_time() == pytest.approx(0.001)
    clock.now += 0.05
    assert budget.available() == 50
    clock.now += 10
    assert budget.available() == 200, "never more than the burst"
    budget.spend(500)  # a chunk held more lines than were available
    clock.now += 0.2
    assert budget.available() == 0
    assert budget.wait_time() == pytest.approx(0.101)
    clock.now += 0.101
    assert budget.available() == 1


async def test_skipped_output_is_told_before_the_next_lines_at_most_once_a_second() -> None:
    clock = Clock()
    sink = Sink()
    batch = LogBatch(sink, dict, clock=clock)
    batch.skip(1000, "stdout", "app")
    batch.add(["after the gap"], "stdout", "app")
    await batch.deliver()
    assert sink.messages == [skipped_message(1000), "after the gap"]
    assert (sink.lines[0].level, sink.lines[0].stream) == ("warning", "stdout")
    assert skipped_message(1234567) == "… 1,234,567 bytes of output skipped"

    clock.now += 0.5  # within the second: summed up, told later
    batch.skip(10, "stdout", "app")
    batch.add(["a"], "stdout", "app")
    batch.skip(20, "stdout", "app")
    batch.add(["b"], "stdout", "app")
    batch.skip(5, "stderr", "app")  # another stream is told on its own
    batch.add(["c"], "stderr", "app")
    await batch.deliver()
    assert sink.messages[2:] == ["a", "b", skipped_message(5), "c"]
    clock.now += 0.6
    await batch.deliver()  # its second is up: told even without lines after it
    assert sink.messages[-1] == skipped_message(30)

    batch.skip(7, "stdout", "app")
    await batch.deliver(final=True)  # the end: told at once
    assert sink.messages[-1] == skipped_message(7)
