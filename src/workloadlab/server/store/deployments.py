"""The ``deployments`` table: governed deployments of workloads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workloadlab.models import Importance, new_id
from workloadlab.server.store.database import Database
from workloadlab.server.store.ordering import DeploymentOrder, order_sql
from workloadlab.server.store.rows import DeploymentRow, now


class DeploymentTable(Database):
    """Reads and writes of deployments."""

    def insert_deployment(
        self,
        *,
        name: str,
        description: str,
        importance: Importance,
        workload_id: str,
        artifact_id: str,
        creator: dict[str, Any],
    ) -> DeploymentRow:
        """Store a new deployment."""
        created = now()
        row = DeploymentRow(
            id=new_id(),
            name=name,
            description=description,
            importance=importance,
            workload_id=workload_id,
            artifact_id=artifact_id,
            creator=creator,
            created_at=created,
            updated_at=created,
        )
        self._insert("deployments", row.__dict__)
        return row

    def get_deployment(self, deployment_id: str) -> DeploymentRow | None:
        """One deployment, or ``None``."""
        row = self._db.execute(
            "SELECT * FROM deployments WHERE id = ?", (deployment_id,)
        ).fetchone()
        return DeploymentRow.from_sql(row) if row else None

    def list_deployments(
        self,
        *,
        offset: int,
        limit: int,
        search: str | None,
        workload_ids: Sequence[str] = (),
        artifact_ids: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        order: DeploymentOrder | None = None,
    ) -> tuple[list[DeploymentRow], int]:
        """A page of deployments, newest first unless ``order`` says otherwise, and the total
        count; each of ``workload_ids`` must be the deployment's workload (two different ones
        match nothing)."""
        where, params = self._filters(search, None, ids)
        for workload_id in workload_ids:
            where.append("workload_id = ?")
            params.append(workload_id)
        if artifact_ids:
            where.append(f"artifact_id IN ({', '.join('?' for _ in artifact_ids)})")
            params.extend(artifact_ids)
        order_by = order_sql(order, table="deployments")
        rows, total = self._page("deployments", where, params, offset, limit, order_by)
        return [DeploymentRow.from_sql(r) for r in rows], total

    def deployments_of(self, workload_id: str) -> list[DeploymentRow]:
        """Every deployment of a workload, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM deployments WHERE workload_id = ? ORDER BY created_at, id",
            (workload_id,),
        ).fetchall()
        return [DeploymentRow.from_sql(r) for r in rows]

    def update_deployment(self, deployment_id: str, **values: Any) -> None:
        """Change some columns of a deployment (``updated_at`` is set)."""
        self._update("deployments", deployment_id, {**values, "updated_at": now()})

    def delete_deployment(self, deployment_id: str) -> None:
        """Remove a deployment."""
        with self.transaction() as db:
            db.execute("DELETE FROM deployments WHERE id = ?", (deployment_id,))
