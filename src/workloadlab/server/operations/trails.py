"""The audit trail of one workload, artifact, deployment or credential, which outlives its entity.

What makes up a trail is the store's business (:mod:`workloadlab.server.store.trails`); here:
a trail is ``404`` only when its entity neither exists nor ever had an event, so the trail of a
deleted (or expired) entity stays readable, ending with its delete and its actor.
"""

from __future__ import annotations

from workloadlab.models import EntityType
from workloadlab.server.problems import NotFound
from workloadlab.server.store import EventRow, Store

NOUNS = {
    EntityType.WORKLOAD: "Workload",
    EntityType.ARTIFACT: "Artifact",
    EntityType.DEPLOYMENT: "Deployment",
    EntityType.CREDENTIAL: "Credential",
}


def of(
    store: Store, entity_type: EntityType, entity_id: str, *, offset: int, limit: int
) -> tuple[list[EventRow], int]:
    """A page of an entity's trail, newest first, and the total count; :class:`NotFound` if
    no event ever named it."""
    if not store.is_named(entity_type, entity_id) and not _exists(store, entity_type, entity_id):
        raise NotFound(f"{NOUNS[entity_type]} {entity_id} not found")
    return store.list_trail(entity_type, entity_id, offset=offset, limit=limit)


def page(
    store: Store,
    *,
    entity_type: EntityType | None,
    entity_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[EventRow], int]:
    """A page of events, newest first, and the total: with ``entity_id``, that entity's
    trail (of the type its events give when ``entity_type`` is not said; none if no event
    named it); else every event, or every event about entities of ``entity_type``."""
    if entity_id is None:
        return store.list_every_event(entity_type=entity_type, offset=offset, limit=limit)
    entity_type = entity_type or store.entity_type_of(entity_id)
    if entity_type is None:
        return [], 0
    return store.list_trail(entity_type, entity_id, offset=offset, limit=limit)


def _exists(store: Store, entity_type: EntityType, entity_id: str) -> bool:
    if entity_type is EntityType.WORKLOAD:
        return store.get_workload(entity_id) is not None
    if entity_type is EntityType.DEPLOYMENT:
        return store.get_deployment(entity_id) is not None
    if entity_type is EntityType.CREDENTIAL:
        return store.get_credential(entity_id) is not None
    return store.get_artifact(entity_id) is not None
