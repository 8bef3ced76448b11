"""How a restart applies the saved spec, on either API generation: one decision that the magics
(``%workload restart``) and the panel's Restart share."""

from __future__ import annotations

from enum import StrEnum

from workloadlab.client import Generation
from workloadlab.models import WorkloadStatus


class RestartWay(StrEnum):
    """How a restart applies the saved spec."""

    STOP_START = "stop, then start"
    ROLLING = "rolling (settings)"


def restart_way(generation: Generation, status: WorkloadStatus) -> RestartWay:
    """Rolling (``PATCH …/settings``: the old instance serves until the new one is ready) on the
    current generation when the workload runs; stop + start otherwise."""
    if generation is Generation.CURRENT and status is WorkloadStatus.RUNNING:
        return RestartWay.ROLLING
    return RestartWay.STOP_START
