"""The further replicas of one workload as a set: made, resized, stopped together; round-robin.

The workload's loop (:mod:`.workload`) keeps one :class:`ReplicaSet` beside its own instance
(replica ``0``) and calls :meth:`ReplicaSet.ensure` whenever its instance runs, with the
workload's row: the set makes the missing replicas of the row's generation, stops those beyond
the row's ``replicaCount`` and those of an older generation (level-triggered, like the loop).
:meth:`ReplicaSet.pick` chooses the next ready address for an invoke call, in turn.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from workloadlab.models import ArtifactSpec, WorkloadStatus
from workloadlab.server.logwriter import StateHolder
from workloadlab.server.runtimes import Instance
from workloadlab.server.store import WorkloadRow
from workloadlab.server.supervisor.replicas import Replica, ReplicaView, port_of
from workloadlab.server.supervisor.sizing import replica_count

if TYPE_CHECKING:
    from workloadlab.server.supervisor.fleet import InstanceSink
    from workloadlab.server.supervisor.workload import WorkloadSupervisor


class ReplicaSet:
    """Replicas ``1`` … ``N-1`` of a workload (see the module docstring)."""

    def __init__(
        self,
        worker: WorkloadSupervisor,
        adopted: Mapping[int, tuple[Instance, InstanceSink]] | None = None,
        generation: int | None = None,
    ) -> None:
        """``adopted``: instances a previous server left running, by ordinal, of
        ``generation``."""
        self.worker = worker
        self._replicas: dict[int, Replica] = {}
        self._turn = itertools.count()
        if adopted and generation is not None:
            for ordinal, pair in adopted.items():
                replica = Replica(worker, ordinal, generation, pair)
                self._replicas[ordinal] = replica

    def __len__(self) -> int:
        return len(self._replicas)

    @property
    def replicas(self) -> list[Replica]:
        """The replicas, by ordinal."""
        return [self._replicas[k] for k in sorted(self._replicas)]

    @property
    def ready_count(self) -> int:
        """How many of them are ready."""
        return sum(replica.ready for replica in self._replicas.values())

    def wanted(self, row: WorkloadRow) -> int:
        """How many instances the workload should run in all (its own included)."""
        return replica_count(row.runtime)

    async def ensure(self, row: WorkloadRow) -> None:
        """Make the replicas the row asks for (of its generation); stop the others."""
        wanted = self.wanted(row)
        unwanted = [
            self._replicas.pop(ordinal)
            for ordinal, replica in list(self._replicas.items())
            if ordinal >= wanted or replica.generation != row.generation or replica.finished
        ]
        if unwanted:
            await asyncio.gather(*(replica.stop() for replica in unwanted))
        for ordinal in range(1, wanted):
            if ordinal not in self._replicas:
                self._replicas[ordinal] = Replica(self.worker, ordinal, row.generation)

    def hand_over(
        self, new: Mapping[int, tuple[Instance, InstanceSink]], generation: int
    ) -> list[Replica]:
        """A rolling change's switch: its ready further instances (``new``, by ordinal)
        become the replicas, at once; the old replicas, detached (they take no call and write
        nothing), are returned for retirement once their calls are answered."""
        leaving = list(self._replicas.values())
        for replica in leaving:
            replica.detach()
        self._replicas = {}
        for ordinal, (instance, sink) in new.items():
            sink.holder = StateHolder.REPLICA
            self._replicas[ordinal] = Replica(
                self.worker, ordinal, generation, (instance, sink), ready=True
            )
        return leaving

    def terminate(self) -> None:
        """Send every replica's instance the stop signal now."""
        for replica in self._replicas.values():
            replica.terminate()

    async def stop(self) -> None:
        """Stop every replica (their instances within the grace period, at the same time)."""
        replicas, self._replicas = list(self._replicas.values()), {}
        if replicas:
            await asyncio.gather(*(replica.stop() for replica in replicas))

    def ready_targets(self) -> list[str]:
        """The addresses of the ready replicas."""
        return [
            replica.instance.target
            for replica in self.replicas
            if replica.ready and replica.instance is not None
        ]

    def pick(self, own: str | None) -> str | None:
        """The next ready address, in turn, among the workload's own instance's (``own``,
        when it is ready) and the ready replicas'; ``None`` when none is ready."""
        targets = [own] if own is not None else []
        targets.extend(self.ready_targets())
        if not targets:
            return None
        return targets[next(self._turn) % len(targets)]

    # -- what the replicas report ------------------------------------------------------------

    def changed(self) -> None:
        """A replica became ready or unready: the workload's status follows when its own
        instance serves; otherwise the loop's own status stands (its replicas' part renewed)."""
        worker = self.worker
        row = worker.store.get_workload(worker.id)
        if (
            row is None
            or worker.retired
            or row.desired is not WorkloadStatus.RUNNING
            or row.generation != worker.instance_generation
            or row.status not in (WorkloadStatus.RUNNING, WorkloadStatus.INITIALIZING)
        ):
            return
        if not worker.ready or worker.instance is None:  # only statusDetails.replicas changes
            details = row.status_details
            worker.set_status(
                row, row.status, message=details.get("message"), exit_code=details.get("exitCode")
            )
            return
        artifact = worker.store.get_artifact(row.artifact_id)
        spec = ArtifactSpec.model_validate(artifact.spec) if artifact else None
        worker.ready_status(row, (spec.primary.name if spec else None) or "primary")

    def restarted(self) -> None:
        """A replica starts again after a crash: the workload's ``restartCount`` goes up."""
        store, workload_id = self.worker.store, self.worker.id
        row = store.get_workload(workload_id)
        if row is not None:
            store.update_workload(workload_id, touch=False, restart_count=row.restart_count + 1)

    def gave_up(self, replica: Replica) -> None:
        """A replica reached the crash limit: the workload is ``errored`` (its loop then stops
        every replica, as when its own instance gives up)."""
        worker = self.worker
        row = worker.store.get_workload(worker.id)
        if row is not None and not worker.retired and row.desired is WorkloadStatus.RUNNING:
            worker.set_status(row, WorkloadStatus.ERRORED, message=replica.gave_up, conditions=[])
        worker.wake()

    def views(self) -> list[ReplicaView]:
        """A read-only picture of every instance, the workload's own (replica ``0``) first."""
        worker = self.worker
        target = worker.instance.target if worker.instance is not None else None
        own = ReplicaView(
            0,
            f"{worker.id}-0",
            target,
            port_of(target),
            worker.started_at,
            worker.ready,
            worker.restarts,
        )
        return [own, *(replica.view() for replica in self.replicas)]
