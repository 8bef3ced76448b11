"""The container runtime's logs: every output stream of an instance's containers, followed.

**Logs resume, never repeat.** Each output stream is followed with engine timestamps. The
state keeps, per stream, the timestamp of the last stored line and how many stored lines share
it; a new server asks for logs from a second before it and skips what it has. Engines differ in
timestamp precision (podman: whole seconds), which the count makes exact.

**Bounded.** Followed streams block, so each runs in a daemon thread that puts what it reads in
the instance's :class:`Inbox`: at most :data:`INBOX_BYTES` bytes wait there, and the event loop
is woken once for whatever arrived meanwhile (not once per chunk). One consumer task turns the
chunks into lines (:class:`LogCursor`) within the instance's
:class:`~workloadlab.server.runtimes.logs.LogBudget` and hands them to the sink through the
shared :class:`~workloadlab.server.runtimes.logs.LogBatch`. When a container writes faster than
that, the inbox fills up and its oldest data is dropped and counted (the newest lines matter
most: a flood's last words): the line after the gap is cut and a marker line tells how many
bytes were skipped. The engine keeps its own log files
(capping them is its business); the last read after a container ends asks for at most its last
:data:`FINAL_TAIL_LINES` lines.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workloadlab.server.runtimes.base import STREAMS, LogSink
from workloadlab.server.runtimes.container.engine import Engine, EngineError
from workloadlab.server.runtimes.logs import (
    MAX_LINE_BYTES,
    STEP_LINES,
    LineSplitter,
    LogBatch,
    LogBudget,
    decode_line,
)

if TYPE_CHECKING:
    from workloadlab.server.runtimes.container.engine import LogStream
    from workloadlab.server.runtimes.container.instance import Member

logger = logging.getLogger("workloadlab.server")

LOG_RETRY_MAX = 5.0
"""The longest wait before following a broken stream again."""
RAW_LINE_LIMIT = MAX_LINE_BYTES * 4
"""An engine's line (its timestamp, then the message) that grows past this without a newline
is cut here and the rest of it dropped; the message is then cut at ``MAX_LINE_BYTES``."""
INBOX_BYTES = 256 * 1024
"""Bytes read from the engine that may wait for the consumer, per instance."""
MERGE_BYTES = 16 * 1024
"""Chunks of one stream that arrive one after another are merged up to this size."""
FINAL_TAIL_LINES = 2000
"""The last read of a stream after its container ended asks for at most this many lines."""


def parse_log_time(text: str) -> tuple[int, int] | None:
    """``(POSIX seconds, nanoseconds)`` of an engine's RFC 3339 log timestamp, or ``None``.

    Nanoseconds are kept exactly (``datetime`` would round them to microseconds), so two
    timestamps compare as the engine meant them.
    """
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$", text)
    if match is None:
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        whole = dt.datetime.fromisoformat(match.group(1) + zone)
    except ValueError:
        return None
    nanos = int((match.group(2) or "0").ljust(9, "0"))
    return int(whole.timestamp()), nanos


@dataclass
class LogPosition:
    """How far one output stream has been read: the last line's timestamp and how many lines
    with exactly that timestamp came up to and including it."""

    time: str = ""
    key: tuple[int, int] | None = None
    count: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"time": self.time, "count": self.count}

    @classmethod
    def from_json(cls, value: Any) -> LogPosition:
        if not isinstance(value, dict) or not isinstance(value.get("time"), str):
            return cls()
        key = parse_log_time(value["time"])
        if key is None:
            return cls()
        return cls(value["time"], key, max(0, int(value.get("count") or 0)))


class LogCursor:
    """Turns one output stream's timestamped chunks into new lines, skipping lines already
    delivered (they come again after a reconnection, which starts a second early)."""

    def __init__(self, stream: str, position: LogPosition) -> None:
        self.stream = stream
        self.read = position
        """Up to where lines were turned into records (not necessarily stored yet)."""
        self.stored = LogPosition(position.time, position.key, position.count)
        """Up to where records were handed to the sink: what the instance's state says."""
        self._lines = LineSplitter(RAW_LINE_LIMIT)
        self._skip_key: tuple[int, int] | None = None
        self._skip_left = 0

    def since(self) -> int | None:
        """Whole seconds to ask the engine for logs from (a second early), or the start."""
        key = self.read.key
        return max(1, key[0] - 1) if key is not None else None

    def connect(self) -> None:
        """A new connection starts: what it repeats is skipped."""
        self._lines.reset()
        self._skip_key, self._skip_left = self.read.key, self.read.count

    def lost(self) -> None:
        """Bytes of the stream were dropped: what comes next starts in the middle of a line."""
        self._lines.resync()

    def feed(self, chunk: bytes, final: bool = False) -> list[str]:
        """New complete lines (messages without timestamps) in ``chunk``; ``final``: the
        stream has ended, so an unterminated last line is complete too."""
        messages: list[str] = []
        for raw in self._lines.split(chunk, final):
            message = self._accept(raw)
            if message is not None:
                messages.append(message)
        return messages

    def _accept(self, raw: bytes) -> str | None:
        stamp, _, body = raw.partition(b" ")
        text = stamp.decode("ascii", errors="replace")
        key = parse_log_time(text)
        if key is None:  # no timestamp: deliver as it is, without moving the position
            body = raw
        else:
            if self._skip_key is not None:
                if key < self._skip_key:
                    return None
                if key == self._skip_key and self._skip_left > 0:
                    self._skip_left -= 1
                    return None
                if key > self._skip_key:
                    self._skip_key = None
            if key == self.read.key:
                self.read.count += 1
            else:
                self.read.key, self.read.count = key, 1
            self.read.time = text
        return decode_line(body)

    def mark_stored(self) -> None:
        self.stored = LogPosition(self.read.time, self.read.key, self.read.count)


