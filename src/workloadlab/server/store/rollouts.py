"""The ``rollouts`` table: deployments' moves to another version of their artifact.

At most one change per workload is in progress (a partial unique index says so); finished ones
stay, so a deployment can show its latest change and how it ended.
"""

from __future__ import annotations

from typing import Any

from workloadlab.models import RolloutStatus, new_id
from workloadlab.server.store.database import Database
from workloadlab.server.store.rows import RolloutRow, encode, now

UNDER_WAY = f"status = '{RolloutStatus.IN_PROGRESS.value}'"
"""The condition of a change in progress, spelled as the partial index's (so SQLite uses it)."""


class RolloutTable(Database):
    """Reads and writes of rolling changes."""

    def insert_rollout(
        self,
        *,
        workload_id: str,
        deployment_id: str,
        from_artifact_id: str,
        to_artifact_id: str,
        actor_id: str,
        status: RolloutStatus = RolloutStatus.IN_PROGRESS,
    ) -> RolloutRow:
        """Store a new change (in progress unless told otherwise)."""
        created = now()
        row = RolloutRow(
            id=new_id(),
            workload_id=workload_id,
            deployment_id=deployment_id,
            from_artifact_id=from_artifact_id,
            to_artifact_id=to_artifact_id,
            status=status,
            message=None,
            runtime_state=None,
            actor_id=actor_id,
            created_at=created,
            updated_at=created,
            finished_at=None if status is RolloutStatus.IN_PROGRESS else created,
        )
        self._insert("rollouts", row.__dict__)
        return row

    def get_rollout(self, rollout_id: str) -> RolloutRow | None:
        """One change, or ``None``."""
        row = self._db.execute("SELECT * FROM rollouts WHERE id = ?", (rollout_id,)).fetchone()
        return RolloutRow.from_sql(row) if row else None

    def rollout_under_way(self, workload_id: str) -> RolloutRow | None:
        """The workload's change in progress, or ``None``."""
        row = self._db.execute(
            f"SELECT * FROM rollouts WHERE workload_id = ? AND {UNDER_WAY}", (workload_id,)
        ).fetchone()
        return RolloutRow.from_sql(row) if row else None

    def rollouts_under_way(self) -> list[RolloutRow]:
        """Every change in progress of a workload that exists (for the supervisor at start-up)."""
        rows = self._db.execute(
            f"SELECT * FROM rollouts WHERE {UNDER_WAY}"
            " AND workload_id IN (SELECT id FROM workloads) ORDER BY created_at"
        ).fetchall()
        return [RolloutRow.from_sql(r) for r in rows]

    def latest_rollout(self, deployment_id: str) -> RolloutRow | None:
        """The deployment's most recent change, whatever its status, or ``None``."""
        row = self._db.execute(
            "SELECT * FROM rollouts WHERE deployment_id = ? ORDER BY created_at DESC, rowid DESC"
            " LIMIT 1",
            (deployment_id,),
        ).fetchone()
        return RolloutRow.from_sql(row) if row else None

    def update_rollout(self, rollout_id: str, **values: Any) -> bool:
        """Change some columns of a change (``updated_at`` is set); ``False`` if it is gone."""
        return self._update("rollouts", rollout_id, {**values, "updated_at": now()})

    def finish_rollout(self, rollout_id: str, status: RolloutStatus, message: str) -> bool:
        """End a change in progress (``completed`` or ``abandoned``, and why); ``False`` if it
        was no longer in progress."""
        stamp = now()
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE rollouts SET status = ?, message = ?, runtime_state = NULL,"
                " finished_at = ?, updated_at = ? WHERE id = ? AND status = ?",
                (status, message, stamp, stamp, rollout_id, RolloutStatus.IN_PROGRESS),
            )
        return cursor.rowcount > 0

    def save_rollout_state(self, workload_id: str, state: dict[str, Any]) -> None:
        """Keep the new instance's runtime state (log offsets) of the workload's change in
        progress, unless that instance was forgotten meanwhile (the state is cleared)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE rollouts SET runtime_state = ? WHERE workload_id = ? AND status = ?"
                " AND runtime_state IS NOT NULL",
                (encode("runtime_state", state), workload_id, RolloutStatus.IN_PROGRESS),
            )
