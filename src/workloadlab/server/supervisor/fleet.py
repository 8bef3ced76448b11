"""The supervisor: one task per workload, adoption at start-up, kicks, removal and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from workloadlab.models import WorkloadStatus
from workloadlab.server.logwriter import LogWriter, StateHolder
from workloadlab.server.probes import Prober
from workloadlab.server.runtimes import Instance, Runtime
from workloadlab.server.secrets import Secrets
from workloadlab.server.settings import ServerSettings
from workloadlab.server.store import LogLine, Store
from workloadlab.server.store.replicas import Role
from workloadlab.server.supervisor.reaper import DraftReaper, Expire
from workloadlab.server.supervisor.replicas import ReplicaView
from workloadlab.server.supervisor.status import record_status
from workloadlab.server.supervisor.traffic import Lease, Traffic
from workloadlab.server.supervisor.workload import WorkloadSupervisor

logger = logging.getLogger("workloadlab.server")

ALIVE = frozenset({WorkloadStatus.INITIALIZING, WorkloadStatus.RUNNING})
"""Statuses of a workload whose instance was up: one not adopted at start-up died."""


class Supervisor:
    """Owns one :class:`WorkloadSupervisor` per workload, the prober and the draft reaper."""

    def __init__(
        self, store: Store, runtime: Runtime, settings: ServerSettings, *, secrets: Secrets
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.settings = settings
        self.secrets = secrets
        """Resolves references at each start, masks the values in logs and messages."""
        self.prober = Prober()
        self.logs = LogWriter(store, settings.log_cap)
        self.traffic = Traffic()
        self._workloads: dict[str, WorkloadSupervisor] = {}
        self._reaper_task: asyncio.Task[None] | None = None

    async def start(self, expire: Expire) -> None:
        """Adopt what a previous server left running (the new instances of rolling changes
        too), remove orphans, start every task, and the draft reaper, which removes expired
        workloads with ``expire``."""
        rows = self.store.all_workloads()
        adopted: dict[str, tuple[Instance, InstanceSink]] = {}
        replicas: dict[str, dict[int, tuple[Instance, InstanceSink]]] = {}
        for row in rows:
            should_run = row.desired is WorkloadStatus.RUNNING
            if row.runtime_state and should_run and row.status is not WorkloadStatus.ERRORED:
                self.secrets.learn(row.id, row.artifact_id)  # before its first lines come
                sink = self.sink(row.id)
                instance = await self.runtime.adopt(row.id, row.runtime_state, sink)
                if instance is not None:
                    adopted[row.id] = (instance, sink)
                    replicas[row.id] = await self._adopt_replicas(row.id)
                    logger.info("adopted workload %s (%s)", row.id, row.name)
            if row.id not in adopted:  # its further replicas start again with it
                self.store.forget_replicas(row.id)
        candidates, candidate_replicas = await self._adopt_candidates()
        kept = [instance for instance, _ in [*adopted.values(), *candidates.values()]]
        for of in [*replicas.values(), *candidate_replicas.values()]:
            kept.extend(instance for instance, _ in of.values())
        for removed in await self.runtime.sweep(kept):
            logger.warning("%s", removed)
        for removed in self.runtime.forget_others({row.id for row in rows}):
            logger.info("%s", removed)
        for row in rows:
            if row.id not in adopted and row.runtime_state is not None:
                self.store.update_workload(row.id, touch=False, runtime_state=None)
            lost = row.desired is WorkloadStatus.RUNNING and row.status in ALIVE
            if row.id not in adopted and lost:  # it died with the previous server
                record_status(
                    self.store,
                    row,
                    WorkloadStatus.SUBMITTED,
                    conditions=[],
                    running_since=None,
                    message="starting again: it was not running after the server restarted",
                )
            self._spawn(
                row.id,
                adopted.get(row.id),
                candidates.get(row.id),
                replicas.get(row.id),
                candidate_replicas.get(row.id),
            )
        reaper = DraftReaper(self.store, self.settings.timings, expire)
        self._reaper_task = asyncio.create_task(reaper.run(), name="draft-reaper")

    async def _adopt_replicas(
        self, workload_id: str, role: Role = "active"
    ) -> dict[int, tuple[Instance, InstanceSink]]:
        """Adopt the further replicas of an adopted workload (``candidate``: of its rolling
        change); forget those gone."""
        adopted: dict[int, tuple[Instance, InstanceSink]] = {}
        holder = StateHolder.REPLICA if role == "active" else StateHolder.CANDIDATE
        for ordinal, state in self.store.replica_states(workload_id, role).items():
            sink = self.sink(workload_id, holder, ordinal)
            instance = await self.runtime.adopt(workload_id, state, sink)
            if instance is None:
                self.store.forget_replica(workload_id, ordinal, role)
                continue
            adopted[ordinal] = (instance, sink)
            logger.info("adopted replica %d of workload %s", ordinal, workload_id)
        return adopted

    async def _adopt_candidates(
        self,
    ) -> tuple[
        dict[str, tuple[Instance, InstanceSink]],
        dict[str, dict[int, tuple[Instance, InstanceSink]]],
    ]:
        """Adopt the new instances of the rolling changes in progress (the first, and the
        further ones of several replicas, by workload); forget those gone."""
        adopted: dict[str, tuple[Instance, InstanceSink]] = {}
        further: dict[str, dict[int, tuple[Instance, InstanceSink]]] = {}
        for rollout in self.store.rollouts_under_way():
            workload_id = rollout.workload_id
            if rollout.runtime_state is None:
                self.store.forget_replicas(workload_id, "candidate")  # started again whole
                continue
            self.secrets.learn(workload_id, rollout.to_artifact_id)
            sink = self.sink(workload_id, StateHolder.ROLLOUT)
            instance = await self.runtime.adopt(workload_id, rollout.runtime_state, sink)
            if instance is None:
                self.store.update_rollout(rollout.id, runtime_state=None)
                self.store.forget_replicas(workload_id, "candidate")
                continue
            adopted[workload_id] = (instance, sink)
            further[workload_id] = await self._adopt_replicas(workload_id, "candidate")
            logger.info("adopted the new instance of change %s", rollout.id)
        return adopted, further

    def _spawn(
        self,
        workload_id: str,
        adopted: tuple[Instance, InstanceSink] | None = None,
        candidate: tuple[Instance, InstanceSink] | None = None,
        replicas: dict[int, tuple[Instance, InstanceSink]] | None = None,
        candidate_replicas: dict[int, tuple[Instance, InstanceSink]] | None = None,
    ) -> WorkloadSupervisor:
        supervisor = WorkloadSupervisor(
            self, workload_id, adopted, candidate, replicas, candidate_replicas
        )
        self._workloads[workload_id] = supervisor
        return supervisor

    async def wait_stopped(self, workload_id: str) -> None:
        """Return once the workload's task, kicked after its desired state became
        ``stopped``, has stopped it (callers bound the wait)."""
        supervisor = self._workloads.get(workload_id)
        if supervisor is not None:
            await supervisor.stopped.wait()

    def terminate(self, workload_id: str) -> None:
        """Signal a workload's instance to stop right away, ahead of its task, which stops it
        for good once kicked: a stop request commits the desired state meanwhile, so the
        app's own shutdown and that commit's fsync overlap."""
        supervisor = self._workloads.get(workload_id)
        if supervisor is not None:
            if supervisor.instance is not None:
                supervisor.instance.terminate()
            supervisor.replicas.terminate()

    def kick(self, workload_id: str) -> None:
        """Tell a workload's task that its desired state may have changed."""
        supervisor = self._workloads.get(workload_id)
        if supervisor is None or supervisor.finished:
            if self.store.get_workload(workload_id) is None:
                return  # deleted: nothing may start for it again
            supervisor = self._spawn(workload_id)
        supervisor.wake()

    def target(self, workload_id: str) -> str | None:
        """Base URL of a workload's ready instance (the next in turn, with several replicas),
        or ``None``."""
        supervisor = self._workloads.get(workload_id)
        return supervisor.target if supervisor is not None else None

    def targets(self, workload_id: str) -> list[str]:
        """Base URLs of all a workload's ready instances (none taken in turn)."""
        supervisor = self._workloads.get(workload_id)
        return supervisor.targets if supervisor is not None else []

    def replicas(self, workload_id: str) -> list[ReplicaView]:
        """A read-only picture of a workload's instances (replica 0 first; empty when its
        task is not running): name, address, port, start, readiness, restarts."""
        supervisor = self._workloads.get(workload_id)
        return supervisor.replicas.views() if supervisor is not None else []

    def candidate_replicas(self, workload_id: str) -> list[ReplicaView]:
        """The same of the new instances of a workload's rolling change in progress (empty
        when there is none, or none started yet)."""
        supervisor = self._workloads.get(workload_id)
        change = supervisor.change if supervisor is not None else None
        return change.views() if change is not None and not change.finished else []

    def lease(self, workload_id: str) -> Lease | None:
        """The base URL of a workload's running instance, held for one call until the lease is
        released (an instance leaving after a rolling change waits for its calls), or
        ``None``."""
        target = self.target(workload_id)
        return self.traffic.lease(target) if target is not None else None

    async def remove(self, workload_id: str) -> None:
        """Stop a workload's instance, end its task and remove what the runtime keeps of it
        (log files), once its row is deleted (so that nothing can start it again meanwhile)."""
        supervisor = self._workloads.pop(workload_id, None)
        if supervisor is not None:
            await supervisor.retire()
        self.logs.discard(workload_id)
        self.runtime.forget(workload_id)
        self.secrets.forget(workload_id)

    async def shutdown(self) -> None:
        """Stop every instance within the grace period; the desired state stays as it is."""
        if self._reaper_task is not None:
            self._reaper_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper_task
        await asyncio.gather(
            *(s.retire(keep_status=False) for s in self._workloads.values()),
            return_exceptions=True,
        )
        self._workloads.clear()
        await self.prober.close()
        await self.runtime.close()
        self.logs.flush()

    def sink(
        self, workload_id: str, holder: StateHolder = StateHolder.WORKLOAD, ordinal: int = 0
    ) -> InstanceSink:
        """Where a runtime delivers the log lines of one of a workload's instances (stored with
        its read offsets, in ``holder``; ``ordinal``: which further replica's)."""
        return InstanceSink(self, workload_id, holder, ordinal)


class InstanceSink:
    """A :data:`~workloadlab.server.runtimes.LogSink` for one instance: its lines go to its
    workload's log, its runtime state to its :attr:`holder`, which a rolling change's switch
    moves (the new instance's to the workload, the old one's to nowhere)."""

    def __init__(
        self, parent: Supervisor, workload_id: str, holder: StateHolder, ordinal: int = 0
    ) -> None:
        self._parent = parent
        self._workload_id = workload_id
        self.holder = holder
        self.ordinal = ordinal

    async def __call__(self, lines: Sequence[LogLine], state: dict[str, Any]) -> None:
        supervisor = self._parent._workloads.get(self._workload_id)
        if supervisor is not None and supervisor.retired:
            return
        masked = self._parent.secrets.mask_lines(self._workload_id, lines)
        self._parent.logs.add(self._workload_id, masked, state, self.holder, self.ordinal)
