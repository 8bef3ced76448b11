"""Log ingestion, the same for both runtimes: output bytes → lines → records → the sink.

Each runtime reads output its own way (the process runtime tails files from byte offsets, the
container runtime follows the engine's timestamped streams) and hands what it read to the
pieces here, so a line is cut, decoded, levelled and stored the same way whoever ran it:

- :class:`LineSplitter` cuts a byte stream into complete lines. A line that grows past its
  limit without a newline is delivered cut and the rest of it dropped, so a runaway line never
  holds memory.
- :func:`decode_line` turns one line into a message: at most :data:`MAX_LINE_BYTES` (then
  :data:`TRUNCATED`), without a trailing CR, UTF-8 (undecodable bytes replaced).
- :class:`LogBatch` turns messages into :class:`~workloadlab.server.store.LogLine` records (the
  time of reading, the level the line states or its stream's default) and hands them to the
  sink in one call together with the instance's state, so lines and resume points are stored in
  one transaction. A sink that fails loses that batch (logged), never the reader. Output that
  was skipped becomes one marker line (:func:`skipped_message`), at most one a second per
  stream however often it is skipped.

**Bounded work.** An app can write far more than anyone can read (hundreds of MB/s), and every
line stored costs the server's one event loop some 10 µs. So each instance may ingest at most
:data:`LINES_PER_SECOND` lines a second (:class:`LogBudget`, a token bucket with a burst of
:data:`BURST_LINES`), in steps of at most :data:`STEP_LINES` lines between which the loop serves
others. What an instance writes faster than that piles up unread until the runtime skips it
(the process runtime jumps to near the end of its files; the container runtime drops what its
bounded buffer cannot hold), leaving a marker that says how much was skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from workloadlab.models import format_timestamp, utcnow
from workloadlab.server.runtimes.base import LogSink
from workloadlab.server.runtimes.levels import line_level
from workloadlab.server.store import LogLine

logger = logging.getLogger("workloadlab.server")

MAX_LINE_BYTES = 16 * 1024
"""Longer lines are cut here (and the rest of the line dropped)."""
TRUNCATED = b" [line truncated]"
"""What follows a line cut at :data:`MAX_LINE_BYTES`."""
LINES_PER_SECOND = 5000
"""Lines an instance may ingest a second, sustained (see :class:`LogBudget`)."""
BURST_LINES = 2000
"""Lines an instance may ingest at once after a quiet spell (a start-up's burst)."""
STEP_LINES = 250
"""Lines read, levelled and handed on in one go, before the event loop serves others."""
MARKER_INTERVAL = 1.0
"""Skipped output of one stream is told at most once per this many seconds (summed up)."""
MARKER_LEVEL = "warning"


def skipped_message(skipped: int) -> str:
    """The marker line of ``skipped`` bytes of output that were not read."""
    return f"… {skipped:,} bytes of output skipped"


def decode_line(line: bytes) -> str:
    """The message of one line (without its newline): cut, without a trailing CR, decoded."""
    if len(line) > MAX_LINE_BYTES:
        line = line[:MAX_LINE_BYTES] + TRUNCATED
    return line.rstrip(b"\r").decode("utf-8", errors="replace")


class LineSplitter:
    """Complete lines (without their newlines) of a byte stream fed in chunks."""

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        """How long an unterminated line may grow before it is delivered as it is (and the
        rest of it dropped when it arrives)."""
        self._pending = b""
        self._skipping = False

    @property
    def buffered(self) -> int:
        """Bytes held back: the start of a line whose newline has not come yet."""
        return len(self._pending)

    def reset(self) -> None:
        """Forget the unfinished line: the stream starts again at the start of a line."""
        self._pending, self._skipping = b"", False

    def resync(self) -> None:
        """Forget the unfinished line and drop the rest of the line being received: bytes of
        the stream were lost, so what comes next starts in the middle of a line."""
        self._pending, self._skipping = b"", True

    def split(self, data: bytes, final: bool = False) -> list[bytes]:
        """The lines ``data`` completes; ``final``: the stream has ended, so an unterminated
        last line is complete too."""
        buffer = self._pending + data if self._pending else data
        lines: list[bytes] = []
        start = 0
        while (newline := buffer.find(b"\n", start)) >= 0:
            self._take(buffer[start:newline], lines)
            self._skipping = False
            start = newline + 1
        rest = buffer[start:]
        if rest and final:
            self._take(rest, lines)
            self._skipping = False
            rest = b""
        elif len(rest) > self.limit:
            self._take(rest, lines)
            self._skipping = True  # drop the rest of this line when it arrives
            rest = b""
        self._pending = rest
        return lines

    def _take(self, line: bytes, lines: list[bytes]) -> None:
        if not self._skipping:
            lines.append(line)


class LogBudget:
    """How many lines an instance may ingest now: :data:`LINES_PER_SECOND` a second, at most
    :data:`BURST_LINES` at once (a token bucket). Spending more than is available is allowed
    (a chunk that held more lines than expected): the debt is paid off first."""

    def __init__(
        self,
        rate: float = LINES_PER_SECOND,
        burst: int = BURST_LINES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def available(self) -> int:
        """Lines that may be ingested now."""
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        return max(0, int(self._tokens + 1e-9))  # not one less for a rounding error

    def spend(self, lines: int) -> None:
        """``lines`` were ingested."""
        self._tokens -= lines

    def wait_time(self) -> float:
        """Seconds until at least one line may be ingested."""
        return max(0.0, (1.0 - self._tokens) / self.rate) if self.available() < 1 else 0.0


class LogBatch:
    """Log records of one instance waiting to be handed to the sink together."""

    def __init__(
        self,
        on_logs: LogSink,
        state: Callable[[], dict[str, Any]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``state``: the instance's state at delivery (its resume points included)."""
        self._on_logs = on_logs
        self._state = state
        self._clock = clock
        self._lines: list[LogLine] = []
        self._skipped: dict[tuple[str, str], int] = {}
        self._told: dict[tuple[str, str], float] = {}

    def __len__(self) -> int:
        return len(self._lines)

    def skip(self, skipped: int, stream: str, container_name: str) -> None:
        """``skipped`` bytes of ``stream`` of ``container_name`` were not read: say so before
        the next lines of that stream (summed up with later skips within a second)."""
        if skipped > 0:
            key = (stream, container_name)
            self._skipped[key] = self._skipped.get(key, 0) + skipped

    def _tell_skipped(self, key: tuple[str, str], force: bool) -> None:
        skipped = self._skipped.get(key, 0)
        if not skipped:
            return
        now = self._clock()
        if not force and now - self._told.get(key, -MARKER_INTERVAL) < MARKER_INTERVAL:
            return
        del self._skipped[key]
        self._told[key] = now
        self._lines.append(
            LogLine(
                timestamp=format_timestamp(utcnow()),
                level=MARKER_LEVEL,
                message=skipped_message(skipped),
                container_name=key[1],
                stream=key[0],
            )
        )

    def add(self, messages: Sequence[str], stream: str, container_name: str) -> None:
        """Records of ``messages``, read just now from ``stream`` of ``container_name``."""
        if not messages:
            return
        self._tell_skipped((stream, container_name), force=False)
        stamp = format_timestamp(utcnow())
        default = "info" if stream == "stdout" else "error"  # what a line that states none has
        self._lines.extend(
            LogLine(
                timestamp=stamp,
                level=line_level(message, default),
                message=message,
                container_name=container_name,
                stream=stream,
            )
            for message in messages
        )

    async def deliver(self, final: bool = False) -> None:
        """Hand the records (if any) and the state to the sink; they are gone either way.
        Skipped output not told yet is told now if its second is up, or if ``final``."""
        for key in list(self._skipped):
            self._tell_skipped(key, force=final)
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        try:
            await self._on_logs(lines, self._state())
        except Exception:
            logger.exception("storing %d log lines failed; they are lost", len(lines))
