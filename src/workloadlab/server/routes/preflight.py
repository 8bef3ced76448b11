"""``POST /local/preflight``: a local-server extension that checks a spec before it runs.

DataRobot has no such route: clients run the pure rules themselves there and say which
machine-bound checks were skipped (:mod:`workloadlab.models.preflight`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body

from workloadlab.models.preflight import PreflightReport
from workloadlab.server.context import Context
from workloadlab.server.operations.preflight import preflight
from workloadlab.server.routing import api_router

router = api_router("/local", "local-server extensions")


@router.post("/preflight", response_model=PreflightReport)
async def preflight_spec(
    body: Annotated[dict[str, Any], Body()], context: Context
) -> PreflightReport:
    """Check a spec before creating or saving it (a local-server extension): the body is what
    a user writes (a create body, an artifact, a container spec or one container); the answer
    lists findings (severity `error`/`warning`/`info`, field path, message, fix) of the pure
    rules for this server's runtime and of the checks only this machine can answer (the
    entrypoint's executable, the image, resources). Nothing is stored; errors are findings,
    not `422`."""
    return await preflight(context.supervisor.runtime, body)
