"""The ``running_artifacts`` table: which artifact spec each workload's instance was started with.

The supervisor records it when it has started an instance, just before it stores the
instance's runtime state; it is shown while that instance lives (the workload's
``runtime_state`` is set, which an adopted instance keeps across server restarts, and cleared
whenever the instance is gone) and removed with the workload. A table of its own rather than
columns of ``workloads``: older data dirs gain it without a migration.
"""

from __future__ import annotations

from workloadlab.server.store.database import Database
from workloadlab.server.store.rows import RunningArtifactRow, now


class RunningArtifactTable(Database):
    """Reads and writes of what workloads' instances run."""

    def record_running_artifact(
        self, workload_id: str, artifact_id: str, version: int | None, spec_digest: str
    ) -> None:
        """Remember that the workload's new instance runs this artifact's spec, started now."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO running_artifacts"
                " (workload_id, artifact_id, version, spec_digest, started_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (workload_id, artifact_id, version, spec_digest, now()),
            )

    def running_artifact(self, workload_id: str) -> RunningArtifactRow | None:
        """What the workload's instance runs, or ``None`` when it has no instance."""
        row = self._db.execute(
            "SELECT r.* FROM running_artifacts r JOIN workloads w ON w.id = r.workload_id"
            " WHERE r.workload_id = ? AND w.runtime_state IS NOT NULL",
            (workload_id,),
        ).fetchone()
        return RunningArtifactRow(**dict(row)) if row else None

    def running_registered(self, artifact_id: str, spec_digest: str, version: int) -> None:
        """An artifact was registered as ``version``: instances that run its spec (it is frozen
        now) run that version."""
        with self.transaction() as db:
            db.execute(
                "UPDATE running_artifacts SET version = ?"
                " WHERE artifact_id = ? AND spec_digest = ? AND version IS NULL",
                (version, artifact_id, spec_digest),
            )

    def forget_running_artifact(self, workload_id: str) -> None:
        """Remove what a workload ran (it is being deleted)."""
        with self.transaction() as db:
            db.execute("DELETE FROM running_artifacts WHERE workload_id = ?", (workload_id,))
