"""``/console/events/``: the audit trail of any entity, deleted or not (a local-server
extension, ``workload-api.md`` §8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from workloadlab.models import EntityType, Event, Page
from workloadlab.server.context import Context, Limit, Offset, ServerContext
from workloadlab.server.operations import trails
from workloadlab.server.routing import api_router
from workloadlab.server.store import EventRow
from workloadlab.server.views import event_json, paged

router = api_router("/console/events", "events")


def trail_answer(
    request: Request,
    context: ServerContext,
    entity_type: EntityType,
    entity_id: str,
    *,
    offset: int,
    limit: int,
    render: Callable[[EventRow], dict[str, Any]] = event_json,
) -> Response:
    """A page of one entity's trail, the answer of each resource's ``…/{id}/events``: still
    there once the entity is deleted, ``404`` only if no event ever named it. ``render``:
    how an event is answered (another API generation has its own shape)."""
    events, total = trails.of(context.store, entity_type, entity_id, offset=offset, limit=limit)
    return paged(request, [render(e) for e in events], total=total, offset=offset, limit=limit)


@router.get("", response_model=Page[Event])
async def list_events(
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
    entity_id: Annotated[
        str | None,
        Query(
            alias="entityId",
            description="The trail of this workload, artifact, deployment or credential, deleted"
            " or not (what `/console/workloads/{id}/events` and the like answer).",
        ),
    ] = None,
    entity_type: Annotated[
        EntityType | None,
        Query(
            alias="entityType",
            description="What `entityId` names; alone, every event about entities of the type.",
        ),
    ] = None,
) -> Response:
    """Events, newest first (a local-server extension): the trail of one entity
    (``entityId``), which outlives the entity, or every event (about one ``entityType``)."""
    events, total = trails.page(
        context.store, entity_type=entity_type, entity_id=entity_id, offset=offset, limit=limit
    )
    return paged(request, [event_json(e) for e in events], total=total, offset=offset, limit=limit)
