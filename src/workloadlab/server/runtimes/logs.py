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
  one transaction. A sink that fails loses that batch (logged), never the reader.

This is the one place to bound ingestion (lines per batch, batches per turn).
"""

from __future__ import annotations

import logging
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


class LogBatch:
    """Log records of one instance waiting to be handed to the sink together."""

    def __init__(self, on_logs: LogSink, state: Callable[[], dict[str, Any]]) -> None:
        """``state``: the instance's state at delivery (its resume points included)."""
        self._on_logs = on_logs
        self._state = state
        self._lines: list[LogLine] = []

    def __len__(self) -> int:
        return len(self._lines)

    def add(self, messages: Sequence[str], stream: str, container_name: str) -> None:
        """Records of ``messages``, read just now from ``stream`` of ``container_name``."""
        if not messages:
            return
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

    async def deliver(self) -> None:
        """Hand the records (if any) and the state to the sink; they are gone either way."""
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        try:
            await self._on_logs(lines, self._state())
        except Exception:
            logger.exception("storing %d log lines failed; they are lost", len(lines))
