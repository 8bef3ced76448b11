"""A rolling change: a workload's new instance starts beside the old one and takes over once ready.

``PATCH /console/deployments/{id}`` with ``artifactId`` stores a change *in progress*
(:mod:`workloadlab.server.operations.rollouts`); the workload's task, kicked, makes a
:class:`RollingChange`, whose own task:

1. starts the target artifact's spec as a **new instance** beside the serving one (the process
   runtime gives it a slot and a free host port of its own) and stores its runtime state in the
   change's row at once, so a crash of the server now leaves nothing unknown behind;
2. **probes** it: its startup probe, then its readiness probe (quickly at first, as for any
   start); without a readiness probe it is ready once its port takes connections (``ready``
   must mean the proxy can switch to it: a ``503`` is what the change must avoid);
3. when it is ready, wakes the workload's loop, which makes the **switch**: one transaction moves
   the workload (``artifact_id``, ``runtime_state``: the new instance's) and the deployment to
   the target, ends the change ``completed`` and writes ``workload.rolledOut`` and
   ``deployment.artifactChanged``; from then on the invoke proxy gets the new address. The old
   instance is stopped once the calls that had its address are answered (:mod:`.traffic`, at
   most the grace period), then with the usual grace;
4. or **abandons** it: the new instance exits, its startup probe fails, or it is not ready within
   ``--rollout-timeout``; or the workload is stopped or started again, or the deployment is
   deleted. The new instance is stopped, the change ends ``abandoned`` with the reason
   (``workload.rolloutAbandoned``), and the old instance, which never stopped serving, goes on.

Crashes (``kill -9`` of the server): before the switch, the database says the workload runs
the old artifact with the old instance and the change is in progress with the new instance's
state: the next server adopts both and carries on (or starts a new instance if that one is
gone). After the switch, the old instance is in no state at all: the next server's sweep kills
it as an orphan. A server that stops gracefully stops the new instance and keeps the change in
progress, to start again next time. Deleting the workload drops the change with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

from workloadlab.models import ArtifactSpec, RolloutStatus, WorkloadStatus
from workloadlab.server.audit import SYSTEM, audit
from workloadlab.server.logwriter import StateHolder
from workloadlab.server.probes import Verdict
from workloadlab.server.runtimes import Instance, StartFailed
from workloadlab.server.store import ArtifactRow, RolloutRow
from workloadlab.server.supervisor.candidates import CandidateReplicas
from workloadlab.server.supervisor.launch import spec_to_run
from workloadlab.server.supervisor.readiness import Readiness
from workloadlab.server.supervisor.replicas import ReplicaView, port_of
from workloadlab.server.supervisor.sizing import replica_count

if TYPE_CHECKING:
    from workloadlab.server.supervisor.fleet import InstanceSink
    from workloadlab.server.supervisor.workload import WorkloadSupervisor

logger = logging.getLogger("workloadlab.server")

LOOK_AGAIN = 1.0
"""Seconds between looks at the rows while a new instance gets ready: a deployment deleted
meanwhile kicks no workload."""


class RollingChange:
    """The new instance of a workload's change in progress, from its start to the switch (which
    the workload's loop makes: :meth:`take`) or to its abandonment."""

    def __init__(
        self,
        worker: WorkloadSupervisor,
        rollout: RolloutRow,
        generation: int,
        candidate: Instance | None = None,
        sink: InstanceSink | None = None,
        extras: Mapping[int, tuple[Instance, InstanceSink]] | None = None,
    ) -> None:
        """``candidate`` (with its ``sink``): the new instance, adopted after a restart;
        ``extras``: the same of its further new instances (several replicas), by ordinal."""
        self.worker = worker
        self.store = worker.store
        self.id = rollout.id
        self.rollout = rollout
        self.generation = generation
        self.candidate = candidate
        self.sink = sink
        self.extras = CandidateReplicas(worker, extras)
        """New instances ``1`` … ``N-1`` of a workload of N replicas (:mod:`.candidates`)."""
        self.passed: set[int] = set()
        """The new instances (by ordinal) found ready so far."""
        self.ready = False
        """The new instance is ready: the workload's loop switches to it."""
        self.finished = False
        """Switched to, or abandoned: nothing more to do."""
        self.wake_event = asyncio.Event()
        self._stop: tuple[str | None, bool] | None = None
        self.task = asyncio.create_task(self._run(), name=f"rollout-{worker.id}")

    def views(self) -> list[ReplicaView]:
        """A read-only picture of the new instances started so far (the first one first)."""
        instances = {0: self.candidate} if self.candidate is not None else {}
        instances.update((k, instance) for k, (instance, _) in self.extras.taken.items())
        return [
            ReplicaView(
                ordinal,
                f"{self.worker.id}-{self.id}-{ordinal}",
                instance.target,
                port_of(instance.target),
                None,
                self.ready or ordinal in self.passed,
                0,
            )
            for ordinal, instance in sorted(instances.items())
        ]

    def wake(self) -> None:
        """Look at the rows again soon (the workload's task was kicked)."""
        self.wake_event.set()

    def take(
        self,
    ) -> tuple[Instance, InstanceSink | None, dict[int, tuple[Instance, InstanceSink]]]:
        """Hand the ready instances to the workload's loop, which has recorded the switch:
        the first, its sink, and the further ones by ordinal."""
        assert self.ready
        assert self.candidate is not None
        self.finished = True
        candidate, self.candidate = self.candidate, None
        return candidate, self.sink, self.extras.take()

    async def stop(self, reason: str | None, *, keep: bool = False) -> None:
        """End the change from outside: abandon it because of ``reason``; ``reason=None``
        drops it without a trail (its workload is deleted), ``keep`` leaves it in progress for
        the next server (this one stops). The new instance is stopped either way."""
        if self.finished:
            return
        self._stop = (reason, keep)
        self.wake_event.set()
        if not self.task.done():
            await asyncio.shield(self.task)
        if not self.finished:  # it was ready, waiting for a switch that will not come
            await self._finish(reason, keep=keep)

    # -- the task -----------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            if self.candidate is None and not await self._start():
                return
            if not await self._start_extras():
                return
            reason = await self._watch()
            if self._stop is not None:
                await self._finish(*self._stop)
            elif reason is not None:
                await self._finish(reason)
            else:
                self.ready = True
                logger.info("workload %s: the new instance of change %s is ready", *self._ids)
                self.worker.wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("rolling change %s of workload %s failed", self.id, self.worker.id)
            with contextlib.suppress(Exception):
                await self._finish(f"internal error: {exc}")
            if not self.finished:  # the trail could not be written: at least stop it
                self.finished = True
                await self._stop_candidate()

    @property
    def _ids(self) -> tuple[str, str]:
        return self.worker.id, self.id

    async def _start(self) -> bool:
        """Start the new instance and store its state; ``False`` if the change ended."""
        target = self.store.get_artifact(self.rollout.to_artifact_id)
        if target is None:
            await self._finish(f"artifact {self.rollout.to_artifact_id} no longer exists")
            return False
        self.sink = self.worker.parent.sink(self.worker.id, StateHolder.ROLLOUT)
        try:
            spec = self._spec(target)
            instance = await self.worker.parent.runtime.start(self.worker.id, spec, self.sink)
        except StartFailed as exc:
            await self._finish(f"the new instance could not start: {exc}")
            return False
        self.candidate = instance
        if self._stop is not None:
            await self._finish(*self._stop)
            return False
        with self.store.transaction():  # a crash from now on must not orphan it
            self.worker.parent.logs.flush(self.worker.id)
            stored = self.store.update_rollout(self.id, runtime_state=instance.state)
        if not stored:
            await self._finish(None)
            return False
        logger.info("workload %s: change %s started %s", self.worker.id, self.id, instance)
        return True

    def _spec(self, target: ArtifactRow) -> ArtifactSpec:
        """The target's spec to start: sized by the workload's runtime, with its security
        settings, its references resolved (in memory only)."""
        row = self.store.get_workload(self.worker.id)
        spec = spec_to_run(self.store, target, row.runtime if row else None)
        return self.worker.parent.secrets.resolve(self.worker.id, spec)

    async def _start_extras(self) -> bool:
        """Start the further new instances a workload of several replicas needs; ``False`` if
        the change ended."""
        row = self.store.get_workload(self.worker.id)
        target = self.store.get_artifact(self.rollout.to_artifact_id)
        wanted = replica_count(row.runtime) if row is not None else 1
        if wanted <= 1 + len(self.extras.taken) or target is None:
            return True
        try:
            spec = self._spec(target)
        except StartFailed as exc:
            await self._finish(f"the new instance could not start: {exc}")
            return False
        failure = await self.extras.start(spec, wanted)
        if self._stop is not None:
            await self._finish(*self._stop)
            return False
        if failure is not None:
            await self._finish(failure)
            return False
        return True

    async def _watch(self) -> str | None:
        """Probe the new instances until every one is ready (``None``), or the reason to
        abandon the change."""
        candidate = self.candidate
        assert candidate is not None
        target = self.store.get_artifact(self.rollout.to_artifact_id)
        if target is None:
            return f"artifact {self.rollout.to_artifact_id} no longer exists"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.worker.timings.rollout_timeout
        spec = ArtifactSpec.model_validate(target.spec)
        instances = {0: candidate, **{k: i for k, (i, _) in self.extras.taken.items()}}
        pending = {k: Readiness(self.worker, i, spec) for k, i in instances.items()}
        exits = {asyncio.ensure_future(i.wait()): k for k, i in instances.items()}
        try:
            while pending:
                if self._stop is not None:
                    return None
                reason = self._unwanted()
                if reason is not None:
                    return reason
                wake = asyncio.ensure_future(self.wake_event.wait())
                due_at = min(
                    min(r.due_at for r in pending.values()), deadline, loop.time() + LOOK_AGAIN
                )
                done, _ = await asyncio.wait(
                    {*exits, wake},
                    timeout=max(0.0, due_at - loop.time()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                wake.cancel()
                ended = next((task for task in exits if task in done), None)
                if ended is not None:
                    which, message = _which(exits[ended]), ended.result().message
                    noun = self.worker.noun
                    return f"the new instance's {noun}{which} {message} before it became ready"
                if self.wake_event.is_set():
                    self.wake_event.clear()
                    continue
                if loop.time() >= deadline:
                    seconds = f"{self.worker.timings.rollout_timeout:g} s"
                    return f"the new instance was not ready within {seconds} (--rollout-timeout)"
                for ordinal, readiness in list(pending.items()):
                    if readiness.due_at > loop.time():
                        continue
                    verdict = await readiness.check()
                    if verdict is Verdict.FAILED:
                        return readiness.failure + _which(ordinal)
                    if verdict is Verdict.PASSED:
                        del pending[ordinal]
                        self.passed.add(ordinal)
            return None
        finally:
            for task in exits:
                if not task.done():
                    task.cancel()

    def _unwanted(self) -> str | None:
        """Why the change must end now that the rows changed (``None``: it goes on)."""
        rollout = self.store.get_rollout(self.id)
        workload = self.store.get_workload(self.worker.id)
        if rollout is None or rollout.status is not RolloutStatus.IN_PROGRESS or workload is None:
            self._stop = (None, False)
            return None
        if workload.desired is not WorkloadStatus.RUNNING:
            return f"workload {workload.id} was stopped"
        if workload.generation != self.generation:
            return f"workload {workload.id} was started again"
        deployment_id = self.rollout.deployment_id  # empty: a replacement (no deployment)
        if deployment_id and self.store.get_deployment(deployment_id) is None:
            return f"deployment {self.rollout.deployment_id} was deleted"
        return None

    # -- the end --------------------------------------------------------------------------------

    async def _finish(self, reason: str | None, keep: bool = False) -> None:
        """Stop the new instance and end the change (see :meth:`stop` for the arguments)."""
        if self.finished:
            return
        self.finished = True
        await self._stop_candidate()
        if keep:
            with self.store.transaction():
                self.worker.parent.logs.flush(self.worker.id)
                self.store.update_rollout(self.id, runtime_state=None)
            return
        abandon(self.worker, self.rollout, reason)

    async def _stop_candidate(self) -> None:
        candidate, self.candidate = self.candidate, None
        if self.sink is not None:
            self.sink.holder = StateHolder.NONE
        stops: list[Awaitable[Any]] = [self.extras.stop()]
        if candidate is not None:
            stops.append(candidate.stop(self.worker.timings.grace_period))
        await asyncio.gather(*stops)


def _which(ordinal: int) -> str:
    """`` (replica k)`` after a message about a further new instance; nothing for the first."""
    return f" (replica {ordinal})" if ordinal else ""


def abandon(worker: WorkloadSupervisor, rollout: RolloutRow, reason: str | None) -> None:
    """End a change ``abandoned`` because of ``reason`` (``None``: its workload is deleted, and
    its trail ends with that) once its new instance is gone."""
    store = worker.store
    if reason is not None:
        reason = worker.parent.secrets.mask(worker.id, reason)
    message = reason or f"workload {worker.id} was deleted"
    with store.transaction():
        worker.parent.logs.flush(worker.id)
        ended = store.finish_rollout(rollout.id, RolloutStatus.ABANDONED, message)
        if ended and reason is not None and store.get_workload(worker.id):
            deployment = store.get_deployment(rollout.deployment_id)
            audit(
                store,
                SYSTEM,
                "workload.rolloutAbandoned",
                worker.id,
                deployment_id=deployment.id if deployment else None,
                artifact_id=rollout.to_artifact_id,
                details={**change_details(worker, rollout), "reason": reason},
            )
    if ended and reason is not None:
        logger.warning("workload %s: change %s abandoned: %s", worker.id, rollout.id, reason)


def change_details(worker: WorkloadSupervisor, rollout: RolloutRow) -> dict[str, Any]:
    """The from/to part of a change's events."""
    versions = {
        key: (worker.store.artifact_ref(artifact_id) or {}).get("version")
        for key, artifact_id in (("from", rollout.from_artifact_id), ("to", rollout.to_artifact_id))
    }
    return {
        "rolloutId": rollout.id,
        "fromArtifactId": rollout.from_artifact_id,
        "fromVersion": versions["from"],
        "toArtifactId": rollout.to_artifact_id,
        "toVersion": versions["to"],
    }
