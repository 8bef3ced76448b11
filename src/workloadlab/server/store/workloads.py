"""The ``workloads`` table: desired state, observed status, and the runtime's own state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workloadlab.models import WorkloadStatus, new_id
from workloadlab.server.store.logs import LogTable
from workloadlab.server.store.ordering import ListOrder, order_sql
from workloadlab.server.store.rows import WorkloadRow, now


class WorkloadTable(LogTable):
    """Reads and writes of workloads (whose log lines go with them)."""

    def insert_workload(
        self,
        *,
        name: str,
        artifact_id: str,
        runtime: dict[str, Any] | None,
        creator: dict[str, Any],
    ) -> WorkloadRow:
        """Store a new workload that should run (status ``submitted``)."""
        created = now()
        row = WorkloadRow(
            id=new_id(),
            name=name,
            artifact_id=artifact_id,
            runtime=runtime,
            desired=WorkloadStatus.RUNNING,
            generation=1,
            status=WorkloadStatus.SUBMITTED,
            status_details={"conditions": [], "logTail": []},
            running_since=None,
            restart_count=0,
            started_at=created,
            runtime_state=None,
            creator=creator,
            created_at=created,
            updated_at=created,
        )
        self._insert("workloads", row.__dict__)
        return row

    def get_workload(self, workload_id: str) -> WorkloadRow | None:
        """One workload, or ``None``."""
        row = self._db.execute("SELECT * FROM workloads WHERE id = ?", (workload_id,)).fetchone()
        return WorkloadRow.from_sql(row) if row else None

    def list_workloads(
        self,
        *,
        offset: int,
        limit: int,
        search: str | None,
        statuses: Sequence[str] | None,
        ids: Sequence[str] | None = None,
        order: ListOrder | None = None,
    ) -> tuple[list[WorkloadRow], int]:
        """A page of workloads, newest first unless ``order`` says otherwise, and the total
        count."""
        where, params = self._filters(search, statuses, ids)
        rows, total = self._page("workloads", where, params, offset, limit, order_sql(order))
        return [WorkloadRow.from_sql(r) for r in rows], total

    def all_workloads(self) -> list[WorkloadRow]:
        """Every workload (for the supervisor at start-up)."""
        rows = self._db.execute("SELECT * FROM workloads ORDER BY created_at").fetchall()
        return [WorkloadRow.from_sql(r) for r in rows]

    def workloads_using(self, artifact_id: str) -> list[WorkloadRow]:
        """The workloads that run an artifact."""
        rows = self._db.execute(
            "SELECT * FROM workloads WHERE artifact_id = ? ORDER BY created_at", (artifact_id,)
        ).fetchall()
        return [WorkloadRow.from_sql(r) for r in rows]

    def update_workload(self, workload_id: str, *, touch: bool = True, **values: Any) -> bool:
        """Change some columns of a workload; ``touch`` also sets ``updated_at``. ``False``
        if there is no such workload (any more)."""
        if touch:
            values["updated_at"] = now()
        return self._update("workloads", workload_id, values)

    def delete_workload(self, workload_id: str) -> None:
        """Remove a workload and its logs (its events stay: they are the audit trail)."""
        with self.transaction() as db:
            db.execute("DELETE FROM workloads WHERE id = ?", (workload_id,))
            db.execute("DELETE FROM replicas WHERE workload_id = ?", (workload_id,))
            self.delete_logs(workload_id)
