"""Whether a rolling change's new instance is ready to take the calls of the one it replaces.

Its startup probe must pass, then its readiness probe (tried quickly at first, failures counted
on the spec's own schedule, as for any start: :mod:`workloadlab.server.probes`). Without a
readiness probe Kubernetes would call it ready once started; here it must also take connections
on its port, since the invoke proxy switches to it at once and a refused connection would be a
``503``: what a rolling change must avoid.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from workloadlab.models import ArtifactSpec
from workloadlab.server.probes import ProbeKind, ProbeSchedule, Verdict
from workloadlab.server.runtimes import Instance
from workloadlab.server.supervisor.monitor import probe_schedules

if TYPE_CHECKING:
    from workloadlab.server.supervisor.workload import WorkloadSupervisor

PORT_CHECK_GAP = 0.005
"""First gap between connection tries to a new instance without a readiness probe (grows)."""
PORT_CHECK_MAX_GAP = 0.5


class Readiness:
    """Whether a new instance is ready: its startup probe, then its readiness probe (tried
    quickly at first, failures counted on the spec's schedule); without a readiness probe, its
    port taking connections."""

    def __init__(self, worker: WorkloadSupervisor, instance: Instance, spec: ArtifactSpec) -> None:
        self._prober = worker.parent.prober
        self._instance = instance
        self._container = spec.primary
        self._loop = asyncio.get_running_loop()
        now = self._loop.time()
        self._schedules = probe_schedules(self._container, now, quick=True, timings=worker.timings)
        self._schedules.pop(ProbeKind.LIVENESS, None)
        self._started = ProbeKind.STARTUP not in self._schedules
        self._port_gap = PORT_CHECK_GAP
        self._port_check_at = now
        self.failure = ""
        """Why it failed, once :meth:`check` said so."""

    @property
    def _checks_port(self) -> bool:
        return self._started and ProbeKind.READINESS not in self._schedules

    def _active(self) -> list[ProbeSchedule]:
        return [
            schedule
            for kind, schedule in self._schedules.items()
            if (kind is ProbeKind.STARTUP) != self._started
        ]

    @property
    def due_at(self) -> float:
        """When the next check is due."""
        times = [schedule.next_at for schedule in self._active()]
        if self._checks_port:
            times.append(self._port_check_at)
        return min(times)

    async def check(self) -> Verdict | None:
        """Try what is due: ``PASSED`` once ready, ``FAILED`` (see :attr:`failure`) once its
        startup probe reached its failure threshold, ``None`` meanwhile."""
        now = self._loop.time()
        if self._checks_port:
            if now < self._port_check_at:
                return None
            if await _accepts(self._instance.target):
                return Verdict.PASSED
            self._port_gap = min(self._port_gap * 1.5, PORT_CHECK_MAX_GAP)
            self._port_check_at = self._loop.time() + self._port_gap
            return None
        due = [schedule for schedule in self._active() if schedule.next_at <= now]
        port = self._container.port or 0
        answers = await asyncio.gather(
            *(
                self._prober.check(s.probe, self._instance.port_for(s.probe.port or port))
                for s in due
            )
        )
        now = self._loop.time()
        for schedule, answer in zip(due, answers, strict=True):
            verdict = schedule.record(answer, now)
            if schedule.kind is ProbeKind.READINESS and verdict is Verdict.PASSED:
                return Verdict.PASSED
            if schedule.kind is ProbeKind.STARTUP and verdict is Verdict.FAILED:
                probe = schedule.probe
                self.failure = (
                    f"the new instance's startup probe {probe.path} failed"
                    f" {probe.failure_threshold} times"
                )
                return Verdict.FAILED
            if schedule.kind is ProbeKind.STARTUP and verdict is Verdict.PASSED:
                self._started = True
                self._port_check_at = now
        return None


async def _accepts(target: str) -> bool:
    """Whether the app at ``target`` (``http://host:port``) takes a connection now."""
    host, _, port = target.rpartition("//")[2].rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 1.0)
    except (OSError, TimeoutError, ValueError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
