"""The task that makes one workload's reality match its row (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from workloadlab.models import WorkloadStatus, format_timestamp, spec_digest, utcnow
from workloadlab.server.logwriter import StateHolder
from workloadlab.server.runtimes import Instance, StartFailed
from workloadlab.server.storage import storage_trouble
from workloadlab.server.store import WorkloadRow
from workloadlab.server.supervisor.launch import spec_to_run
from workloadlab.server.supervisor.monitor import Outcome, monitor
from workloadlab.server.supervisor.replicaset import ReplicaSet
from workloadlab.server.supervisor.rollout import RollingChange, abandon
from workloadlab.server.supervisor.status import condition, record_status
from workloadlab.server.supervisor.switch import (
    record_switch,
    retire_after_drain,
    retire_replica_after_drain,
)

if TYPE_CHECKING:
    from workloadlab.server.supervisor.fleet import InstanceSink, Supervisor

logger = logging.getLogger("workloadlab.server")

STOPPING_OR_STOPPED = frozenset({WorkloadStatus.STOPPING, WorkloadStatus.STOPPED})
STORAGE_RETRY = 1.0
"""Seconds a workload's task waits before trying again after a write failed on a full disk or
a locked database (it would fail again at once)."""


class WorkloadSupervisor:
    """The task that makes one workload's reality match its row."""

    def __init__(
        self,
        parent: Supervisor,
        workload_id: str,
        adopted: tuple[Instance, InstanceSink] | None = None,
        candidate: tuple[Instance, InstanceSink] | None = None,
        replicas: Mapping[int, tuple[Instance, InstanceSink]] | None = None,
        candidate_replicas: Mapping[int, tuple[Instance, InstanceSink]] | None = None,
    ) -> None:
        """``adopted``: the instance a previous server left running, with its log sink;
        ``candidate``: the same of its rolling change's new instance; ``replicas``: the same
        of its further replicas (:mod:`.replicas`) and of its change's, by ordinal."""
        self.parent = parent
        self.store = parent.store
        self.timings = parent.settings.timings
        self.id = workload_id
        self.instance: Instance | None = adopted[0] if adopted else None
        self._sink: InstanceSink | None = adopted[1] if adopted else None
        self.change: RollingChange | None = None
        """The rolling change in progress (:mod:`.rollout`), if any."""
        self._retiring: set[asyncio.Task[None]] = set()
        """Old instances of switches, stopping once their calls are answered."""
        self._hurry = asyncio.Event()
        """Set while the old instances must stop without waiting for their calls."""
        self.instance_generation: int | None = None
        self.ready = False
        self.started_at: str | None = None
        self.restarts = 0
        """Restarts of its own instance (replica 0) that this server saw."""
        self.retired = False
        self.crashes = 0
        self.healthy_since: float | None = None
        self._keep_status = True
        self.wake_event = asyncio.Event()
        """Set when the row may have changed (or the task must end): read it again."""
        self.wake_event.set()
        self.stopped = asyncio.Event()
        """Set while the task rests with its instance stopped (cleared by every wake)."""
        self.loop = asyncio.get_running_loop()
        row = self.store.get_workload(workload_id)
        if self.instance is not None:
            self.instance_generation = row.generation if row else None
            self.ready = row is not None and row.status is WorkloadStatus.RUNNING
            self.started_at = row.running_since if row else None
        self.replicas = ReplicaSet(self, replicas, self.instance_generation)
        """Replicas 1 … N-1 (:mod:`.replicaset`); the loop's own instance is replica 0."""
        rollout = self.store.rollout_under_way(workload_id) if candidate else None
        if row is not None and rollout is not None and candidate is not None:
            self.change = RollingChange(
                self, rollout, row.generation, *candidate, candidate_replicas
            )
        self._task = asyncio.create_task(self._run(), name=f"workload-{workload_id}")

    @property
    def finished(self) -> bool:
        """Whether the task has ended."""
        return self._task.done()

    @property
    def target(self) -> str | None:
        """The base URL of a ready instance, the next one in turn with several replicas."""
        own = self.instance.target if self.instance is not None and self.ready else None
        return self.replicas.pick(own) if len(self.replicas) else own

    @property
    def targets(self) -> list[str]:
        """The base URLs of every ready instance."""
        own = [self.instance.target] if self.instance is not None and self.ready else []
        return own + self.replicas.ready_targets()

    @property
    def noun(self) -> str:
        """What an instance is called in messages: ``container`` or ``process``."""
        return "container" if self.parent.runtime.name == "container" else "process"

    @property
    def switch_due(self) -> bool:
        """A rolling change's new instance is ready: the loop must switch to it."""
        return self.change is not None and self.change.ready and not self.change.finished

    def wake(self) -> None:
        """Re-read the row soon."""
        self.stopped.clear()
        self.wake_event.set()
        if self.change is not None:
            self.change.wake()

    async def retire(self, *, keep_status: bool = True) -> None:
        """Stop the instance and end the task (deletion or server shutdown)."""
        self.retired = True
        self._keep_status = keep_status
        self.wake_event.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self.wake_event.clear()
            row = self.store.get_workload(self.id)
            if row is None or self.retired:
                await self._end_change(None, keep=row is not None)  # deleted, or shutdown
                await self._stop_instance(row, final=True)
                return
            try:
                if row.desired is not WorkloadStatus.RUNNING:
                    await self._end_change(f"workload {self.id} was stopped")
                    await self._stop_instance(row, then=WorkloadStatus.STOPPED)
                    row = self.store.get_workload(self.id)
                    if row is not None and row.status is not WorkloadStatus.STOPPED:
                        self.set_status(
                            row, WorkloadStatus.STOPPED, conditions=[], running_since=None
                        )
                    if not self.wake_event.is_set():
                        self.stopped.set()
                    await self.wake_event.wait()
                    continue
                if self.instance is not None and self.instance_generation != row.generation:
                    await self._end_change(f"workload {self.id} was started again")
                    await self._stop_instance(row)  # stopped and started again meanwhile
                    continue
                if self.switch_due:
                    self._switch(row)
                    continue
                if row.status is WorkloadStatus.ERRORED:
                    await self._stop_instance(row)
                    await self.wake_event.wait()
                    continue
                if self.instance is None and not await self._start(row):
                    continue
                await self.replicas.ensure(row)
                self.follow_change(row)
                outcome = await monitor(self, row)
                await self._handle(outcome)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if storage_trouble(exc) is not None:  # a full disk or a locked database
                    logger.warning("workload %s: %s; trying again", self.id, exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake_event.wait(), STORAGE_RETRY)
                    continue  # level-triggered: read the row again and act on it
                logger.exception("supervising workload %s failed", self.id)
                current = self.store.get_workload(self.id)
                if current is not None:
                    await self._stop_instance(current)
                    self.set_status(
                        current, WorkloadStatus.ERRORED, message=f"internal error: {exc}"
                    )
                await self.wake_event.wait()

    async def _start(self, row: WorkloadRow) -> bool:
        artifact = self.store.get_artifact(row.artifact_id)
        if artifact is None:
            self.set_status(row, WorkloadStatus.ERRORED, message="its artifact no longer exists")
            return False
        spec = spec_to_run(self.store, artifact, row.runtime)
        sink = self.parent.sink(self.id)
        try:
            spec = self.parent.secrets.resolve(self.id, spec)  # in memory only, at each start
            instance = await self.parent.runtime.start(self.id, spec, sink)
        except StartFailed as exc:
            self.set_status(row, WorkloadStatus.ERRORED, message=str(exc), conditions=[])
            return False
        self.instance, self._sink = instance, sink
        self.instance_generation = row.generation
        self.ready = False
        self.started_at = format_timestamp(utcnow())
        current = self.store.get_workload(self.id)
        if current is None or self.retired:
            return False  # deleted while it started: the loop stops it at once
        name = spec.primary.name or "primary"
        # What it runs: shown once the status below stores the instance's state with it.
        digest = spec_digest(artifact.spec)
        self.store.record_running_artifact(self.id, artifact.id, artifact.version, digest)
        self.set_status(  # with the instance's state: a crash now must not orphan it
            current,
            WorkloadStatus.INITIALIZING,
            conditions=[condition("Started", name, True), condition("Ready", name, False)],
            running_since=None,
            runtime_state=instance.state,
        )
        return True

    async def _handle(self, outcome: Outcome) -> None:
        row = self.store.get_workload(self.id)
        if row is None or outcome.kind == "wake":
            return
        was_ready = self.ready or self.healthy_since is not None
        if outcome.kind == "startup":
            await self._stop_instance(row)
            self.set_status(row, WorkloadStatus.ERRORED, message=outcome.detail, conditions=[])
            return
        if outcome.kind == "exited":
            assert outcome.exit is not None
            exit_ = outcome.exit
            self.instance = None
            self.ready = False
            self._forget_state()
            if (
                row.desired is not WorkloadStatus.RUNNING
                or row.generation != self.instance_generation
            ):
                return  # it was asked to stop (signalled ahead of this task): no crash
            why = f"the {self.noun} {exit_.message}"
            if not was_ready and row.restart_count == 0 and self.crashes == 0:
                self.set_status(
                    row,
                    WorkloadStatus.ERRORED,
                    message=f"{why} before it became ready",
                    conditions=[],
                    exit_code=exit_.exit_code,
                    running_since=None,
                )
                return
        else:
            why = outcome.detail
            await self._stop_instance(row, only_own=True)
            exit_ = None
        self.healthy_since = None
        self.crashes += 1
        self.restarts += 1
        if self.crashes > self.timings.crash_limit:
            self.set_status(
                row,
                WorkloadStatus.ERRORED,
                message=f"{why}; gave up after {self.crashes - 1} restarts",
                conditions=[],
                exit_code=exit_.exit_code if exit_ else None,
                running_since=None,
            )
            return
        delay = min(self.timings.backoff_base * 2 ** (self.crashes - 1), self.timings.backoff_cap)
        row = self.store.get_workload(self.id) or row
        self.store.update_workload(self.id, touch=False, restart_count=row.restart_count + 1)
        row = self.store.get_workload(self.id) or row
        self.set_status(
            row,
            WorkloadStatus.INITIALIZING,
            message=f"{why}; restarting in {delay:g} s",
            conditions=[condition("CrashLoopBackOff", "primary", True)],
            exit_code=exit_.exit_code if exit_ else None,
            running_since=None,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake_event.wait(), timeout=delay)

    async def _stop_instance(
        self,
        row: WorkloadRow | None,
        *,
        final: bool = False,
        then: WorkloadStatus | None = None,
        only_own: bool = False,
    ) -> None:
        """Stop the instance (if any) and forget it, with the further replicas unless
        ``only_own`` (its own restart after a failed probe); ``then`` is the status to write
        with that (one commit: each costs an fsync on the hot path of a restart)."""
        await self._hurry_retiring()
        instance = self.instance
        if instance is None:
            if not only_own:
                await self.replicas.stop()
            return
        if (
            row is not None
            and not final
            and row.status not in (STOPPING_OR_STOPPED | {WorkloadStatus.ERRORED})
        ):  # (errored stays: a replica that gave up leaves the others to stop)
            self.set_status(row, WorkloadStatus.STOPPING)
        grace = self.parent.settings.timings.grace_period
        if only_own:
            await instance.stop(grace)
        else:
            await asyncio.gather(instance.stop(grace), self.replicas.stop())
        self.instance = None
        self.ready = False
        current = self.store.get_workload(self.id)
        if current is None:
            return
        if final and not self._keep_status:
            then = WorkloadStatus.STOPPED
        if then is not None:  # with the last log lines: one commit
            self.set_status(current, then, conditions=[], running_since=None, runtime_state=None)
        else:
            self._forget_state()

    # -- rolling changes (:mod:`.rollout`) ------------------------------------------------

    def follow_change(self, row: WorkloadRow) -> None:
        """Start following the workload's change in progress, if there is one and it is not
        followed yet (level-triggered: the row of the change says so)."""
        if self.change is not None and not self.change.finished:
            return
        rollout = self.store.rollout_under_way(self.id)
        if rollout is not None:
            self.change = RollingChange(self, rollout, row.generation)

    async def _end_change(self, reason: str | None, *, keep: bool = False) -> None:
        """Abandon the change in progress (see :meth:`RollingChange.stop`), if any; and one
        only in the database (its new instance gone with a previous server)."""
        if self.change is not None and not self.change.finished:
            await self.change.stop(reason, keep=keep)
        elif not keep:
            rollout = self.store.rollout_under_way(self.id)
            if rollout is not None:
                abandon(self, rollout, reason)

    def _switch(self, row: WorkloadRow) -> None:
        """Make the change's ready instance the workload's (stored first, in one transaction),
        and let the old one go once its calls are answered. Nothing awaits in between: no call
        can see one without the other."""
        change = self.change
        assert change is not None
        record_switch(self, change, row)
        old, old_sink = self.instance, self._sink
        self.instance, self._sink, extras = change.take()
        if self._sink is not None:
            self._sink.holder = StateHolder.WORKLOAD
        if old_sink is not None:
            old_sink.holder = StateHolder.NONE
        self.ready = True
        self.healthy_since = self.loop.time()
        self.crashes = 0
        self.restarts = 0
        self.started_at = format_timestamp(utcnow())
        leaving = self.replicas.hand_over(extras, row.generation)
        switched = self.store.get_workload(self.id)
        if leaving and switched is not None:  # statusDetails.replicas: the new ones
            self.set_status(switched, switched.status)
        if old is not None:
            self._retire(retire_after_drain(self, old, self._hurry))
        for replica in leaving:
            self._retire(retire_replica_after_drain(self, replica, self._hurry))

    def _retire(self, retiring: Coroutine[Any, Any, None]) -> None:
        """Run an old instance's retirement (hurried by :meth:`_hurry_retiring`)."""
        task = asyncio.create_task(retiring, name=f"retire-{self.id}")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _hurry_retiring(self) -> None:
        """Stop the old instances of switches now (the workload stops or goes)."""
        if not self._retiring:
            return
        self._hurry.set()
        try:
            await asyncio.gather(*self._retiring, return_exceptions=True)
        finally:
            self._hurry.clear()

    # -- status ----------------------------------------------------------------------------

    def became_ready(self, name: str) -> None:
        """The instance passed its probes: it takes requests, and the workload is ``running``
        once its further replicas are ready too."""
        self.ready = True
        self.healthy_since = self.loop.time()
        row = self.store.get_workload(self.id)
        if row is not None:
            self.ready_status(row, name)

    def ready_status(self, row: WorkloadRow, name: str) -> None:
        """``running`` when every replica is ready, else ``initializing`` with how many are."""
        wanted = self.replicas.wanted(row)
        ready = 1 + self.replicas.ready_count
        conditions = [condition("Started", name, True), condition("Ready", name, ready >= wanted)]
        if ready >= wanted:
            since = row.running_since if row.status is WorkloadStatus.RUNNING else None
            self.set_status(
                row,
                WorkloadStatus.RUNNING,
                conditions=conditions,
                running_since=since or format_timestamp(utcnow()),
            )
        else:
            self.set_status(
                row,
                WorkloadStatus.INITIALIZING,
                message=f"{ready} of {wanted} replicas ready",
                conditions=conditions,
            )

    def became_unready(self, name: str, path: str) -> None:
        """Its readiness probe at ``path`` fails: back to ``initializing``, no requests."""
        self.ready = False
        self.healthy_since = None
        row = self.store.get_workload(self.id)
        if row is not None:
            self.set_status(
                row,
                WorkloadStatus.INITIALIZING,
                message=f"readiness probe {path} is failing",
                conditions=[condition("Started", name, True), condition("Ready", name, False)],
            )

    def set_status(self, row: WorkloadRow, status: WorkloadStatus, **details: Any) -> None:
        """Store a status, after the log lines that came before it (one commit); secret values
        in its message are masked."""
        if details.get("message"):
            details["message"] = self.parent.secrets.mask(self.id, details["message"])
        if len(self.replicas) or self.replicas.wanted(row) > 1:
            details["replicas"] = [view.to_wire() for view in self.replicas.views()]
        with self.store.transaction():
            self.parent.logs.flush(self.id)
            record_status(self.store, row, status, **details)

    def _forget_state(self) -> None:
        """Clear the stored runtime state (the instance is gone), after its last lines."""
        with self.store.transaction():
            self.parent.logs.flush(self.id)
            self.store.update_workload(self.id, touch=False, runtime_state=None)
