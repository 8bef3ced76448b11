"""A rolling change's further new instances, for a workload of several replicas.

A workload of N replicas moves as a whole: its change (:mod:`.rollout`) starts N new instances
beside the N serving ones, and switches only once **every** new instance is ready, so the
invoke proxy never lacks a ready instance and never mixes versions after the switch. The first
new instance is the change's own (its state in the change's row, as for one replica);
:class:`CandidateReplicas` holds the others (``1`` … ``N-1``), their states in the ``replicas``
table with the role ``candidate``, which the switch makes ``active`` in its transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from workloadlab.models import ArtifactSpec
from workloadlab.server.logwriter import StateHolder
from workloadlab.server.runtimes import Instance, StartFailed

if TYPE_CHECKING:
    from workloadlab.server.supervisor.fleet import InstanceSink
    from workloadlab.server.supervisor.workload import WorkloadSupervisor

logger = logging.getLogger("workloadlab.server")

Pair = tuple[Instance, "InstanceSink"]


class CandidateReplicas:
    """New instances ``1`` … ``N-1`` of a workload's change in progress."""

    def __init__(
        self, worker: WorkloadSupervisor, adopted: Mapping[int, Pair] | None = None
    ) -> None:
        """``adopted``: those a previous server started, by ordinal."""
        self.worker = worker
        self.taken: dict[int, Pair] = dict(adopted or {})

    async def start(self, spec: ArtifactSpec, wanted: int) -> str | None:
        """Start those missing of ``wanted`` instances in all and store their states; why
        one could not start (``None``: all did)."""
        worker, store = self.worker, self.worker.store
        for ordinal in range(1, wanted):
            if ordinal in self.taken:
                continue
            sink = worker.parent.sink(worker.id, StateHolder.CANDIDATE, ordinal)
            try:
                instance = await worker.parent.runtime.start(worker.id, spec, sink)
            except StartFailed as exc:
                return f"the new instance (replica {ordinal}) could not start: {exc}"
            self.taken[ordinal] = (instance, sink)
            with store.transaction():  # a crash of the server from now on must not orphan it
                worker.parent.logs.flush(worker.id)
                store.save_replica(worker.id, ordinal, instance.state, "candidate")
            logger.info("workload %s: replica %d of the change: %s", worker.id, ordinal, instance)
        return None

    def take(self) -> dict[int, Pair]:
        """Hand the instances over (the switch); none is left here."""
        taken, self.taken = self.taken, {}
        return taken

    async def stop(self) -> None:
        """Stop them all (the change ends without a switch) and forget their states."""
        taken, self.taken = self.taken, {}
        for _, sink in taken.values():
            sink.holder = StateHolder.NONE
        grace = self.worker.timings.grace_period
        await asyncio.gather(*(instance.stop(grace) for instance, _ in taken.values()))
        with self.worker.store.transaction():
            self.worker.parent.logs.flush(self.worker.id)
            self.worker.store.forget_replicas(self.worker.id, "candidate")
