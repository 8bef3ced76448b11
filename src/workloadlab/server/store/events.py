"""The ``events`` table: the audit trail, tagged with every entity an event concerns.

Events are never deleted: they outlive the workloads, artifacts and deployments they name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from workloadlab.models import new_id
from workloadlab.server.store.database import Database
from workloadlab.server.store.rows import EventRow, now


class EventTable(Database):
    """Appends to and reads of the audit trail."""

    def add_event(
        self,
        event_type: str,
        *,
        actor_id: str,
        entity_type: str,
        entity_id: str,
        workload_id: str | None = None,
        artifact_id: str | None = None,
        deployment_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit trail, tagged with every entity it concerns."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO events (id, timestamp, event_type, actor_id, entity_type, entity_id,"
                " workload_id, artifact_id, deployment_id, details)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new_id(),
                    now(),
                    event_type,
                    actor_id,
                    entity_type,
                    entity_id,
                    workload_id,
                    artifact_id,
                    deployment_id,
                    json.dumps(details or {}, separators=(",", ":")),
                ),
            )

    def list_events(
        self, *, where: str, params: Sequence[Any], offset: int, limit: int
    ) -> tuple[list[EventRow], int]:
        """A page of events matching ``where``, newest first, and the total count."""
        total = self._db.execute(f"SELECT COUNT(*) FROM events WHERE {where}", params).fetchone()
        rows = self._db.execute(
            "SELECT id, timestamp, event_type, actor_id, entity_type, entity_id, details"
            f" FROM events WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        events = [EventRow(**{**dict(r), "details": json.loads(r["details"])}) for r in rows]
        return events, int(total[0])
