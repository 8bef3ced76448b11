"""The process runtime's logs: complete lines appended to a workload's two log files.

**Logs in files, not pipes.** stdout and stderr are appended (``O_APPEND``) to
``<logs_dir>/<id>.stdout`` and ``.stderr`` (``<id>@<slot>.*`` for an instance that runs beside
another of its workload: :mod:`.slots`). A process survives a ``kill -9`` of the server (no
SIGPIPE, no full pipe), and a new server adopts it and resumes reading at the byte offsets stored
in the instance's state. A tailer task polls the files every :data:`LOG_POLL_INTERVAL` seconds
and hands complete lines to the supervisor's sink, within the instance's
:class:`~workloadlab.server.runtimes.logs.LogBudget`, one step at a time; when the process ends
it drains the rest before ``wait()`` returns, so a crash's traceback is stored before anyone
asks why it died.

How a file is read, kept below its share of ``--log-cap-bytes`` and skipped ahead when it
grows faster than it can be read is :mod:`.logfile`'s business; what was skipped becomes a
marker line (:meth:`~workloadlab.server.runtimes.logs.LogBatch.skip`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workloadlab.server.runtimes.base import STREAMS, WORKLOAD_ID, LogSink
from workloadlab.server.runtimes.logs import STEP_LINES, LogBatch, LogBudget
from workloadlab.server.runtimes.process.logfile import LogCapper, LogFile
from workloadlab.server.runtimes.process.slots import instance_name, split_instance_name

logger = logging.getLogger("workloadlab.server")

LOG_POLL_INTERVAL = 0.02
"""How often the files are read."""


def log_paths(logs_dir: Path, workload_id: str, slot: int = 0) -> list[Path]:
    """The log files of a workload's instance in ``slot`` (:mod:`.slots`), one per stream (in
    :data:`STREAMS` order)."""
    name = instance_name(workload_id, slot)
    return [logs_dir / f"{name}.{stream}" for stream in STREAMS]


def logged_instances(logs_dir: Path) -> dict[str, set[int]]:
    """The workloads that have log files in ``logs_dir``, each with the slots that have."""
    found: dict[str, set[int]] = {}
    with contextlib.suppress(FileNotFoundError):
        for path in logs_dir.iterdir():
            name, _, stream = path.name.rpartition(".")
            workload_id, slot = split_instance_name(name)
            if stream in STREAMS and WORKLOAD_ID.match(workload_id):
                found.setdefault(workload_id, set()).add(slot)
    return found


class LogTailer:
    """Polls an instance's two log files and hands new lines (and the state) to the sink."""

    def __init__(
        self,
        logs_dir: Path,
        workload_id: str,
        slot: int,
        offsets: dict[str, int],
        container_name: str,
        on_logs: LogSink,
        state: Callable[[], dict[str, Any]],
        capper: LogCapper,
    ) -> None:
        """``capper`` keeps the files below their cap while they are tailed."""
        self._readers = [
            LogFile(path, stream, offsets.get(stream, 0), capper.cap_bytes)
            for stream, path in zip(STREAMS, log_paths(logs_dir, workload_id, slot), strict=True)
        ]
        self._capper = capper
        for reader in self._readers:
            capper.watch(reader)
        self._container_name = container_name
        self._batch = LogBatch(on_logs, state)
        self._budget = LogBudget()
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
                more = await self._poll(final=False)
                if more and self._budget.available() >= STEP_LINES:
                    await asyncio.sleep(0)  # a step done: let the loop serve others
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(LOG_POLL_INTERVAL):
                        await self._finishing.wait()
            while True:  # what is left, a step at a time
                if not await self._poll(final=True):
                    break
                await asyncio.sleep(0)
        finally:
            for reader in self._readers:
                self._capper.unwatch(reader)
                reader.close()

    async def _poll(self, final: bool) -> bool:
        """Read each file once (at most one step of lines, within the budget unless
        ``final``), deliver what was read; whether more may be waiting."""
        more = False
        allowed = STEP_LINES if final else min(STEP_LINES, self._budget.available())
        for index, reader in enumerate(self._readers):
            # stdout first (which came first within one poll is unknown); while the budget is
            # short, at most half of it before stderr's turn: a flood starves no other stream.
            last = index == len(self._readers) - 1
            share = allowed if last or allowed >= STEP_LINES else allowed - allowed // 2
            try:
                messages, reader_more = reader.read(share, final)
            except OSError as exc:
                logger.warning("cannot read %s: %s", reader.path, exc)
                continue
            more = more or reader_more
            self._budget.spend(len(messages))
            allowed = max(0, allowed - len(messages))
            self._batch.skip(reader.take_skipped(), reader.stream, self._container_name)
            self._batch.add(messages, reader.stream, self._container_name)
        await self._batch.deliver(final=final and not more)
        return more
