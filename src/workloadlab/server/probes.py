"""HTTP probes with Kubernetes semantics, plus quick probing right after a start.

Kubernetes probes a container every ``periodSeconds`` after ``initialDelaySeconds``, and acts
after ``failureThreshold`` failures in a row. Here the startup and readiness probes are also
tried *quickly* from the first moment (gaps of a few milliseconds, growing to the period), so a
workload is ``running`` as soon as the app answers. Failures are only *counted* on the spec's
own schedule (at ``initialDelay``, then once a period), so the quick tries never make a slow app
fail sooner than Kubernetes would.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field

import httpx

from workloadlab.models import Container, Probe


class ProbeKind(enum.StrEnum):
    """Which probe: startup gates the other two."""

    STARTUP = "startup"
    READINESS = "readiness"
    LIVENESS = "liveness"


class Verdict(enum.Enum):
    """What a probe's results amount to, when they amount to something."""

    PASSED = "passed"
    FAILED = "failed"


@dataclass
class ProbeSchedule:
    """When to try one probe next, and its run of successes and counted failures."""

    kind: ProbeKind
    probe: Probe
    started: float
    quick: bool
    first_gap: float
    growth: float
    flat_window: float = 0.0
    next_at: float = 0.0
    next_count_at: float = 0.0
    failures: int = 0
    successes: int = 0
    gap: float = field(default=0.0)

    def __post_init__(self) -> None:
        delay = self.probe.initial_delay_seconds
        self.next_count_at = self.started + delay
        self.next_at = self.started if self.quick else self.started + delay
        self.gap = self.first_gap

    def record(self, status: int | None, now: float) -> Verdict | None:
        """Take one answer (an HTTP status, ``None`` for none); return a verdict when a
        threshold is reached."""
        period = self.probe.period_seconds
        ok = succeeded(status)
        if status is not None and not ok:
            # The app is up and says "not yet" (or 404): keep probing quickly, but back off
            # at once, or an app that logs its requests would log hundreds of probes.
            self.flat_window = 0.0
        if ok:
            self.failures = 0
            self.successes += 1
        else:
            self.successes = 0
            if now >= self.next_count_at:
                self.failures += 1
                self.next_count_at = now + period
        if self.quick and self.successes >= self.probe.success_threshold:
            self.quick = False
        if self.quick:
            self.next_at = now + min(self.gap, period)
            if now >= self.started + self.flat_window:
                self.gap *= self.growth
        else:
            self.next_at = now + period
        if self.successes >= self.probe.success_threshold:
            return Verdict.PASSED
        if self.failures >= self.probe.failure_threshold:
            return Verdict.FAILED
        return None


def succeeded(status: int | None) -> bool:
    """Whether a probe's answer counts as success (Kubernetes: 200–399)."""
    return status is not None and 200 <= status < 400


class Prober:
    """Runs HTTP probes against an instance's ports."""

    def __init__(self) -> None:
        self._client = httpx.AsyncClient(
            verify=False,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0),
            trust_env=False,
        )

    async def check(self, probe: Probe, container: Container, host_port: int) -> int | None:
        """The HTTP status the probe got within its timeout, ``None`` for no answer (success
        is 200–399: :func:`succeeded`)."""
        scheme = probe.scheme.lower()
        host = probe.host or "127.0.0.1"
        url = f"{scheme}://{host}:{host_port}{probe.path}"
        try:
            response = await asyncio.wait_for(
                self._client.get(url, headers=probe.http_headers or {}),
                timeout=probe.timeout_seconds,
            )
        except (httpx.HTTPError, TimeoutError, OSError):
            return None
        return response.status_code

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
