"""The process runtime's logs: complete lines appended to a workload's two log files.

**Logs in files, not pipes.** stdout and stderr are appended to ``<logs_dir>/<id>.stdout`` and
``.stderr``. A process survives a ``kill -9`` of the server (no SIGPIPE, no full pipe), and a
new server adopts it and resumes reading at the byte offsets stored in the instance's state.
A tailer task polls the files every 50 ms and hands complete lines to the supervisor's sink;
when the process ends it drains the rest before ``wait()`` returns, so a crash's traceback is
stored before anyone asks why it died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workloadlab.server.runtimes.base import STREAMS, WORKLOAD_ID, LogSink
from workloadlab.server.runtimes.logs import LineSplitter, LogBatch, decode_line

logger = logging.getLogger("workloadlab.server")

LOG_POLL_INTERVAL = 0.05
READ_CHUNK = 256 * 1024


def log_paths(logs_dir: Path, workload_id: str) -> list[Path]:
    """A workload's log files, one per stream (in :data:`STREAMS` order)."""
    return [logs_dir / f"{workload_id}.{stream}" for stream in STREAMS]


def logged_workloads(logs_dir: Path) -> set[str]:
    """The ids of the workloads that have log files in ``logs_dir``."""
    found: set[str] = set()
    with contextlib.suppress(FileNotFoundError):
        for path in logs_dir.iterdir():
            workload_id, _, stream = path.name.rpartition(".")
            if stream in STREAMS and WORKLOAD_ID.match(workload_id):
                found.add(workload_id)
    return found


class _StreamReader:
    """Messages of the complete lines appended to one log file, from a byte offset on."""

    def __init__(self, path: Path, stream: str, offset: int) -> None:
        self.path = path
        self.stream = stream
        self.offset = offset
        """Bytes consumed: everything before it was delivered (or dropped as too long)."""
        self._read_pos = offset
        self._lines = LineSplitter()
        self._fd: int | None = None

    def read(self, final: bool) -> tuple[list[str], bool]:
        """New complete lines' messages, and whether more data may be waiting already.

        ``final``: the writer has ended, so a last line without a newline is complete too.
        """
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except FileNotFoundError:
                return [], False
        if os.fstat(self._fd).st_size < self._read_pos:
            # Truncated behind our back (a fresh start): read again from the beginning.
            self.offset = self._read_pos = 0
            self._lines.reset()
        data = os.pread(self._fd, READ_CHUNK, self._read_pos)
        more = len(data) == READ_CHUNK
        self._read_pos += len(data)
        lines = self._lines.split(data, final=final and not more)
        self.offset = self._read_pos - self._lines.buffered
        return [decode_line(line) for line in lines], more

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class LogTailer:
    """Polls an instance's two log files and hands new lines (and the state) to the sink."""

    def __init__(
        self,
        logs_dir: Path,
        workload_id: str,
        offsets: dict[str, int],
        container_name: str,
        on_logs: LogSink,
        state: Callable[[], dict[str, Any]],
    ) -> None:
        self._readers = [
            _StreamReader(path, stream, offsets.get(stream, 0))
            for stream, path in zip(STREAMS, log_paths(logs_dir, workload_id), strict=True)
        ]
        self._container_name = container_name
        self._batch = LogBatch(on_logs, state)
        self._finishing = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"process-logs-{workload_id}")

    @property
    def offsets(self) -> dict[str, int]:
        """Bytes of each stream consumed so far."""
        return {reader.stream: reader.offset for reader in self._readers}

    async def finish(self) -> None:
        """Read what is left (the writer has ended), deliver it, and stop."""
        self._finishing.set()
        await asyncio.shield(self.task)

    async def _run(self) -> None:
        try:
            while not self._finishing.is_set():
                if await self._poll(final=False):
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(LOG_POLL_INTERVAL):
                        await self._finishing.wait()
            while await self._poll(final=True):
                pass
        finally:
            for reader in self._readers:
                reader.close()

    async def _poll(self, final: bool) -> bool:
        """Read each file once, deliver what was read; whether more may be waiting."""
        more = False
        for reader in self._readers:
            try:
                messages, reader_more = reader.read(final)
            except OSError as exc:
                logger.warning("cannot read %s: %s", reader.path, exc)
                continue
            more = more or reader_more
            self._batch.add(messages, reader.stream, self._container_name)
        await self._batch.deliver()
        return more
