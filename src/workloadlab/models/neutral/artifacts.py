"""Neutral artifacts: read from either generation, written back as they were read.

:class:`Artifact` is the answer (``ArtifactFormatted`` on the current generation), with
``status`` read as the neutral :class:`~workloadlab.models.ArtifactStatus` (``registered`` and
``locked`` are both :attr:`~workloadlab.models.ArtifactStatus.LOCKED`; the word that came is
the word that goes back). :meth:`Artifact.to_input` is the body that PUTs it back: every field
it received except those only a server writes (:data:`RESPONSE_ONLY`), so a GET, one change and
a PUT send the rest byte for byte (``workload-api-current.md`` §8).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import Field, StrictInt

from workloadlab.models.lossless import LosslessModel
from workloadlab.models.neutral.spec import ArtifactSpec
from workloadlab.models.resources import (
    Creator,
)
from workloadlab.models.status import (
    ArtifactStatus,
    ObservedArtifactStatus,
    ObservedArtifactType,
)
from workloadlab.models.tables import Displayed

FROZEN_WORDS = {ArtifactStatus.REGISTERED.value: ArtifactStatus.LOCKED.value}
"""The words that mean "frozen" and the neutral one they read as."""

RESPONSE_ONLY = frozenset(
    {
        "id",
        "version",
        "artifactCollectionId",
        "creator",
        "createdAt",
        "updatedAt",
        "specDigest",
        "tags",
        "permissions",
    }
)
"""Fields of an artifact only a server writes (both generations, and the local server's
``specDigest``): left out of the body that writes it back; every other field goes back."""


class _ArtifactFields(LosslessModel):
    """What an artifact body and an artifact answer share."""

    wire_words: ClassVar[dict[str, dict[str, str]]] = {"status": FROZEN_WORDS}

    name: str | None = Field(default=None, min_length=1, max_length=5000)
    description: str | None = None
    type: ObservedArtifactType | None = None
    status: ObservedArtifactStatus | None = None
    artifact_repository_id: str | None = None
    spec: ArtifactSpec

    @property
    def is_locked(self) -> bool:
        """Whether the spec is frozen (``locked``, ``registered`` on v2.41)."""
        return self.status is ArtifactStatus.LOCKED

    @property
    def is_registered(self) -> bool:
        """Whether the spec is frozen (v2.41's word for :attr:`is_locked`)."""
        return self.is_locked

    @property
    def status_word(self) -> str:
        """The status in the server's word (``registered`` on v2.41), for people to read."""
        came = self._verbatim.get("status")
        if came is not None and came[1] == self.status:
            return came[0]
        return str(self.status.value) if self.status is not None else "unknown"


class InputArtifact(_ArtifactFields):
    """Body of an artifact's create and PUT (either generation): name, description, type,
    status, repository and spec, plus whatever else it was given."""


class UpdateArtifact(LosslessModel):
    """Body of an artifact's PATCH: any of ``name``, ``description``, ``status`` and (current
    generation only) ``spec``."""

    wire_words: ClassVar[dict[str, dict[str, str]]] = {"status": FROZEN_WORDS}

    name: str | None = Field(default=None, min_length=1, max_length=5000)
    description: str | None = None
    status: ObservedArtifactStatus | None = None
    spec: ArtifactSpec | None = None


class Artifact(Displayed, _ArtifactFields):
    """An artifact as a server answers it."""

    id: str
    status: ObservedArtifactStatus | None = None
    version: StrictInt | None = Field(default=None, ge=0)
    artifact_collection_id: str | None = None
    creator: Creator | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    spec_digest: str | None = None

    @property
    def name_or_id(self) -> str:
        """Its name, or its id when it has none (v2.41 makes the name optional)."""
        return self.name or self.id

    @property
    def group_id(self) -> str | None:
        """The id of its versions' group: the repository (current), else the collection."""
        return self.artifact_repository_id or self.artifact_collection_id

    @property
    def digest(self) -> str:
        """The spec's digest: the server's, else computed from the spec as received."""
        return self.spec_digest or self.spec.digest()

    def to_input(self) -> InputArtifact:
        """The body that writes this artifact back as it is (a copy: edit it freely): every
        field it came with except :data:`RESPONSE_ONLY`, in the same words and order."""
        return InputArtifact.model_validate(input_wire(self.to_wire()))

    def to_update(self) -> UpdateArtifact:
        """The PATCH body that writes this artifact's name, description and spec back (the
        current generation's way of editing a draft): as they came, but ``spec.type``, which a
        PATCH must not carry (``workload-api-current.md`` §4)."""
        wire = self.to_wire()
        body = {key: wire[key] for key in PATCH_FIELDS if key in wire}
        if isinstance(body.get("spec"), dict):
            body["spec"] = {key: v for key, v in body["spec"].items() if key != "type"}
        return UpdateArtifact.model_validate(body)


PATCH_FIELDS = ("name", "description", "spec")
"""What a PATCH that writes an artifact back sends (the status is a lock, not an edit)."""


def input_wire(answer: dict[str, Any]) -> dict[str, Any]:
    """An artifact answer's JSON without the fields only a server writes."""
    return {key: value for key, value in answer.items() if key not in RESPONSE_ONLY}
