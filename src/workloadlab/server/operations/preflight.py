"""Pre-flight checks of a spec on this server: the pure rules for the runtime it uses, then the
checks only its machine can answer (the runtime's ``preflight``). Nothing is stored.

A machine check that cannot run (the container engine does not answer) becomes one ``info``
finding that says so: the answer is about the spec, and the engine's trouble shows at start.
"""

from __future__ import annotations

import logging
from typing import Any

from workloadlab.models.preflight import Finding, PreflightReport, Severity, Target, check_spec
from workloadlab.server.runtimes import Runtime

logger = logging.getLogger("workloadlab.server")


async def preflight(runtime: Runtime, data: Any) -> PreflightReport:
    """The findings for ``data`` (an artifact, a spec or a container, as written) if this
    server ran it."""
    target = Target.PROCESS if runtime.name == Target.PROCESS.value else Target.CONTAINER
    findings = check_spec(data, target)
    try:
        machine = await runtime.preflight(data)
    except Exception as exc:  # the engine is away: say so, the rules still stand
        logger.info("pre-flight: the %s runtime's checks did not run: %s", runtime.name, exc)
        machine = [
            Finding(
                severity=Severity.INFO,
                path="spec",
                message=f"the {runtime.name} runtime's checks did not run: {exc}",
                rule="skipped",
            )
        ]
    order = list(Severity)
    ordered = sorted([*findings, *machine], key=lambda finding: order.index(finding.severity))
    return PreflightReport(runtime=runtime.name, findings=ordered)
