"""Status words: the local server sets its values with these members, and the client reads
whatever word a server sends (``workload-api-current.md`` §5.1) without failing.

A word none of the members has is read as a *pseudo-member* (:func:`read_word`): a value of
the enum's type that equals the word, so it can be shown, compared and sent back as it came.
Calling the enum (``WorkloadStatus("runing")``) still refuses it: that is for words people type.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator

E = TypeVar("E", bound=StrEnum)


def read_word(cls: type[E], value: Any) -> Any:
    """A word a server sent as a value of ``cls``: its member, or (a word none of the members
    has) a pseudo-member that is a ``str`` equal to the word, so that reading never fails.
    Anything but a string is left for validation to refuse. (``cls(word)`` itself still
    refuses unknown words: that is for words people type.)"""
    if not isinstance(value, str):
        return value
    if value in cls._value2member_map_:
        return cls(value)
    member = str.__new__(cls, value)
    member._name_ = value
    member._value_ = value
    return member


class WorkloadStatus(StrEnum):
    """A workload's status: the union of both generations (``workload-api-current.md`` §5.1).

    Any other word a server sends parses too (:data:`ObservedStatus`), as a value of this type
    that is none of the members but equals the word: a new status never fails a read, and it
    counts as a transition. ``WorkloadStatus("runing")`` still refuses a word people type. The
    local server uses the members for its own values.
    """

    UNKNOWN = "unknown"
    SUBMITTED = "submitted"
    PROVISIONING = "provisioning"
    LAUNCHING = "launching"
    INITIALIZING = "initializing"
    RUNNING = "running"
    WARMING = "warming"
    UPDATING = "updating"
    DRAINING = "draining"
    SUSPENDED = "suspended"
    INTERRUPTED = "interrupted"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ERRORED = "errored"
    TERMINATED = "terminated"
    FAILED = "failed"

    @property
    def is_known(self) -> bool:
        """Whether it is one of the members (not a word only the server knows)."""
        return self._value_ in _KNOWN_STATUSES

    @property
    def is_stable(self) -> bool:
        """``running`` or ``stopped``: nothing is under way."""
        return self in _STABLE

    @property
    def is_failure(self) -> bool:
        """``errored``, ``terminated`` or ``failed``: a wait for anything else fails."""
        return self in _FAILURES

    @property
    def is_transition(self) -> bool:
        """Whether the workload is on its way to another status (every status that is not
        stable, failed or ``unknown``, words this package does not know included)."""
        return not (self.is_stable or self.is_failure or self is WorkloadStatus.UNKNOWN)


_STABLE = frozenset({WorkloadStatus.RUNNING, WorkloadStatus.STOPPED})
_FAILURES = frozenset({WorkloadStatus.ERRORED, WorkloadStatus.TERMINATED, WorkloadStatus.FAILED})
_KNOWN_STATUSES = frozenset(status.value for status in WorkloadStatus)


def _observed(value: Any) -> Any:
    return read_word(WorkloadStatus, value)


ObservedStatus = Annotated[WorkloadStatus, BeforeValidator(_observed)]
"""A status read from a server: whatever word it sends (see :class:`WorkloadStatus`)."""


class ArtifactStatus(StrEnum):
    """An artifact's status: a draft is mutable, a locked one's spec is frozen.

    ``locked`` is the neutral word (and the current generation's); ``registered`` is v2.41's
    word for it, which the local server's v2.41 profile stores. The neutral models read either
    as :attr:`LOCKED` and write back the word they read."""

    DRAFT = "draft"
    REGISTERED = "registered"
    LOCKED = "locked"


ObservedArtifactStatus = Annotated[
    ArtifactStatus, BeforeValidator(lambda value: read_word(ArtifactStatus, value))
]
"""An artifact status read from a server: whatever word it sends."""


class ArtifactType(StrEnum):
    """What an artifact runs: ``generic`` (v2.41's only type) and ``service`` (the current
    generation's default) run alike; ``nim`` and ``agent`` are current only. Other words a
    server sends parse too (as themselves)."""

    GENERIC = "generic"
    SERVICE = "service"
    NIM = "nim"
    AGENT = "agent"


ObservedArtifactType = Annotated[
    ArtifactType, BeforeValidator(lambda value: read_word(ArtifactType, value))
]
"""An artifact type read from a server: whatever word it sends."""
