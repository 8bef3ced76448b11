"""Neutral workloads: the answer of either generation, and the create body of both.

:class:`Workload` reads ``WorkloadFormatted`` (current) and v2.41's workload alike; what it does
not declare (``requestStats``, ``permissions``, ``owners``...) is kept as it came. Its status is
whatever word the server sent (:class:`~workloadlab.models.WorkloadStatus`). Its ``runtime`` is
the neutral :class:`~workloadlab.models.neutral.runtime.Runtime`, so a runtime read from a
workload goes into a create or a settings change unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import Field, StrictInt, model_validator

from workloadlab.models.lossless import LosslessModel
from workloadlab.models.neutral.artifacts import FROZEN_WORDS, InputArtifact
from workloadlab.models.neutral.runtime import Runtime
from workloadlab.models.resources import (
    Creator,
    Importance,
    Rollout,
    RunningArtifact,
    StatusDetails,
)
from workloadlab.models.status import (
    ObservedArtifactStatus,
    ObservedArtifactType,
    ObservedStatus,
    WorkloadStatus,
)
from workloadlab.models.tables import Displayed


class ArtifactRef(LosslessModel):
    """The artifact summary embedded in a workload (or a deployment)."""

    wire_words: ClassVar[dict[str, dict[str, str]]] = {"status": FROZEN_WORDS}

    id: str
    name: str | None = None
    status: ObservedArtifactStatus | None = None
    type: ObservedArtifactType | None = None
    version: StrictInt | None = Field(default=None, ge=0)
    artifact_repository_id: str | None = None


class CreateWorkload(LosslessModel):
    """Body of a workload's create: exactly one of ``artifact`` (inline, a draft) and
    ``artifactId`` (the other absent or ``null``); ``description`` and ``importance`` (current
    generation); ``runtime`` in either shape."""

    name: str = Field(min_length=1, max_length=5000)
    artifact: InputArtifact | None = None
    artifact_id: str | None = None
    description: str | None = None
    importance: Importance | None = None
    runtime: Runtime | None = None

    @model_validator(mode="after")
    def _exactly_one_artifact(self) -> CreateWorkload:
        if (self.artifact is None) == (self.artifact_id is None):
            raise ValueError("give exactly one of artifact (inline) or artifactId")
        return self


class Workload(Displayed, LosslessModel):
    """A workload: containers running an artifact (either generation's answer)."""

    id: str
    name: str
    status: ObservedStatus = WorkloadStatus.UNKNOWN
    description: str | None = None
    importance: str | None = None
    type: ObservedArtifactType | None = None
    artifact_id: str | None = None
    artifact: ArtifactRef | None = None
    runtime: Runtime | None = None
    endpoint: str | None = None
    internal_url: str | None = None
    status_details: StatusDetails | None = None
    running_since: dt.datetime | None = None
    proton_id: str | None = None
    replacement: dict[str, Any] | None = None
    creator: Creator | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    restart_count: StrictInt | None = Field(default=None, ge=0)
    running_artifact: RunningArtifact | None = None
    rollout: Rollout | None = None
