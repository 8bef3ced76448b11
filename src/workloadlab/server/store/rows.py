"""The store's rows: what a ``SELECT`` gives, with JSON columns decoded and statuses as the
enums of :mod:`workloadlab.models` (SQL holds their values; an enum binds as its value)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from workloadlab.models import (
    ArtifactStatus,
    Importance,
    RolloutStatus,
    WorkloadStatus,
    format_timestamp,
    utcnow,
)

JSON_COLUMNS = frozenset({"spec", "creator", "runtime", "status_details", "runtime_state"})
"""Columns stored as compact JSON text."""


def now() -> str:
    """The current time as stored (``created_at``, ``updated_at``...)."""
    return format_timestamp(utcnow())


def encode(column: str, value: Any) -> Any:
    """``value`` as stored in ``column`` (JSON text for the JSON columns)."""
    if column in JSON_COLUMNS and value is not None:
        return json.dumps(value, separators=(",", ":"))
    return value


@dataclass
class ArtifactRow:
    """An artifact as stored; ``spec`` is the wire-form dict."""

    id: str
    name: str
    description: str
    type: str
    status: ArtifactStatus
    version: int | None
    collection_id: str | None
    spec: dict[str, Any]
    creator: dict[str, Any]
    created_at: str
    updated_at: str

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> ArtifactRow:
        """Build from a ``SELECT * FROM artifacts`` row."""
        values = dict(row)
        values["spec"] = json.loads(values["spec"])
        values["creator"] = json.loads(values["creator"])
        values["status"] = ArtifactStatus(values["status"])
        return cls(**values)


@dataclass
class WorkloadRow:
    """A workload as stored: desired state, observed status, and the runtime's own state."""

    id: str
    name: str
    artifact_id: str
    runtime: dict[str, Any] | None
    desired: WorkloadStatus
    """What the user asked for: ``RUNNING`` or ``STOPPED``."""
    generation: int
    status: WorkloadStatus
    status_details: dict[str, Any]
    running_since: str | None
    restart_count: int
    started_at: str
    runtime_state: dict[str, Any] | None
    creator: dict[str, Any]
    created_at: str
    updated_at: str

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> WorkloadRow:
        """Build from a ``SELECT * FROM workloads`` row."""
        values = dict(row)
        for key in ("runtime", "status_details", "runtime_state", "creator"):
            if values[key] is not None:
                values[key] = json.loads(values[key])
        values["desired"] = WorkloadStatus(values["desired"])
        values["status"] = WorkloadStatus(values["status"])
        return cls(**values)


@dataclass
class DeploymentRow:
    """A deployment as stored."""

    id: str
    name: str
    description: str
    importance: Importance
    workload_id: str
    artifact_id: str
    creator: dict[str, Any]
    created_at: str
    updated_at: str

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> DeploymentRow:
        """Build from a ``SELECT * FROM deployments`` row."""
        values = dict(row)
        values["creator"] = json.loads(values["creator"])
        values["importance"] = Importance(values["importance"])
        return cls(**values)


@dataclass
class RunningArtifactRow:
    """Which artifact spec a workload's instance was started with, and when."""

    workload_id: str
    artifact_id: str
    version: int | None
    """The registered version whose spec it runs; ``None`` for a draft's spec."""
    spec_digest: str
    started_at: str


@dataclass
class EventRow:
    """One audit-trail entry."""

    id: str
    timestamp: str
    event_type: str
    actor_id: str
    entity_type: str
    entity_id: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class LogLine:
    """One captured line of a workload's output."""

    timestamp: str
    level: str
    message: str
    container_name: str
    stream: str


@dataclass
class RolloutRow:
    """A deployment's move to another artifact version: a rolling change of its workload.

    While it is in progress, ``runtime_state`` is the new instance's (so a restarted server
    adopts it, as it adopts the workload's own instance); it is cleared when the change ends."""

    id: str
    workload_id: str
    deployment_id: str
    from_artifact_id: str
    to_artifact_id: str
    status: RolloutStatus
    message: str | None
    runtime_state: dict[str, Any] | None
    actor_id: str
    created_at: str
    updated_at: str
    finished_at: str | None

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> RolloutRow:
        """Build from a ``SELECT * FROM rollouts`` row."""
        values = dict(row)
        if values["runtime_state"] is not None:
            values["runtime_state"] = json.loads(values["runtime_state"])
        values["status"] = RolloutStatus(values["status"])
        return cls(**values)
