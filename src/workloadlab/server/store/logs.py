"""The ``logs`` table: each workload's captured output, capped per workload."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workloadlab.server.store.database import Database
from workloadlab.server.store.rows import LogLine, encode


class LogTable(Database):
    """Reads and writes of log lines."""

    def __init__(self, path: Path) -> None:
        self._log_counts: dict[str, int] = {}
        """Log lines stored per workload, where known (this connection is the only writer;
        forgotten when a transaction rolls back)."""
        super().__init__(path)

    def _rolled_back(self) -> None:
        self._log_counts.clear()
        super()._rolled_back()

    def add_logs(
        self,
        workload_id: str,
        lines: Sequence[LogLine],
        cap: int,
        runtime_state: dict[str, Any] | None = None,
    ) -> None:
        """Append log lines, drop the oldest beyond ``cap``, and (atomically) save how far the
        runtime has read, so that a restarted server neither loses nor repeats lines (not if
        the workload's runtime state was cleared: its instance is gone). Lines of a workload
        deleted meanwhile (its last words while it stops) are dropped."""
        with self.transaction() as db:
            if (
                db.execute("SELECT 1 FROM workloads WHERE id = ?", (workload_id,)).fetchone()
                is None
            ):
                return
            db.executemany(
                "INSERT INTO logs (workload_id, timestamp, level, message, container_name, stream)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (workload_id, x.timestamp, x.level, x.message, x.container_name, x.stream)
                    for x in lines
                ],
            )
            # The oldest lines beyond the cap, in the workload's own order (``seq`` is shared
            # by every workload), counted without a walk of ``cap`` index entries each time.
            count = self._log_counts.get(workload_id)
            if count is None:
                query = "SELECT COUNT(*) FROM logs WHERE workload_id = ?"
                count = int(db.execute(query, (workload_id,)).fetchone()[0])
            else:
                count += len(lines)
            if count > cap:
                db.execute(
                    "DELETE FROM logs WHERE seq IN (SELECT seq FROM logs WHERE workload_id = ?"
                    " ORDER BY seq LIMIT ?)",
                    (workload_id, count - cap),
                )
                count = cap
            self._log_counts[workload_id] = count
            if runtime_state is not None:  # unless the instance was forgotten meanwhile
                db.execute(
                    "UPDATE workloads SET runtime_state = ?"
                    " WHERE id = ? AND runtime_state IS NOT NULL",
                    (encode("runtime_state", runtime_state), workload_id),
                )

    def delete_logs(self, workload_id: str) -> None:
        """Remove every log line of a workload (it is being deleted)."""
        with self.transaction() as db:
            db.execute("DELETE FROM logs WHERE workload_id = ?", (workload_id,))
            self._log_counts.pop(workload_id, None)

    def list_logs(
        self,
        workload_id: str,
        *,
        offset: int,
        limit: int,
        start_time: str | None = None,
        end_time: str | None = None,
        levels: Sequence[str] | None = None,
    ) -> tuple[list[LogLine], int]:
        """A page of a workload's log lines, newest first, and the total count."""
        where = ["workload_id = ?"]
        params: list[Any] = [workload_id]
        if start_time:
            where.append("timestamp >= ?")
            params.append(start_time)
        if end_time:
            where.append("timestamp <= ?")
            params.append(end_time)
        if levels is not None:
            where.append(f"level IN ({', '.join('?' for _ in levels)})")
            params.extend(levels)
        clause = " AND ".join(where)
        total = self._db.execute(f"SELECT COUNT(*) FROM logs WHERE {clause}", params).fetchone()
        rows = self._db.execute(
            "SELECT timestamp, level, message, container_name, stream FROM logs"
            f" WHERE {clause} ORDER BY seq DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [LogLine(**dict(r)) for r in rows], int(total[0])

    def log_tail(self, workload_id: str, lines: int) -> list[str]:
        """The last ``lines`` messages, oldest first."""
        rows = self._db.execute(
            "SELECT message FROM logs WHERE workload_id = ? ORDER BY seq DESC LIMIT ?",
            (workload_id, lines),
        ).fetchall()
        return [r[0] for r in reversed(rows)]
