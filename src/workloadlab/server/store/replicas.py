"""The ``replicas`` table: the runtime state of a workload's further replicas.

A workload with ``replicaCount`` N runs N instances. The first keeps its state in the workload's
own ``runtime_state`` (as a workload of one replica always did); replicas ``1`` … ``N-1`` keep
theirs here, one row each, so that a restarted server adopts them too (and its sweep spares
them). A row exists while its instance may run: written when it starts, removed once it stopped.
"""

from __future__ import annotations

import json
from typing import Any

from workloadlab.server.store.database import Database
from workloadlab.server.store.rows import encode


class ReplicaTable(Database):
    """Reads and writes of further replicas' runtime states."""

    def save_replica(self, workload_id: str, ordinal: int, state: dict[str, Any]) -> None:
        """Keep the state of the workload's replica ``ordinal`` (a new instance of it)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO replicas (workload_id, ordinal, runtime_state) VALUES (?, ?, ?)"
                " ON CONFLICT (workload_id, ordinal) DO UPDATE SET"
                " runtime_state = excluded.runtime_state",
                (workload_id, ordinal, encode("runtime_state", state)),
            )

    def save_replica_state(self, workload_id: str, ordinal: int, state: dict[str, Any]) -> None:
        """Update a replica's state (log offsets), unless it was forgotten meanwhile."""
        with self.transaction() as db:
            db.execute(
                "UPDATE replicas SET runtime_state = ? WHERE workload_id = ? AND ordinal = ?",
                (encode("runtime_state", state), workload_id, ordinal),
            )

    def replica_states(self, workload_id: str) -> dict[int, dict[str, Any]]:
        """The stored states of the workload's further replicas, by ordinal."""
        rows = self._db.execute(
            "SELECT ordinal, runtime_state FROM replicas WHERE workload_id = ? ORDER BY ordinal",
            (workload_id,),
        ).fetchall()
        return {int(row["ordinal"]): json.loads(row["runtime_state"]) for row in rows}

    def forget_replica(self, workload_id: str, ordinal: int) -> None:
        """The replica's instance is gone: drop its state."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM replicas WHERE workload_id = ? AND ordinal = ?",
                (workload_id, ordinal),
            )

    def forget_replicas(self, workload_id: str) -> None:
        """Drop the states of all the workload's further replicas."""
        with self.transaction() as db:
            db.execute("DELETE FROM replicas WHERE workload_id = ?", (workload_id,))
