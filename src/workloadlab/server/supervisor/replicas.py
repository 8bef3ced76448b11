"""A workload's further replicas: instances ``1`` … ``N-1`` beside the one its loop drives.

A workload whose runtime asks for ``replicaCount`` N runs N instances of its spec. Instance
``0`` is the one the workload's loop (:mod:`.workload`) always drove: its start, probes, crash
backoff, stop, the rolling change's switch, and the workload's ``runtime_state``. Each further
replica is a :class:`Replica`: a task of its own that starts an instance of the same artifact
and generation (a free host port in ``$PORT`` for the process runtime, a container and sandbox
of its own for the container runtime), probes it, and starts it again after a crash with
Kubernetes' backoff, on its own; its runtime state lives in the ``replicas`` table, so a
restarted server adopts it, and its sweep spares it.

The workload's loop owns the set: it makes the replicas once its own instance has started, and
stops them all with its own (a stop, a new start, a delete, the server's shutdown, ``errored``).

Readiness and status: a replica takes invoke calls once it is ready (startup probe passed, then
its readiness probe, or its port taking connections without one). The workload is ``running``
when **every** replica is ready; while only some are, it is ``initializing`` and its message
says how many are ("2 of 3 replicas ready"); invoke serves the ready ones all the while and
answers ``503`` only when none is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workloadlab.models import ArtifactSpec, format_timestamp, utcnow
from workloadlab.server.logwriter import StateHolder
from workloadlab.server.probes import ProbeKind, Verdict
from workloadlab.server.runtimes import Instance, StartFailed
from workloadlab.server.supervisor.launch import spec_to_run
from workloadlab.server.supervisor.monitor import probe_schedules
from workloadlab.server.supervisor.readiness import Readiness

if TYPE_CHECKING:
    from workloadlab.server.supervisor.fleet import InstanceSink
    from workloadlab.server.supervisor.workload import WorkloadSupervisor

logger = logging.getLogger("workloadlab.server")


@dataclass(frozen=True)
class ReplicaView:
    """What a ``GET`` may show of one replica (read-only)."""

    ordinal: int
    """``0`` for the instance the workload's loop drives, ``1`` … for the others."""
    name: str
    address: str | None
    """The instance's base URL (``http://127.0.0.1:PORT``), ``None`` while none runs."""
    port: int | None
    started_at: str | None
    ready: bool
    restart_count: int

    def to_wire(self) -> dict[str, Any]:
        """The camelCase form an API answer carries."""
        return {
            "ordinal": self.ordinal,
            "name": self.name,
            "address": self.address,
            "port": self.port,
            "startedAt": self.started_at,
            "ready": self.ready,
            "restartCount": self.restart_count,
        }


def port_of(target: str | None) -> int | None:
    """The port of a base URL ``http://host:port``."""
    if not target:
        return None
    port = target.rpartition(":")[2]
    return int(port) if port.isdigit() else None


