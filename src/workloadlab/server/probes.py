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
import contextlib
import enum
import ssl
from dataclasses import dataclass, field
from urllib.parse import quote

from workloadlab.models import Probe


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


PROBE_USER_AGENT = "workloadlab-probe/1"
MAX_PROBE_BODY = 10 * 1024
"""Kubernetes reads at most 10 KiB of a probe's response body; so do we."""
_PATH_SAFE = "/:@!$&'()*+,;=?%~-._"


class Prober:
    """Runs HTTP probes against an instance's ports.

    One connection per probe, like kubelet, spoken with a few lines of asyncio rather than an
    HTTP client: a try against a port nobody listens on yet costs a refused connect (tens of
    microseconds), which is what lets the quick probing after a start try every few
    milliseconds. Redirects are not followed (3xx is a success, as in Kubernetes).
    """

    def __init__(self) -> None:
        self._tls: ssl.SSLContext | None = None

    async def check(self, probe: Probe, host_port: int) -> int | None:
        """The HTTP status the probe got within its timeout, ``None`` for no answer (success
        is 200–399: :func:`succeeded`)."""
        try:
            async with asyncio.timeout(probe.timeout_seconds):
                return await self._get(probe, host_port)
        except (TimeoutError, OSError, ValueError, EOFError, asyncio.LimitOverrunError):
            return None

    async def _get(self, probe: Probe, port: int) -> int | None:
        host = probe.host or "127.0.0.1"
        tls = self._tls_context() if probe.scheme == "HTTPS" else None
        reader, writer = await asyncio.open_connection(
            host, port, ssl=tls, server_hostname=host if tls else None
        )
        try:
            writer.write(request_bytes(probe, host, port))
            status_line = await reader.readuntil(b"\n")
            status = parse_status_line(status_line)
            await reader.read(MAX_PROBE_BODY)  # let the app finish writing, as kubelet does
            return status
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    def _tls_context(self) -> ssl.SSLContext:
        # Kubernetes does not verify a probe's certificate; neither do we.
        if self._tls is None:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            self._tls = context
        return self._tls

    async def close(self) -> None:
        """Nothing is kept open between probes; here for symmetry with the runtimes."""


def request_bytes(probe: Probe, host: str, port: int) -> bytes:
    """The probe's request: ``GET`` the path (control characters and spaces escaped), with
    the spec's headers, which may replace ``Host``, ``User-Agent`` and ``Accept``."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"  # IPv6 in brackets
    headers = {"host": authority, "user-agent": PROBE_USER_AGENT, "accept": "*/*"}
    names = {"host": "Host", "user-agent": "User-Agent", "accept": "Accept"}
    for name, value in (probe.http_headers or {}).items():
        headers[name.lower()] = value
        names[name.lower()] = name
    target = quote(probe.path, safe=_PATH_SAFE)
    lines = [f"GET {target} HTTP/1.1"]
    lines += [f"{names[key]}: {value}" for key, value in headers.items()]
    lines += ["Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1", errors="replace")


def parse_status_line(line: bytes) -> int:
    """The status code of ``HTTP/1.x NNN reason``; ValueError for anything else."""
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or len(parts[1]) != 3:
        raise ValueError(f"not an HTTP status line: {line[:80]!r}")
    return int(parts[1])
