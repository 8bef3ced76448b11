"""``GET /localServer``: who answers (a local-server extension, in both API generations).

DataRobot has no such path, so a client learns from one request whether its endpoint is
workloadlab's local server, which API generation it serves and how it runs workloads (live sync
needs all three: :mod:`workloadlab.models.local`).
"""

from __future__ import annotations

import os
from typing import Any

from workloadlab._version import __version__
from workloadlab.models.local import LOCAL_SERVER_NAME, LocalServer
from workloadlab.server.context import Context
from workloadlab.server.routing import api_router

router = api_router("/localServer", "local server")


@router.get("", response_model=LocalServer)
async def local_server(context: Context) -> dict[str, Any]:
    """This server's name, version, API generation, runtime and working directory."""
    return {
        "name": LOCAL_SERVER_NAME,
        "version": __version__,
        "api": context.settings.api,
        "runtime": context.supervisor.runtime.name,
        "workingDir": os.getcwd(),
    }
