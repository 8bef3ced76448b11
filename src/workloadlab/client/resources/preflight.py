"""``client.preflight``: check a spec before it is created or saved.

The local server answers ``POST /local/preflight`` (a local-server extension) with the pure
rules judged for its runtime and the checks only its machine can answer. Whether the server is
the local one is asked once per client (``GET /localServer``,
:meth:`~workloadlab.client.AsyncClient.local_server`), so no spec goes to a route DataRobot does
not have: there the client runs the pure rules itself for a container on DataRobot, and adds
``info`` findings saying which machine-bound checks were skipped and why. See
:mod:`workloadlab.models.preflight`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from workloadlab.client._http import Requester
from workloadlab.client.resources._base import Resource
from workloadlab.models.preflight import PreflightReport, Target, check_spec, skipped_machine_checks

ROUTE = "local/preflight"
SKIPPED = "DataRobot builds and runs the workload on its own machines"
"""Why the machine-bound checks do not run against DataRobot."""


class Preflight(Resource):
    """Pre-flight checks of a spec on this client's server."""

    async def check(self, spec: BaseModel | Mapping[str, Any]) -> PreflightReport:
        """The findings for ``spec`` (a create body, an artifact, a container spec or one
        container, as a model or as written) where this client's server would run it:
        ``report.runtime`` is ``"process"``/``"container"`` on the local server,
        ``"datarobot"`` otherwise. Nothing is stored, and problems are findings, not errors."""
        data: Any = (
            spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
            if isinstance(spec, BaseModel)
            else dict(spec)
        )
        if await self._api.local_server() is not None:
            response = await self._requester.request("POST", ROUTE, json=data, retry=True)
            return Requester.parse(PreflightReport, response)
        findings = check_spec(data, Target.DATAROBOT) + skipped_machine_checks(SKIPPED)
        return PreflightReport(runtime=Target.DATAROBOT.value, findings=findings)
