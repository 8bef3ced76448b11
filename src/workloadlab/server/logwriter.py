"""Workloads' log lines go to the database in batches: one transaction per window for all.

A runtime delivers lines as it reads them, up to 50 batches a second per workload while one
floods. Storing each batch in a transaction of its own would cost each an fsync on the event
loop, which serves the API too. So :class:`LogWriter` holds what arrives for
:data:`WRITE_WINDOW` seconds and stores it all in one transaction (``Store.add_logs`` per
workload: its lines, the cap, and the newest resume point of its runtime), committed without
waiting for the disk (``durable=False``: a crash of the server loses none of it; a crash of the
machine may lose the last batches, and their workloads with them).

Measured during a flood on this project's 2-core machine (``benchmarks/logflood.py``, 5,000
lines/s stored): with an fsync per batch, commits took 11 ms on average and up to 33 ms, and
GET's p99 was 9.6 times the idle one; without it, a window's 250 lines take about 1 ms. The store
keeps its one connection on the event loop (no thread hop, no second writer to wait for).

A status change must not overtake the lines that explain it (a crash's traceback comes before
``errored``), and a resume point must not be stored after its instance was forgotten: the
supervisor calls :meth:`LogWriter.flush` for the workload inside the (durable) transaction that
writes its status or its runtime state.

During a rolling change two instances of a workload write to its log: the resume point of each
goes where its :class:`StateHolder` says (the workload's row, the change's row, or nowhere for
an instance on its way out), so one instance's never overwrites the other's.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from workloadlab.server.store import LogLine, Store

logger = logging.getLogger("workloadlab.server")

WRITE_WINDOW = 0.05
"""Seconds a log line may wait to be stored with others (none waits longer)."""
FLUSH_LINES = 5000
"""This many lines waiting are stored at once, without waiting for the window's end."""


class StateHolder(enum.Enum):
    """Where an instance's resume point (its runtime state) is kept."""

    WORKLOAD = "workload"
    """The workload's row: the instance that serves it."""
    ROLLOUT = "rollout"
    """The row of the workload's change in progress: the new instance, until the switch."""
    REPLICA = "replica"
    """The ``replicas`` table: one of a workload's further replicas (by its ordinal)."""
    CANDIDATE = "candidate"
    """The ``replicas`` table: a further new instance of the change in progress."""
    NONE = "none"
    """Nowhere: an instance on its way out (the old one after a switch)."""


@dataclass
class _Pending:
    lines: list[LogLine] = field(default_factory=list)
    state: dict[str, Any] | None = None


class LogWriter:
    """Stores log lines of every workload in batches (see the module docstring)."""

    def __init__(self, store: Store, cap: int, window: float = WRITE_WINDOW) -> None:
        """``cap``: lines kept per workload (``--log-cap``)."""
        self.store = store
        self.cap = cap
        self.window = window
        self._pending: dict[tuple[str, StateHolder, int], _Pending] = {}
        self._count = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(
        self,
        workload_id: str,
        lines: Sequence[LogLine],
        state: dict[str, Any],
        holder: StateHolder = StateHolder.WORKLOAD,
        ordinal: int = 0,
    ) -> None:
        """Store ``lines`` (and the runtime's ``state`` after reading them, where ``holder``
        says; ``ordinal``: which replica's) soon."""
        pending = self._pending.setdefault((workload_id, holder, ordinal), _Pending())
        pending.lines.extend(lines)
        pending.state = state
        self._count += len(lines)
        if self._count >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.window, self.flush)

    def flush(self, workload_id: str | None = None) -> None:
        """Store what waits now: of all workloads (lines that cannot be stored are lost, and
        logged), or of one, in the caller's transaction (an error goes to the caller, and the
        lines are lost with its transaction)."""
        if workload_id is not None:
            mine = {key: self._pending.pop(key) for key in self._keys(workload_id)}
            if mine:
                self._count -= sum(len(pending.lines) for pending in mine.values())
                self._write(mine)
            return
        batch, self._pending, self._count = self._pending, {}, 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not batch:
            return
        try:
            with self.store.transaction(durable=False):  # the outer one: it decides
                self._write(batch)
        except Exception as exc:
            lost = sum(len(p.lines) for p in batch.values())
            logger.warning("storing %d log lines failed (%s); they are lost", lost, exc)

    def _write(self, batch: dict[tuple[str, StateHolder, int], _Pending]) -> None:
        with self.store.transaction():
            for (workload_id, holder, ordinal), pending in batch.items():
                state = pending.state if holder is StateHolder.WORKLOAD else None
                self.store.add_logs(workload_id, pending.lines, self.cap, runtime_state=state)
                if holder is StateHolder.ROLLOUT and pending.state is not None:
                    self.store.save_rollout_state(workload_id, pending.state)
                if holder is StateHolder.REPLICA and pending.state is not None:
                    self.store.save_replica_state(workload_id, ordinal, pending.state)
                if holder is StateHolder.CANDIDATE and pending.state is not None:
                    self.store.save_replica_state(workload_id, ordinal, pending.state, "candidate")

    def _keys(self, workload_id: str) -> list[tuple[str, StateHolder, int]]:
        return [key for key in self._pending if key[0] == workload_id]

    def discard(self, workload_id: str) -> None:
        """Forget what waits of a deleted workload."""
        for key in self._keys(workload_id):
            self._count -= len(self._pending.pop(key).lines)
