"""Monitoring a running instance: its probes on their schedules, its exit, and wake-ups.

:func:`monitor` returns as soon as something needs the workload's loop: the instance exited,
a startup or liveness probe reached its failure threshold, or the row changed (a stop, a new
start, a delete, another ``replicaCount``), or a rolling change's new instance is ready to take
over. Readiness only
moves the status between ``initializing`` and ``running``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workloadlab.models import ArtifactSpec, Container, WorkloadStatus
from workloadlab.server.probes import ProbeKind, ProbeSchedule, Verdict
from workloadlab.server.runtimes import Exit
from workloadlab.server.settings import Timings
from workloadlab.server.store import WorkloadRow

if TYPE_CHECKING:
    from workloadlab.server.supervisor.workload import WorkloadSupervisor


@dataclass(frozen=True)
class Outcome:
    """Why monitoring an instance ended."""

    kind: str  # "wake" | "exited" | "liveness" | "startup"
    exit: Exit | None = None
    detail: str = ""


async def monitor(worker: WorkloadSupervisor, row: WorkloadRow) -> Outcome:
    """Probe the instance until something needs the loop's attention."""
    assert worker.instance is not None
    instance = worker.instance
    artifact = worker.store.get_artifact(row.artifact_id)
    assert artifact is not None
    spec = ArtifactSpec.model_validate(artifact.spec)
    container = spec.primary
    name = container.name or "primary"
    schedules = probe_schedules(
        container, worker.loop.time(), quick=not worker.ready, timings=worker.timings
    )
    started = ProbeKind.STARTUP not in schedules or worker.ready
    if started and not worker.ready and ProbeKind.READINESS not in schedules:
        worker.became_ready(name)

    exit_task = asyncio.ensure_future(instance.wait())
    try:
        while True:
            healthy_for = worker.loop.time() - worker.healthy_since if worker.healthy_since else 0.0
            if worker.crashes and healthy_for >= worker.timings.backoff_reset:
                worker.crashes = 0
            active = [s for kind, s in schedules.items() if (kind is ProbeKind.STARTUP) != started]
            due_at = min((s.next_at for s in active), default=None)
            timeout = None if due_at is None else max(0.0, due_at - worker.loop.time())
            wake_task = asyncio.ensure_future(worker.wake_event.wait())
            done, _ = await asyncio.wait(
                {exit_task, wake_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            wake_task.cancel()
            if exit_task in done:
                return Outcome("exited", exit=exit_task.result())
            if worker.wake_event.is_set():
                current = worker.store.get_workload(worker.id)
                if (
                    worker.retired
                    or worker.switch_due
                    or current is None
                    or current.desired is not WorkloadStatus.RUNNING
                    or current.generation != worker.instance_generation
                    or worker.replicas.wanted(current) != 1 + len(worker.replicas)
                    or current.status is WorkloadStatus.ERRORED  # a replica gave up
                ):
                    return Outcome("wake")  # (a new replicaCount: the loop makes it so)
                worker.wake_event.clear()
                worker.follow_change(current)  # a rolling change may have been asked for
                continue
            now = worker.loop.time()
            due = [s for s in active if s.next_at <= now]
            results = await asyncio.gather(
                *(
                    worker.parent.prober.check(
                        s.probe, instance.port_for(s.probe.port or container.port or 0)
                    )
                    for s in due
                )
            )
            now = worker.loop.time()
            for schedule, answer in zip(due, results, strict=True):
                verdict = schedule.record(answer, now)
                if schedule.kind is ProbeKind.STARTUP:
                    if verdict is Verdict.FAILED:
                        return _probe_failed(schedule)
                    if verdict is Verdict.PASSED:
                        started = True
                        if ProbeKind.READINESS not in schedules:
                            worker.became_ready(name)
                elif schedule.kind is ProbeKind.READINESS:
                    if verdict is Verdict.PASSED and not worker.ready:
                        worker.became_ready(name)
                    elif verdict is Verdict.FAILED and worker.ready:
                        worker.became_unready(name, schedule.probe.path)
                elif verdict is Verdict.FAILED:
                    return _probe_failed(schedule)
    finally:
        if not exit_task.done():
            exit_task.cancel()


def probe_schedules(
    container: Container, now: float, *, quick: bool, timings: Timings
) -> dict[ProbeKind, ProbeSchedule]:
    """The schedules of a container's probes from ``now``; ``quick``: readiness and startup
    are probed quickly at first (an instance that is not ready yet)."""
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
                first_gap=timings.probe_first_gap,
                growth=timings.probe_gap_growth,
                flat_window=timings.probe_flat_window,
            )
    return schedules


def _probe_failed(schedule: ProbeSchedule) -> Outcome:
    """The outcome of a startup or liveness probe that reached its failure threshold."""
    kind, probe = schedule.kind.value, schedule.probe
    return Outcome(kind, detail=f"{kind} probe {probe.path} failed {probe.failure_threshold} times")
