"""The current generation's replacements: rolling changes of a workload without a deployment.

A replacement *is* a rolling change (the ``rollouts`` table, with no deployment: the supervisor
runs it as it runs a deployment's), plus what this generation says about it (``replacements``):
what asked for it (``settings``, ``replacement``, ``promote``), its strategy, config and
runtime, and the instance it replaces. When the change switches, the requested runtime becomes
the workload's (:meth:`ReplacementTable.take_replacement_runtime`, in the switch's transaction).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from workloadlab.server.store.database import Database
from workloadlab.server.store.rows import RolloutRow


@dataclass
class ReplacementRow:
    """A rolling change with what the current generation says about it."""

    change: RolloutRow
    kind: str
    """``settings``, ``replacement`` or ``promote``."""
    strategy: str
    config: dict[str, Any]
    runtime: dict[str, Any] | None
    previous_proton_id: str | None


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


class ReplacementTable(Database):
    """Reads and writes of replacements."""

    def insert_replacement(
        self,
        rollout_id: str,
        *,
        kind: str,
        strategy: str,
        config: dict[str, Any],
        runtime: dict[str, Any] | None,
        previous_proton_id: str | None,
    ) -> None:
        """Store what the current generation says about a rolling change."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO replacements"
                " (rollout_id, kind, strategy, config, runtime, previous_proton_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (rollout_id, kind, strategy, _dumps(config), _dumps(runtime), previous_proton_id),
            )

    def replacements_of(self, workload_id: str) -> list[ReplacementRow]:
        """A workload's replacements, newest first."""
        changes = self._db.execute(
            "SELECT r.* FROM rollouts r JOIN replacements x ON x.rollout_id = r.id"
            " WHERE r.workload_id = ? ORDER BY r.created_at DESC, r.rowid DESC",
            (workload_id,),
        ).fetchall()
        extras = {
            row["rollout_id"]: row
            for row in self._db.execute(
                "SELECT x.* FROM replacements x JOIN rollouts r ON x.rollout_id = r.id"
                " WHERE r.workload_id = ?",
                (workload_id,),
            ).fetchall()
        }
        found = []
        for row in changes:
            change = RolloutRow.from_sql(row)
            extra = extras[change.id]
            runtime = extra["runtime"]
            found.append(
                ReplacementRow(
                    change=change,
                    kind=extra["kind"],
                    strategy=extra["strategy"],
                    config=json.loads(extra["config"]),
                    runtime=json.loads(runtime) if runtime is not None else None,
                    previous_proton_id=extra["previous_proton_id"],
                )
            )
        return found

    def take_replacement_runtime(self, rollout_id: str, workload_id: str) -> None:
        """At a replacement's switch: its runtime (if it asked for one) becomes the workload's,
        both as the API answers it and as the supervisor runs it. A deployment's change has no
        replacement: nothing happens."""
        with self.transaction() as db:
            found = db.execute(
                "SELECT runtime FROM replacements WHERE rollout_id = ? AND runtime IS NOT NULL",
                (rollout_id,),
            ).fetchone()
            if found is None:
                return
            db.execute(
                "UPDATE workload_settings SET runtime = ? WHERE workload_id = ?",
                (found[0], workload_id),
            )
            db.execute("UPDATE workloads SET runtime = ? WHERE id = ?", (found[0], workload_id))
