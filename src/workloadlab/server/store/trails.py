"""Trails: which events make up the history of one workload, artifact, deployment or credential.

Events are never deleted and are tagged with every entity they concern, so a trail is read
from the events alone, the same way whether its entity still exists or was deleted:

- a **workload**'s: the events tagged with it (its own, and its deployments'), and its
  artifacts' own events (``artifact.*``) up to its end;
- a **deployment**'s: the events tagged with it, and its workload's from its creation to its
  end;
- an **artifact**'s: the events tagged with it (its own, and the workloads' and deployments'
  that used it).
- a **credential**'s: its own events (no other event names it: an artifact refers to it only
  in its spec).

An entity's *end* is its delete (or the draft TTL's expiry): what happens afterwards to the
artifact a deleted workload ran, or to the workload a deleted deployment ran on, belongs to
their trails, not to the one that ended.
"""

from __future__ import annotations

from typing import Any

from workloadlab.models import EntityType
from workloadlab.server.store.events import EventTable
from workloadlab.server.store.rows import EventRow

ENDINGS: dict[EntityType, tuple[str, ...]] = {
    EntityType.WORKLOAD: ("workload.deleted", "workload.expired"),
    EntityType.DEPLOYMENT: ("deployment.deleted",),
    EntityType.ARTIFACT: ("artifact.deleted",),
    EntityType.CREDENTIAL: ("credential.deleted",),
}
"""The event types that end an entity's trail."""
NO_END = 2**63 - 1


class TrailQueries(EventTable):
    """Reads of the audit trail by entity."""

    def is_named(self, entity_type: EntityType, entity_id: str) -> bool:
        """Whether an event was ever about this entity (it exists, or existed)."""
        found = self._db.execute(
            "SELECT 1 FROM events WHERE entity_id = ? AND entity_type = ? LIMIT 1",
            (entity_id, entity_type),
        ).fetchone()
        return found is not None

    def entity_type_of(self, entity_id: str) -> EntityType | None:
        """The type of the entity an id names in the trail, if any event was about it."""
        found = self._db.execute(
            "SELECT entity_type FROM events WHERE entity_id = ? ORDER BY seq LIMIT 1",
            (entity_id,),
        ).fetchone()
        known = {entity_type.value for entity_type in EntityType}
        return EntityType(found[0]) if found and found[0] in known else None

    def list_trail(
        self, entity_type: EntityType, entity_id: str, *, offset: int, limit: int
    ) -> tuple[list[EventRow], int]:
        """A page of one entity's trail (see the module's docstring), newest first, and the
        total count."""
        where, params = self._trail(entity_type, entity_id)
        return self.list_events(where=where, params=params, offset=offset, limit=limit)

    def list_every_event(
        self, *, entity_type: EntityType | None, offset: int, limit: int
    ) -> tuple[list[EventRow], int]:
        """A page of every event (about entities of one type), newest first, and the total."""
        if entity_type is None:
            return self.list_events(where="1", params=(), offset=offset, limit=limit)
        return self.list_events(
            where="entity_type = ?", params=(entity_type,), offset=offset, limit=limit
        )

    def _trail(self, entity_type: EntityType, entity_id: str) -> tuple[str, list[Any]]:
        endings = ENDINGS[entity_type]
        end = self._db.execute(
            "SELECT MAX(seq) FROM events WHERE entity_id = ? AND entity_type = ?"
            f" AND event_type IN ({', '.join('?' for _ in endings)})",
            (entity_id, entity_type, *endings),
        ).fetchone()[0]
        end = NO_END if end is None else int(end)
        own = "SELECT {column} FROM events WHERE entity_id = ? AND entity_type = ?"
        if entity_type is EntityType.WORKLOAD:
            artifacts = own.format(column="artifact_id") + " AND artifact_id IS NOT NULL"
            where = (
                f"workload_id = ? OR (entity_type = ? AND artifact_id IN ({artifacts})"
                " AND seq <= ?)"
            )
            return where, [entity_id, EntityType.ARTIFACT, entity_id, entity_type, end]
        if entity_type is EntityType.DEPLOYMENT:
            workloads = own.format(column="workload_id") + " AND workload_id IS NOT NULL"
            begin = own.format(column="MIN(seq)")
            where = (
                f"deployment_id = ? OR (workload_id IN ({workloads})"
                f" AND seq >= ({begin}) AND seq <= ?)"
            )
            return where, [entity_id, entity_id, entity_type, entity_id, entity_type, end]
        if entity_type is EntityType.ARTIFACT:
            return "artifact_id = ?", [entity_id]
        return "entity_id = ? AND entity_type = ?", [entity_id, entity_type]
