"""Level-triggered supervision: the database says what should run; a task per workload makes it so.

The API only writes the desired state (``desired``, ``generation``: bumped by every start) and
*kicks* the workload's task. The task reads the row again and acts: start an instance, stop it,
probe it, restart it after a crash with Kubernetes' backoff, or give up (``errored``, sticky
until the next start). Because the task always works from what is stored, a kick can never be
lost or misread, and a restarted server simply runs the same loop: on start-up it first adopts
the instances a previous server left running (same pid and start time), kills what nobody owns
(orphans), then lets each task bring reality in line with the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workloadlab.models import ArtifactSpec, format_timestamp, utcnow
from workloadlab.server.logwriter import LogWriter
from workloadlab.server.probes import ProbeKind, Prober, ProbeSchedule, Verdict
from workloadlab.server.runtimes import Exit, Instance, LogSink, Runtime, StartFailed
from workloadlab.server.settings import ServerSettings
from workloadlab.server.storage import storage_trouble
from workloadlab.server.store import LogLine, Store, WorkloadRow

logger = logging.getLogger("workloadlab.server")

SYSTEM_ACTOR = "system"
"""The actor of events the server causes by itself (status changes, expiry)."""
STORAGE_RETRY = 1.0
"""Seconds a workload's task waits before trying again after a write failed on a full disk or
a locked database (it would fail again at once)."""


@dataclass(frozen=True)
class Outcome:
    """Why monitoring an instance ended."""

    kind: str  # "wake" | "exited" | "liveness" | "startup"
    exit: Exit | None = None
    detail: str = ""


class Supervisor:
    """Owns one :class:`WorkloadSupervisor` per workload, the prober and the draft reaper."""

    def __init__(self, store: Store, runtime: Runtime, settings: ServerSettings) -> None:
        self.store = store
        self.runtime = runtime
        self.settings = settings
        self.prober = Prober()
        self.logs = LogWriter(store, settings.log_cap)
        self._workloads: dict[str, WorkloadSupervisor] = {}
        self._reaper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Adopt what a previous server left running, remove orphans, start every task."""
        rows = self.store.all_workloads()
        adopted: dict[str, Instance] = {}
        for row in rows:
            if row.runtime_state and row.desired == "running" and row.status != "errored":
                instance = await self.runtime.adopt(row.id, row.runtime_state, self.sink(row.id))
                if instance is not None:
                    adopted[row.id] = instance
                    logger.info("adopted workload %s (%s)", row.id, row.name)
        for removed in await self.runtime.sweep(list(adopted.values())):
            logger.warning("%s", removed)
        for removed in self.runtime.forget_others({row.id for row in rows}):
            logger.info("%s", removed)
        for row in rows:
            if row.id not in adopted and row.runtime_state is not None:
                self.store.update_workload(row.id, touch=False, runtime_state=None)
            lost = row.desired == "running" and row.status in ("initializing", "running")
            if row.id not in adopted and lost:  # it died with the previous server
                record_status(
                    self.store,
                    row,
                    "submitted",
                    conditions=[],
                    running_since=None,
                    message="starting again: it was not running after the server restarted",
                )
            self._spawn(row.id, adopted.get(row.id))
        self._reaper = asyncio.create_task(self._reap_expired_drafts(), name="draft-reaper")

    def _spawn(self, workload_id: str, instance: Instance | None = None) -> WorkloadSupervisor:
        supervisor = WorkloadSupervisor(self, workload_id, instance)
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
        if supervisor is not None and supervisor.instance is not None:
            supervisor.instance.terminate()

    def kick(self, workload_id: str) -> None:
        """Tell a workload's task that its desired state may have changed."""
        supervisor = self._workloads.get(workload_id)
        if supervisor is None or supervisor.finished:
            if self.store.get_workload(workload_id) is None:
                return  # deleted: nothing may start for it again
            supervisor = self._spawn(workload_id)
        supervisor.wake()

    def target(self, workload_id: str) -> str | None:
        """Base URL of a workload's running instance, or ``None``."""
        supervisor = self._workloads.get(workload_id)
        return supervisor.target if supervisor is not None else None

    async def remove(self, workload_id: str) -> None:
        """Stop a workload's instance, end its task and remove what the runtime keeps of it
        (log files), once its row is deleted (so that nothing can start it again meanwhile)."""
        supervisor = self._workloads.pop(workload_id, None)
        if supervisor is not None:
            await supervisor.retire()
        self.logs.discard(workload_id)
        self.runtime.forget(workload_id)

    async def shutdown(self) -> None:
        """Stop every instance within the grace period; the desired state stays as it is."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await asyncio.gather(
            *(s.retire(keep_status=False) for s in self._workloads.values()),
            return_exceptions=True,
        )
        self._workloads.clear()
        await self.prober.close()
        await self.runtime.close()
        self.logs.flush()

    def sink(self, workload_id: str) -> LogSink:
        """Where a runtime delivers a workload's log lines (stored with its read offsets)."""

        async def store_lines(lines: Sequence[LogLine], state: dict[str, Any]) -> None:
            supervisor = self._workloads.get(workload_id)
            if supervisor is not None and supervisor.retired:
                return
            self.logs.add(workload_id, lines, state)

        return store_lines

    async def _reap_expired_drafts(self) -> None:
        timings = self.settings.timings
        interval = max(0.05, min(timings.ttl_check_interval, timings.draft_ttl / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.expire_drafts()
            except Exception:
                logger.exception("draft expiry failed")

    async def expire_drafts(self) -> None:
        """Remove workloads whose draft artifact's TTL has run out (``workload-api.md`` §4)."""
        now = utcnow().timestamp()
        for row in self.store.all_workloads():
            artifact = self.store.get_artifact(row.artifact_id)
            if artifact is None or artifact.status != "draft":
                continue
            if parse_time(row.started_at) + self.settings.timings.draft_ttl > now:
                continue
            with self.store.transaction():
                self.store.delete_workload(row.id)
                self.store.add_event(
                    "workload.expired",
                    actor_id=SYSTEM_ACTOR,
                    entity_type="workload",
                    entity_id=row.id,
                    workload_id=row.id,
                    artifact_id=row.artifact_id,
                    details={"reason": "draft TTL reached", "startedAt": row.started_at},
                )
            await self.remove(row.id)
            logger.info("removed workload %s: its draft TTL ran out", row.id)


def parse_time(text: str) -> float:
    """POSIX seconds of a stored ISO timestamp."""
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class WorkloadSupervisor:
    """The task that makes one workload's reality match its row."""

    def __init__(
        self, parent: Supervisor, workload_id: str, instance: Instance | None = None
    ) -> None:
        self.parent = parent
        self.store = parent.store
        self.timings = parent.settings.timings
        self.id = workload_id
        self.instance = instance
        self.instance_generation: int | None = None
        self.ready = False
        self.retired = False
        self.crashes = 0
        self.healthy_since: float | None = None
        self._keep_status = True
        self._wake_event = asyncio.Event()
        self._wake_event.set()
        self.stopped = asyncio.Event()
        """Set while the task rests with its instance stopped (cleared by every wake)."""
        self._loop = asyncio.get_running_loop()
        if instance is not None:
            row = self.store.get_workload(workload_id)
            self.instance_generation = row.generation if row else None
            self.ready = row is not None and row.status == "running"
        self._task = asyncio.create_task(self._run(), name=f"workload-{workload_id}")

    @property
    def finished(self) -> bool:
        """Whether the task has ended."""
        return self._task.done()

    @property
    def target(self) -> str | None:
        """The running instance's base URL, when it is ready."""
        return self.instance.target if self.instance is not None and self.ready else None

    def wake(self) -> None:
        """Re-read the row soon."""
        self.stopped.clear()
        self._wake_event.set()

    async def retire(self, *, keep_status: bool = True) -> None:
        """Stop the instance and end the task (deletion or server shutdown)."""
        self.retired = True
        self._keep_status = keep_status
        self._wake_event.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake_event.clear()
            row = self.store.get_workload(self.id)
            if row is None or self.retired:
                await self._stop_instance(row, final=True)
                return
            try:
                if row.desired != "running":
                    await self._stop_instance(row, then="stopped")
                    row = self.store.get_workload(self.id)
                    if row is not None and row.status != "stopped":
                        self._set_status(row, "stopped", conditions=[], running_since=None)
                    if not self._wake_event.is_set():
                        self.stopped.set()
                    await self._wake_event.wait()
                    continue
                if self.instance is not None and self.instance_generation != row.generation:
                    await self._stop_instance(row)  # stopped and started again meanwhile
                    continue
                if row.status == "errored":
                    await self._stop_instance(row)
                    await self._wake_event.wait()
                    continue
                if self.instance is None and not await self._start(row):
                    continue
                outcome = await self._monitor(row)
                await self._handle(outcome)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if storage_trouble(exc) is not None:  # a full disk or a locked database
                    logger.warning("workload %s: %s; trying again", self.id, exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake_event.wait(), STORAGE_RETRY)
                    continue  # level-triggered: read the row again and act on it
                logger.exception("supervising workload %s failed", self.id)
                current = self.store.get_workload(self.id)
                if current is not None:
                    await self._stop_instance(current)
                    self._set_status(current, "errored", message=f"internal error: {exc}")
                await self._wake_event.wait()

    async def _start(self, row: WorkloadRow) -> bool:
        artifact = self.store.get_artifact(row.artifact_id)
        if artifact is None:
            self._set_status(row, "errored", message="its artifact no longer exists")
            return False
        spec = ArtifactSpec.model_validate(artifact.spec)
        try:
            instance = await self.parent.runtime.start(self.id, spec, self.parent.sink(self.id))
        except StartFailed as exc:
            self._set_status(row, "errored", message=str(exc), conditions=[])
            return False
        self.instance = instance
        self.instance_generation = row.generation
        self.ready = False
        current = self.store.get_workload(self.id)
        if current is None or self.retired:
            return False  # deleted while it started: the loop stops it at once
        name = spec.primary.name or "primary"
        self._set_status(  # with the instance's state: a crash now must not orphan it
            current,
            "initializing",
            conditions=[_condition("Started", name, True), _condition("Ready", name, False)],
            running_since=None,
            runtime_state=instance.state,
        )
        return True

    async def _monitor(self, row: WorkloadRow) -> Outcome:
        """Probe the instance until something needs the loop's attention."""
        assert self.instance is not None
        instance = self.instance
        artifact = self.store.get_artifact(row.artifact_id)
        assert artifact is not None
        spec = ArtifactSpec.model_validate(artifact.spec)
        container = spec.primary
        name = container.name or "primary"
        now = self._loop.time()
        quick = not self.ready
        schedules: dict[ProbeKind, ProbeSchedule] = {}
        for kind, probe in (
            (ProbeKind.STARTUP, container.startup_probe),
            (ProbeKind.READINESS, container.readiness_probe),
            (ProbeKind.LIVENESS, container.liveness_probe),
        ):
            if probe is not None:
                schedules[kind] = ProbeSchedule(
                    kind,
                    probe,
                    now,
                    quick=quick and kind is not ProbeKind.LIVENESS,
                    first_gap=self.timings.probe_first_gap,
                    growth=self.timings.probe_gap_growth,
                    flat_window=self.timings.probe_flat_window,
                )
        started = ProbeKind.STARTUP not in schedules or self.ready
        if started and not self.ready and ProbeKind.READINESS not in schedules:
            self._became_ready(name)

        exit_task = asyncio.ensure_future(instance.wait())
        try:
            while True:
                healthy_for = self._loop.time() - self.healthy_since if self.healthy_since else 0.0
                if self.crashes and healthy_for >= self.timings.backoff_reset:
                    self.crashes = 0
                active = [
                    s for kind, s in schedules.items() if (kind is ProbeKind.STARTUP) != started
                ]
                due_at = min((s.next_at for s in active), default=None)
                timeout = None if due_at is None else max(0.0, due_at - self._loop.time())
                wake_task = asyncio.ensure_future(self._wake_event.wait())
                done, _ = await asyncio.wait(
                    {exit_task, wake_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                wake_task.cancel()
                if exit_task in done:
                    return Outcome("exited", exit=exit_task.result())
                if self._wake_event.is_set():
                    current = self.store.get_workload(self.id)
                    if (
                        self.retired
                        or current is None
                        or current.desired != "running"
                        or current.generation != self.instance_generation
                    ):
                        return Outcome("wake")
                    self._wake_event.clear()
                    continue
                now = self._loop.time()
                due = [s for s in active if s.next_at <= now]
                results = await asyncio.gather(
                    *(
                        self.parent.prober.check(
                            s.probe, instance.port_for(s.probe.port or container.port or 0)
                        )
                        for s in due
                    )
                )
                now = self._loop.time()
                for schedule, answer in zip(due, results, strict=True):
                    verdict = schedule.record(answer, now)
                    if schedule.kind is ProbeKind.STARTUP:
                        if verdict is Verdict.FAILED:
                            return _probe_failed(schedule)
                        if verdict is Verdict.PASSED:
                            started = True
                            if ProbeKind.READINESS not in schedules:
                                self._became_ready(name)
                    elif schedule.kind is ProbeKind.READINESS:
                        if verdict is Verdict.PASSED and not self.ready:
                            self._became_ready(name)
                        elif verdict is Verdict.FAILED and self.ready:
                            self._became_unready(name, schedule.probe.path)
                    elif verdict is Verdict.FAILED:
                        return _probe_failed(schedule)
        finally:
            if not exit_task.done():
                exit_task.cancel()

    async def _handle(self, outcome: Outcome) -> None:
        row = self.store.get_workload(self.id)
        if row is None or outcome.kind == "wake":
            return
        was_ready = self.ready or self.healthy_since is not None
        if outcome.kind == "startup":
            await self._stop_instance(row)
            self._set_status(row, "errored", message=outcome.detail, conditions=[])
            return
        if outcome.kind == "exited":
            assert outcome.exit is not None
            exit_ = outcome.exit
            self.instance = None
            self.ready = False
            self._forget_state()
            if row.desired != "running" or row.generation != self.instance_generation:
                return  # it was asked to stop (signalled ahead of this task): no crash
            noun = "container" if self.parent.runtime.name == "container" else "process"
            why = f"the {noun} {exit_.message}"
            if not was_ready and row.restart_count == 0 and self.crashes == 0:
                self._set_status(
                    row,
                    "errored",
                    message=f"{why} before it became ready",
                    conditions=[],
                    exit_code=exit_.exit_code,
                    running_since=None,
                )
                return
        else:
            why = outcome.detail
            await self._stop_instance(row)
            exit_ = None
        self.healthy_since = None
        self.crashes += 1
        if self.crashes > self.timings.crash_limit:
            self._set_status(
                row,
                "errored",
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
        self._set_status(
            row,
            "initializing",
            message=f"{why}; restarting in {delay:g} s",
            conditions=[_condition("CrashLoopBackOff", "primary", True)],
            exit_code=exit_.exit_code if exit_ else None,
            running_since=None,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake_event.wait(), timeout=delay)

    async def _stop_instance(
        self, row: WorkloadRow | None, *, final: bool = False, then: str | None = None
    ) -> None:
        """Stop the instance (if any) and forget it; ``then`` is the status to write with
        that (one commit: each costs an fsync on the hot path of a restart)."""
        instance = self.instance
        if instance is None:
            return
        if row is not None and not final and row.status not in ("stopping", "stopped"):
            self._set_status(row, "stopping")
        await instance.stop(self.parent.settings.timings.grace_period)
        self.instance = None
        self.ready = False
        current = self.store.get_workload(self.id)
        if current is None:
            return
        if final and not self._keep_status:
            then = "stopped"
        if then is not None:  # with the last log lines: one commit
            self._set_status(current, then, conditions=[], running_since=None, runtime_state=None)
        else:
            self._forget_state()

    # -- status ----------------------------------------------------------------------------

    def _became_ready(self, name: str) -> None:
        self.ready = True
        self.healthy_since = self._loop.time()
        row = self.store.get_workload(self.id)
        if row is not None:
            self._set_status(
                row,
                "running",
                conditions=[_condition("Started", name, True), _condition("Ready", name, True)],
                running_since=format_timestamp(utcnow()),
            )

    def _became_unready(self, name: str, path: str) -> None:
        self.ready = False
        self.healthy_since = None
        row = self.store.get_workload(self.id)
        if row is not None:
            self._set_status(
                row,
                "initializing",
                message=f"readiness probe {path} is failing",
                conditions=[_condition("Started", name, True), _condition("Ready", name, False)],
            )

    def _set_status(self, row: WorkloadRow, status: str, **details: Any) -> None:
        """Store a status, after the log lines that came before it (one commit)."""
        with self.store.transaction():
            self.parent.logs.flush(self.id)
            record_status(self.store, row, status, **details)

    def _forget_state(self) -> None:
        """Clear the stored runtime state (the instance is gone), after its last lines."""
        with self.store.transaction():
            self.parent.logs.flush(self.id)
            self.store.update_workload(self.id, touch=False, runtime_state=None)


def record_status(
    store: Store,
    row: WorkloadRow,
    status: str,
    *,
    actor: str = SYSTEM_ACTOR,
    message: str | None = None,
    conditions: list[dict[str, str]] | None = None,
    exit_code: int | None = None,
    running_since: str | object | None = ...,
    **columns: Any,
) -> None:
    """Store a workload's status and why, and audit the change (if it is one).

    ``conditions=None`` keeps the current conditions; ``running_since`` is left alone unless
    given, and cleared on ``stopped`` and ``errored``. Extra ``columns`` are written with it.
    """
    details: dict[str, Any] = {
        "conditions": row.status_details.get("conditions", []) if conditions is None else conditions
    }
    if message:
        details["message"] = message
    if exit_code is not None:
        details["exitCode"] = exit_code
    values: dict[str, Any] = {"status": status, "status_details": details, **columns}
    if running_since is not ...:
        values["running_since"] = running_since
    if status in ("stopped", "errored"):
        values["running_since"] = None
    with store.transaction():
        if not store.update_workload(row.id, **values):
            return  # deleted meanwhile: its trail ends with its delete
        if status != row.status:
            store.add_event(
                "workload.statusChanged",
                actor_id=actor,
                entity_type="workload",
                entity_id=row.id,
                workload_id=row.id,
                details={
                    "from": row.status,
                    "to": status,
                    **({"message": message} if message else {}),
                },
            )
    if status != row.status:
        logger.info("workload %s: %s -> %s %s", row.id, row.status, status, message or "")


def _probe_failed(schedule: ProbeSchedule) -> Outcome:
    """The outcome of a startup or liveness probe that reached its failure threshold."""
    kind, probe = schedule.kind.value, schedule.probe
    return Outcome(kind, detail=f"{kind} probe {probe.path} failed {probe.failure_threshold} times")


def _condition(kind: str, name: str, value: bool) -> dict[str, str]:
    return {"type": kind, "name": name, "value": "True" if value else "False"}
