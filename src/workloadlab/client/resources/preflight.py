"""``client.preflight``: check a spec before it is created or saved.

The local server answers ``POST /local/preflight`` (a local-server extension) with the pure
rules judged for its runtime and the checks only its machine can answer. DataRobot has no such
route (``404`` to a first request with an empty body, so that no spec goes to a route that
may not exist; remembered per client): there the client runs the pure rules itself for a
container on DataRobot, and adds ``info`` findings saying which machine-bound checks were
skipped and why. See :mod:`workloadlab.models.preflight`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from workloadlab import errors
from workloadlab.client._http import Requester
from workloadlab.client.resources._base import Resource
from workloadlab.models.preflight import PreflightReport, Target, check_spec, skipped_machine_checks

ROUTE = "local/preflight"
SKIPPED = "DataRobot builds and runs the workload on its own machines"
"""Why the machine-bound checks do not run against DataRobot."""


class Preflight(Resource):
    """Pre-flight checks of a spec on this client's server."""

    _local: bool | None = None
    """Whether the server answers the local extension (``None``: not asked yet)."""

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
        if self._local is None:  # asked with an empty body: a spec goes to known routes only
            self._local = await self._post({}) is not None
        if self._local:
            report = await self._post(data)
            if report is not None:
                return report
        findings = check_spec(data, Target.DATAROBOT) + skipped_machine_checks(SKIPPED)
        return PreflightReport(runtime=Target.DATAROBOT.value, findings=findings)

    async def _post(self, data: Any) -> PreflightReport | None:
        """The local server's report, or ``None`` where there is no such route."""
        try:
            response = await self._requester.request("POST", ROUTE, json=data, retry=True)
        except errors.APIStatusError as exc:
            if exc.status_code not in (404, 405):
                raise
            return None
        return Requester.parse(PreflightReport, response)
        findings = check_spec(data, Target.DATAROBOT) + skipped_machine_checks(SKIPPED)
        return PreflightReport(runtime=Target.DATAROBOT.value, findings=findings)
