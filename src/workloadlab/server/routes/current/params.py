"""Query parameters of the current generation's lists: ``orderBy``, repeatable filters, and a
``422`` naming each parameter the local server does not have (``createdBy``, ``tagKeys``...),
rather than an answer that silently ignores it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from workloadlab.server.context import Limit, Offset
from workloadlab.server.routes.listing import Ids, wanted_ids
from workloadlab.server.store import ListQuery

SORTED_BY = ("name", "createdAt", "updatedAt")
"""What every list sorts by (``-`` before it: descending); lists of things with a status also
by ``status``, workloads also by ``importance``."""
DEFAULT_ORDER = "-createdAt"

ArtifactIds = Annotated[
    list[str] | None,
    Query(alias="artifactId", description="Only the workloads of these artifacts (repeatable)."),
]
Statuses = Annotated[list[str] | None, Query(description="Only these statuses (repeatable).")]
Types = Annotated[list[str] | None, Query(description="Only these types (repeatable).")]
Search = Annotated[
    str | None,
    Query(max_length=100, description="Name, description or part of the id; any case."),
]
OrderBy = Annotated[
    str,
    Query(
        alias="orderBy",
        description="`name`, `createdAt`, `updatedAt`, `status` (not repositories; workloads"
        " also `importance`); `-` before it for descending.",
    ),
]


def order(value: str, fields: tuple[str, ...]) -> str:
    """``orderBy`` if it names one of ``fields`` (``-`` before it: descending), else a ``422``
    at it."""
    if value.removeprefix("-") not in fields:
        allowed = ", ".join(fields)
        message = f"orderBy must be one of {allowed}, with '-' before it for descending"
        raise RequestValidationError(
            [{"loc": ("query", "orderBy"), "msg": message, "type": "value_error"}]
        )
    return value


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route (and its dependencies) takes."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def refuse_unknown(request: Request) -> None:
    """A ``422`` naming every query parameter the route does not take: a filter the local
    server lacks must not be silently ignored."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"{name} is not a filter workloadlab serve supports here"
                    f" (it takes {', '.join(sorted(known))})",
                    "type": "value_error",
                }
                for name in unknown
            ]
        )


async def unknown_parameters_refused(request: Request) -> None:
    """A dependency: :func:`refuse_unknown` for every route of a router (async: a sync
    dependency would cost a worker-thread hop on every request)."""
    refuse_unknown(request)


class Listing:
    """A dependency that reads a list's page, order, ``ids`` (repeated or with commas) and
    ``search``, refusing the parameters the route does not take; ``sortable``: what the list
    also sorts by."""

    def __init__(self, *sortable: str) -> None:
        self.fields = (*SORTED_BY, *sortable)

    async def __call__(
        self,
        request: Request,
        offset: Offset = 0,
        limit: Limit = 100,
        ids: Ids = None,
        search: Search = None,
        order_by: OrderBy = DEFAULT_ORDER,
    ) -> ListQuery:
        """The list's query."""
        refuse_unknown(request)
        sort = order(order_by, self.fields)
        wanted = wanted_ids(ids)
        return ListQuery(offset=offset, limit=limit, order=sort, ids=wanted, search=search)


Listed = Annotated[ListQuery, Depends(Listing("status"))]
"""A route parameter: the query of a list of artifacts."""
RepositoriesListed = Annotated[ListQuery, Depends(Listing())]
"""A route parameter: the query of a list of repositories (which have no status)."""
WorkloadsListed = Annotated[ListQuery, Depends(Listing("status", "importance"))]
"""A route parameter: the query of a list of workloads (also sorted by ``importance``)."""
