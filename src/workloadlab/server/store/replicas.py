"""The ``replicas`` table: the runtime state of a workload's further replicas.

A workload with ``replicaCount`` N runs N instances. The first keeps its state in the workload's
own ``runtime_state`` (as a workload of one replica always did); replicas ``1`` … ``N-1`` keep
theirs here, one row each, so that a restarted server adopts them too (and its sweep spares
them). A row exists while its instance may run: written when it starts, removed once it stopped.

A rolling change's new instances ``1`` … ``N-1`` (its first one is in the change's row) are kept
here with the role ``candidate``; the switch makes them ``active`` in its transaction, in place
of the old ones.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from workloadlab.server.store.database import Database
from workloadlab.server.store.rows import encode

Role = Literal["active", "candidate"]


class ReplicaTable(Database):
    """Reads and writes of further replicas' runtime states."""

    def save_replica(
        self, workload_id: str, ordinal: int, state: dict[str, Any], role: Role = "active"
    ) -> None:
        """Keep the state of the workload's replica ``ordinal`` (a new instance of it)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO replicas (workload_id, role, ordinal, runtime_state)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (workload_id, role, ordinal) DO UPDATE SET"
                " runtime_state = excluded.runtime_state",
                (workload_id, role, ordinal, encode("runtime_state", state)),
            )

    def save_replica_state(
        self, workload_id: str, ordinal: int, state: dict[str, Any], role: Role = "active"
    ) -> None:
        """Update a replica's state (log offsets), unless it was forgotten meanwhile."""
        with self.transaction() as db:
            db.execute(
                "UPDATE replicas SET runtime_state = ?"
                " WHERE workload_id = ? AND role = ? AND ordinal = ?",
                (encode("runtime_state", state), workload_id, role, ordinal),
            )

    def replica_states(self, workload_id: str, role: Role = "active") -> dict[int, dict[str, Any]]:
        """The stored states of the workload's further replicas, by ordinal."""
        rows = self._db.execute(
            "SELECT ordinal, runtime_state FROM replicas WHERE workload_id = ? AND role = ?"
            " ORDER BY ordinal",
            (workload_id, role),
        ).fetchall()
        return {int(row["ordinal"]): json.loads(row["runtime_state"]) for row in rows}

    def forget_replica(self, workload_id: str, ordinal: int, role: Role = "active") -> None:
        """The replica's instance is gone: drop its state."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM replicas WHERE workload_id = ? AND role = ? AND ordinal = ?",
                (workload_id, role, ordinal),
            )

    def forget_replicas(self, workload_id: str, role: Role = "active") -> None:
        """Drop the states of all the workload's further replicas of ``role``."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM replicas WHERE workload_id = ? AND role = ?", (workload_id, role)
            )

    def promote_candidates(self, workload_id: str) -> None:
        """A rolling change's switch: its new replicas take the old ones' places."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM replicas WHERE workload_id = ? AND role = 'active'", (workload_id,)
            )
            db.execute(
                "UPDATE replicas SET role = 'active' WHERE workload_id = ? AND role = 'candidate'",
                (workload_id,),
            )
