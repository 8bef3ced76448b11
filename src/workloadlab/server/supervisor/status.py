"""Recording a workload's status: the row, why, and an audit event when it changes."""

from __future__ import annotations

import logging
from typing import Any

from workloadlab.models import WorkloadStatus
from workloadlab.server.audit import SYSTEM, Actor, audit
from workloadlab.server.store import Store, WorkloadRow

logger = logging.getLogger("workloadlab.server")


def record_status(
    store: Store,
    row: WorkloadRow,
    status: WorkloadStatus,
    *,
    actor: Actor = SYSTEM,
    message: str | None = None,
    conditions: list[dict[str, str]] | None = None,
    exit_code: int | None = None,
    running_since: str | object | None = ...,
    replicas: list[dict[str, Any]] | None = None,
    **columns: Any,
) -> None:
    """Store a workload's status and why, and audit the change (if it is one).

    ``conditions=None`` keeps the current conditions; ``running_since`` is left alone unless
    given, and cleared on ``stopped`` and ``errored``; ``replicas``: the state of each replica
    of a workload that runs several (``statusDetails.replicas``). Extra ``columns`` are written
    with it.
    """
    details: dict[str, Any] = {
        "conditions": row.status_details.get("conditions", []) if conditions is None else conditions
    }
    if message:
        details["message"] = message
    if exit_code is not None:
        details["exitCode"] = exit_code
    if replicas is not None:
        details["replicas"] = replicas
    values: dict[str, Any] = {"status": status, "status_details": details, **columns}
    if running_since is not ...:
        values["running_since"] = running_since
    if status in (WorkloadStatus.STOPPED, WorkloadStatus.ERRORED):
        values["running_since"] = None
    with store.transaction():
        if not store.update_workload(row.id, **values):
            return  # deleted meanwhile: its trail ends with its delete
        if status != row.status:
            audit(
                store,
                actor,
                "workload.statusChanged",
                row.id,
                details={
                    "from": row.status,
                    "to": status,
                    **({"message": message} if message else {}),
                },
            )
    if status != row.status:
        logger.info("workload %s: %s -> %s %s", row.id, row.status, status, message or "")


def condition(kind: str, name: str, value: bool) -> dict[str, str]:
    """A status condition (``Started``, ``Ready``, ``CrashLoopBackOff``) of a container."""
    return {"type": kind, "name": name, "value": "True" if value else "False"}
