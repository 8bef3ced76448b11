"""One log file that a workload process appends to, read from a byte offset and kept small.

An app can write far faster than lines can be stored (a ``print`` loop: hundreds of MB/s).
:class:`LogFile` reads complete lines within a line budget, and keeps the file small:

- **Truncation.** The file is cut to zero (``ftruncate``). An ``O_APPEND`` writer's next write
  lands at the new end, so reading goes on at offset 0. What had not been read is first taken
  into memory, up to :data:`KEEP_TAIL` bytes from the end (the most recent lines, e.g. a
  flood's last words), and read from there before the file; anything older is skipped. Only a
  write within the microseconds between that last read and the cut can be lost unseen.
- **When.** The reader truncates a file that has reached ``cap / SOFT_SHARE`` once it has read
  all of it (nothing is lost). :class:`LogCapper`, a thread that looks at every file each
  :data:`CAP_IDLE_INTERVAL` seconds (:data:`CAP_INTERVAL` while one grows fast) however busy
  the event loop is, truncates a file that has reached ``cap / HARD_SHARE`` whether read or
  not, and one that grows so fast that it would pass its half of the cap within
  :data:`CAP_LOOKAHEAD` seconds (a flood: then at every look). So each of a workload's two
  files stays below half the cap unless the writer outpaces the capper: a file reaches what
  its writer adds in one look's time, and on this project's busy 2-core machine a truncation
  under a 500 MB/s writer took up to 60 ms (ext4), during which the writer went on (files of
  20-30 MB, once 100 MB, against a 32 MiB cap; see ``benchmarks/logflood.py``).
- **Never waiting for each other.** Truncating frees the file's cached pages (about a
  millisecond for 20 MB); while the capper does, the event loop's read skips its turn
  rather than wait for the lock.
- **Skipped backlogs.** When more than :data:`SKIP_BEHIND` bytes are waiting (what piled up
  while no server ran, say), reading jumps to the last :data:`KEEP_TAIL` bytes, at a line
  start, instead of going through them.

Skipped bytes are counted (:meth:`LogFile.take_skipped`) for the marker line that tells them.
:attr:`LogFile.offset` is an offset into the file as it is now: a truncation resets it to 0,
and a new server that finds a file shorter than its stored offset reads it from the start.
Lines held in memory when the server dies (at most :data:`KEEP_TAIL` bytes) are lost.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from workloadlab.server.runtimes.logs import LineSplitter, decode_line

logger = logging.getLogger("workloadlab.server")

READ_CHUNK = 256 * 1024
"""At most this many bytes are read at once (and at most the line budget taken)."""
LINE_GUESS = 1024
"""Bytes read per line wanted (lines are rarely longer; a longer one takes two reads)."""
SKIP_BEHIND = 1024 * 1024
"""More unread bytes than this are skipped: reading jumps to the last ``KEEP_TAIL`` bytes."""
KEEP_TAIL = 64 * 1024
"""What is kept of unread output when the rest is skipped: its last this many bytes."""
SOFT_SHARE = 16
"""A file that reaches the cap divided by this is truncated once it is all read."""
HARD_SHARE = 8
"""A file that reaches the cap divided by this is truncated, read or not."""
CAP_INTERVAL = 0.005
"""How often :class:`LogCapper` looks at the files' sizes while one of them grows fast."""
CAP_IDLE_INTERVAL = 0.02
"""How often it looks otherwise (a writer at 500 MB/s adds 10 MB meanwhile)."""
FAST_RATE = 10 * 1024 * 1024
"""Bytes a second: a file that grows faster makes the capper look every ``CAP_INTERVAL``."""
CAP_LOOKAHEAD = 0.05
"""A file that would pass half the cap within this many seconds at the pace it grows is
truncated now (a scheduling delay of the capper's thread rarely exceeds it)."""
FILES_PER_WORKLOAD = 2
"""stdout and stderr: each may take half of the cap."""


def _cut_after_lines(data: bytes, lines: int) -> int:
    """The length of ``data`` up to and including its ``lines``-th newline (all of it if it
    has no more newlines than that)."""
    if data.count(b"\n") <= lines:
        return len(data)
    end = -1
    for _ in range(lines):
        end = data.find(b"\n", end + 1)
    return end + 1