@dataclass(slots=True)
class Item:
    """What a follower thread read, or what happened to its stream."""

    index: int
    """The member (container) of the instance."""
    stream: str
    kind: str
    """``connect``, ``data``, ``end``, ``error``, ``final`` (the last read's output), ``stop``,
    or ``skipped`` (``skipped`` bytes of the stream's data were dropped here)."""
    data: bytes | bytearray = b""
    skipped: int = 0


class Inbox:
    """What the follower threads read, waiting for the consumer task: at most ``limit`` bytes
    of data. To make room, the oldest data goes (the newest lines matter most: a flood's last
    words), leaving a ``skipped`` item where it was that counts what went."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int = INBOX_BYTES) -> None:
        self.limit = limit
        self._loop = loop
        self._items: collections.deque[Item] = collections.deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._ready = asyncio.Event()
        self._waking = False

    def put(self, item: Item, force: bool = False) -> None:
        """Add an item (from any thread), dropping the oldest data to make room unless
        ``force``."""
        with self._lock:
            if item.kind == "data" and not force:
                while self._bytes + len(item.data) > self.limit and self._drop_oldest():
                    pass
            last = self._items[-1] if self._items else None
            if (
                item.kind == "data"
                and last is not None
                and last.kind == "data"
                and (last.index, last.stream) == (item.index, item.stream)
                and len(last.data) < MERGE_BYTES
            ):
                # Engines send a line at a time: one item per line would cost the consumer
                # (on the event loop) more than the line itself.
                if not isinstance(last.data, bytearray):
                    last.data = bytearray(last.data)
                last.data += item.data
            else:
                self._items.append(item)
            self._bytes += len(item.data)
            if self._waking:
                return
            self._waking = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody reads any more
            self._loop.call_soon_threadsafe(self._ready.set)

    def _drop_oldest(self) -> bool:
        """Drop the oldest data item; whether there was one."""
        for position, item in enumerate(self._items):
            if item.kind != "data":
                continue
            del self._items[position]
            self._bytes -= len(item.data)
            before = self._items[position - 1] if position else None
            if (
                before is not None
                and before.kind == "skipped"
                and (before.index, before.stream) == (item.index, item.stream)
            ):
                before.skipped += len(item.data)
            else:
                marker = Item(item.index, item.stream, "skipped", skipped=len(item.data))
                self._items.insert(position, marker)
            return True
        return False

    def take(self) -> Item | None:
        """The oldest item, or ``None`` (on the event loop)."""
        with self._lock:
            if not self._items:
                self._waking = False
                self._ready.clear()
                return None
            item = self._items.popleft()
            self._bytes -= len(item.data)
        return item

    async def wait(self) -> None:
        """Return once an item may be waiting."""
        await self._ready.wait()


class LogPump:
    """Follows every output stream of an instance's containers and hands new lines to the
    sink in batches, each with the instance's state (resume points included)."""

    def __init__(
        self,
        engine: Engine,
        members: Sequence[Member],
        on_logs: LogSink,
        state: Callable[[], dict[str, Any]],
        name: str,
    ) -> None:
        self._engine = engine
        self._members = list(members)
        self._name = name
        self._loop = asyncio.get_running_loop()
        self._inbox = Inbox(self._loop)
        self._streams: dict[tuple[int, str], LogStream] = {}
        self._retry_delay: dict[tuple[int, str], float] = {}
        self._finishing = False
        self._batch = LogBatch(on_logs, state)
        self._budget = LogBudget()
        self.task = asyncio.create_task(self._run(), name=f"container-logs-{name}")
        for index in range(len(self._members)):
            for stream in STREAMS:
                self._follow(index, stream)

    async def finish(self) -> None:
        """The containers have ended: read what is left of each stream, deliver it, and stop.

        The followed streams would end by themselves, but podman ends them only after its
        clean-up (about half a second later), so they are closed and ignored from here on; one
        last plain read from each stream's resume point has everything they would have had.
        """
        self._finishing = True
        for log_stream in list(self._streams.values()):
            log_stream.close()
        reads = [
            (index, stream, member.container_id, member.cursors[stream].since())
            for index, member in enumerate(self._members)
            for stream in STREAMS
        ]
        results = await asyncio.gather(
            *(
                asyncio.to_thread(self._engine.logs, cid, s, since, FINAL_TAIL_LINES)
                for _, s, cid, since in reads
            ),
            return_exceptions=True,
        )
        for (index, stream, _, _), data in zip(reads, results, strict=True):
            if isinstance(data, BaseException):
                name = self._members[index].engine_name
                logger.warning("cannot read the last %s lines of %s: %s", stream, name, data)
                continue
            self._inbox.put(Item(index, stream, "connect"), force=True)
            self._inbox.put(Item(index, stream, "final", data), force=True)
        self._inbox.put(Item(-1, "", "stop"), force=True)
        await asyncio.shield(self.task)

    def abandon(self) -> asyncio.Task[None]:
        """Stop following without reading further (server shutdown; the containers run on)."""
        self._finishing = True
        for log_stream in list(self._streams.values()):
            log_stream.close()
        self.task.cancel()
        return self.task

    # -- the threads -----------------------------------------------------------------------

    def _follow(self, index: int, stream: str) -> None:
        """Start a daemon thread that follows one stream (from the cursor's resume point)."""
        if self._finishing:
            return
        member = self._members[index]
        key = (index, stream)
        since = member.cursors[stream].since()
        put = self._inbox.put

        def post(index: int, stream: str, kind: str, data: bytes) -> None:
            put(Item(index, stream, kind, data))

        def follow() -> None:
            post(index, stream, "connect", b"")
            try:
                log_stream = self._engine.follow_logs(member.container_id, stream, since)
            except EngineError as exc:
                post(index, stream, "error", str(exc).encode())
                return
            self._streams[key] = log_stream
            if self._finishing:
                log_stream.close()
            for chunk in log_stream:
                post(index, stream, "data", chunk)
            post(index, stream, "end", b"")

        threading.Thread(
            target=follow, name=f"logs-{member.engine_name}-{stream}", daemon=True
        ).start()

    # -- the consumer ----------------------------------------------------------------------

    async def _run(self) -> None:
        lines = 0
        while True:
            item = self._inbox.take()
            if item is None:
                await self._deliver()
                lines = 0
                await self._inbox.wait()
                continue
            if item.kind == "stop":
                await self._deliver(final=True)
                return
            if self._finishing and item.kind in ("data", "end", "error", "skipped"):
                continue  # a follower's late output: the final reads have it all
            lines += self._consume(item)
            if lines >= STEP_LINES:  # a step done: store it, let the loop serve others
                await self._deliver()
                lines = 0
                await asyncio.sleep(0)
            if not self._finishing and self._budget.available() < 1:
                await self._deliver()
                lines = 0
                await asyncio.sleep(self._budget.wait_time())

    def _consume(self, item: Item) -> int:
        """Turn one item into records (or a reconnection); how many lines it made."""
        member = self._members[item.index]
        cursor = member.cursors[item.stream]
        messages: list[str] = []
        if item.kind == "connect":
            cursor.connect()
        elif item.kind == "skipped":
            cursor.lost()
            self._batch.skip(item.skipped, item.stream, member.spec_name)
        elif item.kind in ("data", "final"):
            messages = cursor.feed(bytes(item.data), final=item.kind == "final")
        else:  # "end" or "error": the stream broke or its container ended
            if item.kind == "error":
                error = item.data.decode(errors="replace")
                logger.warning("cannot follow the logs of %s: %s", member.engine_name, error)
            messages = cursor.feed(b"", final=True)
            self._ended(item.index, item.stream)
        self._budget.spend(len(messages))
        self._batch.add(messages, item.stream, member.spec_name)
        return len(messages)

    def _ended(self, index: int, stream: str) -> None:
        key = (index, stream)
        self._streams.pop(key, None)
        # The stream broke while the container may still run (an engine restart, a network
        # hiccup): follow again from the resume point, a little later each time.
        delay = self._retry_delay.get(key, 0.25)
        self._retry_delay[key] = min(delay * 2, LOG_RETRY_MAX)
        self._loop.call_later(delay, self._follow, index, stream)

    async def _deliver(self, final: bool = False) -> None:
        for member in self._members:
            for cursor in member.cursors.values():
                cursor.mark_stored()
        await self._batch.deliver(final=final)