class Replica:
    """One further replica of a workload (see the module docstring)."""

    def __init__(
        self,
        worker: WorkloadSupervisor,
        ordinal: int,
        generation: int,
        adopted: tuple[Instance, InstanceSink] | None = None,
        *,
        ready: bool = False,
    ) -> None:
        """``adopted``: its running instance (a previous server's, or a rolling change's new
        one, ``ready`` already)."""
        self.worker = worker
        self.store = worker.store
        self.ordinal = ordinal
        self.generation = generation
        self.instance: Instance | None = adopted[0] if adopted else None
        self.sink: InstanceSink | None = adopted[1] if adopted else None
        self.started_at: str | None = format_timestamp(utcnow()) if ready else None
        self.ready = ready
        self.restart_count = 0
        self.crashes = 0
        self.gave_up: str | None = None
        """Why it stopped trying (crash limit reached), once it did."""
        self._ending = False
        self._detached = False
        """Out of the workload's set (a switch replaced it): it writes nothing any more."""
        self._released: Instance | None = None
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"replica-{worker.id}-{ordinal}")

    @property
    def finished(self) -> bool:
        """Whether its task has ended (stopped, gave up, or failed)."""
        return self._task.done()

    @property
    def name(self) -> str:
        """``<workload id>-<ordinal>``."""
        return f"{self.worker.id}-{self.ordinal}"

    def view(self) -> ReplicaView:
        """A read-only picture of the replica now."""
        target = self.instance.target if self.instance is not None else None
        return ReplicaView(
            self.ordinal,
            self.name,
            target,
            port_of(target),
            self.started_at,
            self.ready,
            self.restart_count,
        )

    def terminate(self) -> None:
        """Send the stop signal now (a :meth:`stop` follows)."""
        if self.instance is not None:
            self.instance.terminate()

    def detach(self) -> None:
        """Leave the workload's set (a rolling change's switch): no call, write or report."""
        self._detached = True
        self.ready = False
        if self.sink is not None:
            self.sink.holder = StateHolder.NONE

    async def release(self) -> Instance | None:
        """End the task of a detached replica, its instance left running and returned (the
        switch stops it once its calls are answered); ``None`` if it had none."""
        self._released = self.instance
        self.instance = None
        self._ending = True
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self._released

    async def stop(self) -> None:
        """Stop the instance and end the task; its stored state goes with it."""
        self._ending = True
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    # -- the task --------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._ending:
                if self.instance is None:
                    failure = await self._start()
                    if self._ending:
                        return
                    if failure is not None:
                        if not await self._back_off(failure):
                            return
                        continue
                why = await self._watch()
                if self._ending:
                    return
                self._set_ready(False)
                if self.instance is not None:  # a liveness or startup probe failed
                    await self._stop_instance()
                if not await self._back_off(why):
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("replica %s of workload %s failed", self.ordinal, self.worker.id)
        finally:
            await self._stop_instance()

    async def _start(self) -> str | None:
        """Start an instance and store its state; why it could not (``None``: it did)."""
        row = self.store.get_workload(self.worker.id)
        artifact = self.store.get_artifact(row.artifact_id) if row is not None else None
        if row is None or artifact is None or row.generation != self.generation:
            self._ending = True
            return "its workload changed"
        spec = spec_to_run(self.store, artifact, row.runtime)
        sink = self.worker.parent.sink(self.worker.id, StateHolder.REPLICA, self.ordinal)
        try:
            spec = self.worker.parent.secrets.resolve(self.worker.id, spec)
            instance = await self.worker.parent.runtime.start(self.worker.id, spec, sink)
        except StartFailed as exc:
            return f"it could not start: {exc}"
        self.instance, self.sink = instance, sink
        self.started_at = format_timestamp(utcnow())
        with self.store.transaction():  # a crash of the server from now on must not orphan it
            self.worker.parent.logs.flush(self.worker.id)
            self.store.save_replica(self.worker.id, self.ordinal, instance.state)
        logger.info("workload %s: replica %d started %s", *self._ids, instance)
        return None

    @property
    def _ids(self) -> tuple[str, int]:
        return self.worker.id, self.ordinal

    async def _watch(self) -> str:
        """Probe the instance (ready, then readiness and liveness on their schedules) until it
        ends or a probe gives up; why (or ``""`` when told to end)."""
        instance = self.instance
        assert instance is not None
        row = self.store.get_workload(self.worker.id)
        artifact = self.store.get_artifact(row.artifact_id) if row is not None else None
        if artifact is None:
            return "its artifact no longer exists"
        spec = ArtifactSpec.model_validate(artifact.spec)
        loop = asyncio.get_running_loop()
        readiness = Readiness(self.worker, instance, spec) if not self.ready else None
        schedules = probe_schedules(
            spec.primary, loop.time(), quick=False, timings=self.worker.timings
        )
        schedules.pop(ProbeKind.STARTUP, None)
        port = spec.primary.port or 0
        healthy_since: float | None = None
        exit_task = asyncio.ensure_future(instance.wait())
        try:
            while not self._ending:
                due_at: float | None
                if readiness is not None:
                    due_at = readiness.due_at
                else:
                    due_at = min((s.next_at for s in schedules.values()), default=None)
                timeout = None if due_at is None else max(0.0, due_at - loop.time())
                wake = asyncio.ensure_future(self._wake.wait())
                done, _ = await asyncio.wait(
                    {exit_task, wake}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                wake.cancel()
                if exit_task in done:
                    self.instance = None
                    self._forget_state()
                    return f"the {self.worker.noun} {exit_task.result().message}"
                if self._ending:
                    return ""
                if healthy_since is not None and loop.time() - healthy_since >= (
                    self.worker.timings.backoff_reset
                ):
                    self.crashes = 0
                if readiness is not None:
                    verdict = await readiness.check()
                    if verdict is Verdict.FAILED:
                        return readiness.failure.replace("the new instance's", "its")
                    if verdict is Verdict.PASSED:
                        readiness = None
                        healthy_since = loop.time()
                        schedules = {
                            kind: s
                            for kind, s in probe_schedules(
                                spec.primary, loop.time(), quick=False, timings=self.worker.timings
                            ).items()
                            if kind is not ProbeKind.STARTUP
                        }
                        self._set_ready(True)
                    continue
                now = loop.time()
                due = [s for s in schedules.values() if s.next_at <= now]
                answers = await asyncio.gather(
                    *(
                        self.worker.parent.prober.check(
                            s.probe, instance.port_for(s.probe.port or port)
                        )
                        for s in due
                    )
                )
                now = loop.time()
                for schedule, answer in zip(due, answers, strict=True):
                    verdict = schedule.record(answer, now)
                    if schedule.kind is ProbeKind.READINESS and verdict is not None:
                        self._set_ready(verdict is Verdict.PASSED)
                    elif schedule.kind is ProbeKind.LIVENESS and verdict is Verdict.FAILED:
                        probe = schedule.probe
                        return f"liveness probe {probe.path} failed {probe.failure_threshold} times"
            return ""
        finally:
            if not exit_task.done():
                exit_task.cancel()

    async def _back_off(self, why: str) -> bool:
        """After a crash: wait the backoff (``False``: the task must end, or it gave up)."""
        if self._detached:
            return False
        self.crashes += 1
        limit = self.worker.timings.crash_limit
        if self.crashes > limit:
            self.gave_up = f"replica {self.ordinal}: {why}; gave up after {limit} restarts"
            self.worker.replicas.gave_up(self)
            return False
        timings = self.worker.timings
        delay = min(timings.backoff_base * 2 ** (self.crashes - 1), timings.backoff_cap)
        logger.warning("workload %s: replica %d: %s; restarting in %g s", *self._ids, why, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)
        if self._ending:
            return False
        self.restart_count += 1
        self.worker.replicas.restarted()
        return True

    def _set_ready(self, ready: bool) -> None:
        if ready != self.ready and not self._detached:
            self.ready = ready
            self.worker.replicas.changed()

    async def _stop_instance(self) -> None:
        instance, self.instance = self.instance, None
        was_ready = self.ready
        self.ready = False
        if was_ready and not self._detached:
            self.worker.replicas.changed()
        if instance is not None:
            await instance.stop(self.worker.timings.grace_period)
            self._forget_state()

    def _forget_state(self) -> None:
        if self.sink is not None:
            self.sink.holder = StateHolder.NONE
        if self._detached:
            return  # its row is its successor's now
        with self.store.transaction():
            self.worker.parent.logs.flush(self.worker.id)
            self.store.forget_replica(self.worker.id, self.ordinal)
