"""Query parameters the lists share: ``ids``, and the order (``orderBy``, or ``sort``).

``ids`` comes the ways DataRobot's clients send it: repeated (``ids=a&ids=b``), separated by
commas (``ids=a,b``), or both; given with no id in it, it matches nothing (as ``status=`` does).
An order is a field with ``-`` in front for descending (``name``, ``-createdAt``): ``orderBy`` is
DataRobot's spelling, ``sort`` another one (``orderBy`` wins when both are given: what the API
document says is valid is never refused); any other value is ``422`` naming the parameter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from workloadlab.server.store import DeploymentOrder, ListOrder

Ids = Annotated[
    list[str] | None,
    Query(
        description="Only these ids: repeat the parameter, separate the ids with commas, or both."
    ),
]
"""The ``ids`` parameter of a list (parse it with :func:`wanted_ids`)."""

ORDER_HELP = (
    "The order: a field, with `-` in front for descending. Ties go by creation time. Default:"
    " newest first (`-createdAt`)."
)
SORT_HELP = "Another spelling of `orderBy` (which wins when both are given)."
OrderBy = Annotated[ListOrder | None, Query(alias="orderBy", description=ORDER_HELP)]
Sort = Annotated[ListOrder | None, Query(description=SORT_HELP)]
DeploymentOrderBy = Annotated[
    DeploymentOrder | None,
    Query(alias="orderBy", description=f"{ORDER_HELP} `importance` goes from `low` to `critical`."),
]
DeploymentSort = Annotated[DeploymentOrder | None, Query(description=SORT_HELP)]


def wanted_ids(values: list[str] | None) -> list[str] | None:
    """The ids an ``ids`` parameter names (``None``: it was not given)."""
    if values is None:
        return None
    return [part for value in values for part in value.split(",") if part]