class LogFile:
    """Complete lines appended to one log file, from a byte offset on. :meth:`read` runs on
    the event loop, :meth:`enforce_cap` in the capper's thread; a lock keeps them apart."""

    def __init__(self, path: Path, stream: str, offset: int, cap_bytes: int) -> None:
        """``cap_bytes``: what the workload's files may take on disk together."""
        self.path = path
        self.stream = stream
        self.offset = offset
        """Where the next unread byte is or will be in the file (everything before it was
        delivered, dropped as too long, or skipped)."""
        self.truncate_at = max(1, cap_bytes // SOFT_SHARE)
        self.hard_limit = max(1, cap_bytes // HARD_SHARE)
        self.max_size = max(1, cap_bytes // FILES_PER_WORKLOAD)
        self._read_pos = offset
        self._held = b""
        """Unread bytes taken out of the file before a truncation; read before the file."""
        self._aligning = False
        """Drop bytes up to the next line start (after bytes before them were skipped)."""
        self._skipped = 0
        self._lines = LineSplitter()
        self._fd: int | None = None
        self._closed = False
        self._seen = (time.monotonic(), 0)
        """When the capper last looked, and the size it left the file at."""
        self._lock = threading.Lock()

    def take_skipped(self) -> int:
        """Bytes skipped since the last call (0 while the capper is busy with the file: the
        next call has them)."""
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            skipped, self._skipped = self._skipped, 0
        finally:
            self._lock.release()
        return skipped

    def read(self, max_lines: int, final: bool) -> tuple[list[str], bool]:
        """At most ``max_lines`` new complete lines' messages, and whether more is waiting.
        Skips a backlog, and truncates the file once all of it is read and it is due.

        ``final``: the writer has ended, so a last line without a newline is complete too
        (and the file is left as it is). Otherwise, while the capper is busy with the file
        (a truncation frees megabytes of cache: a millisecond), nothing is read this time:
        the event loop never waits for the capper's thread.
        """
        if not self._lock.acquire(blocking=final):
            return [], False
        try:
            if self._fd is None and not self._open():
                return [], False
            assert self._fd is not None
            size = os.fstat(self._fd).st_size
            if size < self._read_pos:
                # Truncated behind our back (a fresh start, or a truncation before this
                # server took over): read again from the beginning.
                self._read_pos = 0
                self._lines.reset()
                self._aligning = False
            if size - self._read_pos > SKIP_BEHIND:
                self._skip_to(size - KEEP_TAIL)
            if self._held:
                data, from_file = self._held[:READ_CHUNK], False
            elif max_lines > 0:
                want = min(READ_CHUNK, max_lines * LINE_GUESS)
                data, from_file = os.pread(self._fd, want, self._read_pos), True
            else:
                data, from_file = b"", True
            dropped = self._align(data)
            cut = dropped + _cut_after_lines(data[dropped:], max_lines)
            if from_file:
                self._read_pos += cut
            else:
                self._held = self._held[cut:]
            more = bool(self._held) or self._read_pos < size
            lines = self._lines.split(data[dropped:cut], final=final and not more)
            self.offset = max(0, self._read_pos - self._lines.buffered)
            if not final and not more and size >= self.truncate_at:
                self._truncate()  # all of it was read (the little that came since is kept)
        finally:
            self._lock.release()
        return [decode_line(line) for line in lines], more

    def enforce_cap(self, now: float) -> bool:
        """Truncate the file if it has reached its hard limit, or if it grows so fast that it
        would pass its share of the cap within :data:`CAP_LOOKAHEAD` seconds; whether it
        grows fast (faster than :data:`FAST_RATE`)."""
        with self._lock:
            if self._fd is None and not self._open():
                return False
            assert self._fd is not None
            size = os.fstat(self._fd).st_size
            seen_at, seen = self._seen
            grown = size - seen if size >= seen else size  # truncated meanwhile
            rate = grown / max(now - seen_at, 1e-3)
            if size >= self.hard_limit or size + rate * CAP_LOOKAHEAD >= self.max_size:
                self._truncate()
                size = 0
            self._seen = (now, size)
            return rate > FAST_RATE

    def close(self) -> None:
        """Close the file; it is not opened again."""
        with self._lock:
            self._closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _open(self) -> bool:
        if self._closed:
            return False
        try:
            self._fd = os.open(self.path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return False
        return True

    def _skip_to(self, position: int) -> None:
        """Skip everything unread before ``position`` of the file (then the rest of the line
        there, which is cut): what is held goes too."""
        self._skipped += len(self._held) + self._lines.buffered + position - self._read_pos
        self._held = b""
        self._read_pos = position
        self._lines.reset()
        self._aligning = True

    def _align(self, data: bytes) -> int:
        """How many bytes at the start of ``data`` to drop (counted as skipped): after a
        skip, up to the first line start."""
        if not self._aligning or not data:
            return 0
        newline = data.find(b"\n")
        dropped = len(data) if newline < 0 else newline + 1
        self._aligning = newline < 0
        self._skipped += dropped
        return dropped

    def _truncate(self) -> None:
        """Cut the file to zero, keeping (in memory) what is unread of its last
        :data:`KEEP_TAIL` bytes; the rest of what is unread is skipped."""
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        start = max(self._read_pos, size - KEEP_TAIL)
        tail = os.pread(self._fd, size - start, start) if size > start else b""
        try:
            os.ftruncate(self._fd, 0)
        except OSError as exc:
            logger.warning("cannot truncate %s: %s", self.path, exc)
            return
        if start > self._read_pos:
            self._skip_to(start)
        self._held += tail
        if len(self._held) > KEEP_TAIL:  # the reader is slower than the truncations
            excess = len(self._held) - KEEP_TAIL
            self._skipped += excess + self._lines.buffered
            self._held = self._held[excess:]
            self._lines.reset()
            self._aligning = True
        self._read_pos = 0
        self.offset = 0


class LogCapper:
    """A thread that keeps every tailed log file below its share of the cap, however busy the
    event loop is (see the module docstring)."""

    def __init__(self, cap_bytes: int) -> None:
        """``cap_bytes``: what a workload's files may take on disk together
        (``--log-cap-bytes``)."""
        self.cap_bytes = cap_bytes
        self._files: set[LogFile] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, log_file: LogFile) -> None:
        """Keep ``log_file`` small from now on (starting the thread if need be)."""
        with self._lock:
            self._files.add(log_file)
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="log-capper", daemon=True)
                self._thread.start()

    def unwatch(self, log_file: LogFile) -> None:
        with self._lock:
            self._files.discard(log_file)

    def close(self) -> None:
        """Stop the thread (it ends within one interval)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._files.clear()
        self._stop.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        interval = CAP_IDLE_INTERVAL
        while not self._stop.wait(interval):
            with self._lock:
                files = list(self._files)
            interval = CAP_IDLE_INTERVAL
            for log_file in files:
                try:
                    if log_file.enforce_cap(time.monotonic()):
                        interval = CAP_INTERVAL
                except OSError as exc:
                    logger.warning("cannot look at %s: %s", log_file.path, exc)
