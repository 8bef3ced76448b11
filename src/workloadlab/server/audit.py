"""The audit trail: who did what to which entity, written in the transaction of the change.

Operations audit what the user does; the supervisor audits what the server does by itself
(status changes, expiry) as :data:`SYSTEM`. Events are tagged with every entity they concern,
so a workload's trail shows its artifact's events, and a deployment's its workload's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workloadlab.server.store import Store


@dataclass(frozen=True)
class Actor:
    """Who does an action: ``id`` goes into events, ``user`` becomes the ``creator`` of what
    they create."""

    id: str
    user: dict[str, Any]

    @classmethod
    def of(cls, user: dict[str, Any]) -> Actor:
        """The actor for a user record (``{"id", "username", "email"}``)."""
        return cls(str(user["id"]), user)


SYSTEM = Actor("system", {"id": "system"})
"""The actor of events the server causes by itself (status changes, expiry)."""


def audit(
    store: Store,
    actor: Actor,
    event_type: str,
    entity_id: str,
    *,
    workload_id: str | None = None,
    artifact_id: str | None = None,
    deployment_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record that ``actor`` did ``event_type`` (``artifact.updated``…) to the entity
    ``entity_id``, whose type is the event type's first word; the other ids tag the entities
    it also concerns."""
    entity_type = event_type.partition(".")[0]
    links = {"workload": workload_id, "artifact": artifact_id, "deployment": deployment_id}
    links[entity_type] = entity_id
    store.add_event(
        event_type,
        actor_id=actor.id,
        entity_type=entity_type,
        entity_id=entity_id,
        workload_id=links["workload"],
        artifact_id=links["artifact"],
        deployment_id=links["deployment"],
        details=details,
    )
