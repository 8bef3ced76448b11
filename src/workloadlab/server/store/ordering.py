"""How lists are ordered: the orders a list accepts, as the API spells them, and their SQL.

An order is a field, with ``-`` in front for descending (``name``, ``-createdAt``), as DataRobot's
``orderBy`` says it. Ties go by creation time, then id, in the same direction, so that pages of
one order neither repeat nor skip a row. Names compare without regard to case; importance goes
``low`` < ``moderate`` < ``high`` < ``critical``; a deployment's status is its workload's.
"""

from __future__ import annotations

from typing import Literal

from workloadlab.models import Importance

ListOrder = Literal[
    "name", "-name", "createdAt", "-createdAt", "updatedAt", "-updatedAt", "status", "-status"
]
"""The orders of the workloads' and the artifacts' lists."""
DeploymentOrder = Literal[ListOrder, "importance", "-importance"]
"""The orders of the deployments' list."""

NEWEST_FIRST = "created_at DESC, id DESC"
"""A list's order when none is asked for."""

_IMPORTANCE_RANK = (
    "CASE importance "
    + " ".join(f"WHEN '{level.value}' THEN {rank}" for rank, level in enumerate(Importance))
    + " END"
)
_COLUMNS = {
    "name": "name COLLATE NOCASE",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "status": "status",
    "importance": _IMPORTANCE_RANK,
}
_DEPLOYMENT_STATUS = "(SELECT status FROM workloads WHERE workloads.id = deployments.workload_id)"


def order_sql(order: str | None, *, default: str = NEWEST_FIRST, table: str = "") -> str:
    """The ``ORDER BY`` of ``order`` (one of :data:`ListOrder` or :data:`DeploymentOrder`) on
    ``table``, or ``default`` when there is none."""
    if order is None:
        return default
    field = order.removeprefix("-")
    direction = "DESC" if order.startswith("-") else "ASC"
    column = _DEPLOYMENT_STATUS if (table, field) == ("deployments", "status") else _COLUMNS[field]
    return f"{column} {direction}, created_at {direction}, id {direction}"
