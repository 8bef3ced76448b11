"""What the client reads of the current generation's own resources (``workload-api-current.md``
§4): rolling replacements and their history, a workload's settings, artifact repositories.
(The local server describes its answers with the stricter ``models.current_responses``.)

Statuses are strings, read as sent (the contract tolerates many words); :data:`REPLACEMENT_ENDS`
are the ones that end a replacement. A workload's settings keep their ``runtime`` as the JSON
that came (a dict), so that reading them, changing one thing and sending them back loses
nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from workloadlab.models.base import WireModel

REPLACEMENT_ENDS = frozenset({"completed", "errored", "failed"})
"""The statuses a replacement ends in (``completed`` is the one that switched)."""


class Replacement(WireModel):
    """A move of a workload onto another artifact or runtime: settings updates and
    replacements alike, kept in the workload's ``history``."""

    id: str
    workload_id: str | None = None
    name: str | None = None
    candidate_artifact_id: str | None = None
    candidate_proton_ids: list[str] = Field(default_factory=list)
    previous_proton_ids: list[str] = Field(default_factory=list)
    strategy: str | None = None
    config: dict[str, Any] | None = None
    runtime: dict[str, Any] | None = None
    status: str = "unknown"
    message: str | None = None
    switched_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def ended(self) -> bool:
        """Whether it is over (``completed``, ``errored`` or ``failed``)."""
        return self.status in REPLACEMENT_ENDS

    @property
    def succeeded(self) -> bool:
        """Whether the workload switched to the candidate."""
        return self.status == "completed"


class RuntimeSettings(WireModel):
    """``GET /workloads/{id}/settings``: the workload's runtime, as the JSON that came."""

    runtime: dict[str, Any] = Field(default_factory=dict)


class ArtifactRepository(WireModel):
    """The versions of one artifact (the current generation's collection)."""

    id: str
    name: str | None = None
    type: str | None = None
    num_artifacts: int | None = Field(default=None, ge=0)
    last_version_number: int | None = Field(default=None, ge=0)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
