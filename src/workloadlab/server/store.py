"""The local server's SQLite store: artifacts, workloads, deployments, events and logs.

The database holds the *desired* state (``workloads.desired``, ``workloads.generation``) as well
as what was last observed, so a restarted server knows what should run. It runs in WAL mode with
``synchronous=FULL`` and every write in ``BEGIN IMMEDIATE``. One connection, used from the
server's event loop thread: statements take tens of microseconds, far less than a thread hop.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workloadlab.connection import open_private
from workloadlab.models import format_timestamp, new_id, utcnow

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS artifacts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER,
    collection_id TEXT,
    spec TEXT NOT NULL,
    creator TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workloads (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    runtime TEXT,
    desired TEXT NOT NULL,
    generation INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    running_since TEXT,
    restart_count INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    runtime_state TEXT,
    creator TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS workloads_artifact ON workloads (artifact_id);
CREATE TABLE IF NOT EXISTS deployments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    importance TEXT NOT NULL,
    workload_id TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    creator TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deployments_workload ON deployments (workload_id);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    timestamp TEXT NOT NULL,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    workload_id TEXT,
    artifact_id TEXT,
    deployment_id TEXT,
    details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_workload ON events (workload_id, seq);
CREATE INDEX IF NOT EXISTS events_artifact ON events (artifact_id, seq);
CREATE INDEX IF NOT EXISTS events_deployment ON events (deployment_id, seq);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workload_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    container_name TEXT NOT NULL,
    stream TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_workload ON logs (workload_id, seq);
"""


def _now() -> str:
    return format_timestamp(utcnow())


@dataclass
class ArtifactRow:
    """An artifact as stored; ``spec`` is the wire-form dict."""

    id: str
    name: str
    description: str
    type: str
    status: str
    version: int | None
    collection_id: str | None
    spec: dict[str, Any]
    creator: dict[str, Any]
    created_at: str
    updated_at: str

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> ArtifactRow:
        """Build from a ``SELECT * FROM artifacts`` row."""
        values = dict(row)
        values["spec"] = json.loads(values["spec"])
        values["creator"] = json.loads(values["creator"])
        return cls(**values)


@dataclass
class WorkloadRow:
    """A workload as stored: desired state, observed status, and the runtime's own state."""

    id: str
    name: str
    artifact_id: str
    runtime: dict[str, Any] | None
    desired: str
    generation: int
    status: str
    status_details: dict[str, Any]
    running_since: str | None
    restart_count: int
    started_at: str
    runtime_state: dict[str, Any] | None
    creator: dict[str, Any]
    created_at: str
    updated_at: str

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> WorkloadRow:
        """Build from a ``SELECT * FROM workloads`` row."""
        values = dict(row)
        for key in ("runtime", "status_details", "runtime_state", "creator"):
            if values[key] is not None:
                values[key] = json.loads(values[key])
        return cls(**values)


@dataclass
class DeploymentRow:
    """A deployment as stored."""

    id: str
    name: str
    description: str
    importance: str
    workload_id: str
    artifact_id: str
    creator: dict[str, Any]
    created_at: str
    updated_at: str

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> DeploymentRow:
        """Build from a ``SELECT * FROM deployments`` row."""
        values = dict(row)
        values["creator"] = json.loads(values["creator"])
        return cls(**values)


@dataclass
class EventRow:
    """One audit-trail entry."""

    id: str
    timestamp: str
    event_type: str
    actor_id: str
    entity_type: str
    entity_id: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class LogLine:
    """One captured line of a workload's output."""

    timestamp: str
    level: str
    message: str
    container_name: str
    stream: str


_JSON_COLUMNS = {"spec", "creator", "runtime", "status_details", "runtime_state"}


def _encode(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS and value is not None:
        return json.dumps(value, separators=(",", ":"))
    return value


class Store:
    """All reads and writes of the local server's database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Created 0600 before SQLite opens it: SQLite gives its WAL and SHM files the mode of
        # the database (not the umask's), so they are private too.
        os.close(open_private(path, os.O_RDWR))
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA foreign_keys=OFF")
        self._depth = 0
        self._log_counts: dict[str, int] = {}
        """Log lines stored per workload, where known (this connection is the only writer;
        forgotten when a transaction rolls back)."""
        self.on_commit: Callable[[], None] | None = None
        """Called after every commit (the server wakes requests waiting for a change)."""
        self._db.executescript(_SCHEMA)
        with self.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    @property
    def version(self) -> int | None:
        """A number that changes whenever this store changes a row (SQLite's count of rows
        changed on this connection, which is the only writer), so that something rendered
        from the store can be reused until it does; ``None`` inside a transaction, whose
        changes may yet be rolled back."""
        return None if self._depth else self._db.total_changes

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self._db.close()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one.

        ``durable=False`` commits without waiting for the disk (``synchronous=NORMAL`` for this
        commit: in WAL mode a crash of the server loses nothing of it, a crash of the machine
        may), for what a crash of the machine loses anyway: log lines of workloads that die
        with it. An fsync under a workload's flood of output can take tens of milliseconds.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self._db
            finally:
                self._depth -= 1
            return
        if not durable:
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            # SQLite has already rolled back after some errors (a full disk, SQLITE_FULL); a
            # COMMIT that failed (busy, full) leaves the transaction open: end it either way,
            # or every later BEGIN fails until a restart.
            with contextlib.suppress(sqlite3.Error):
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            self._log_counts.clear()
            raise
        finally:
            self._depth = 0
            if not durable:
                self._db.execute("PRAGMA synchronous=FULL")
        if self.on_commit is not None:
            self.on_commit()

    # -- generic helpers -------------------------------------------------------------------

    def _insert(self, table: str, values: dict[str, Any]) -> None:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [_encode(k, v) for k, v in values.items()],
            )

    def _update(self, table: str, row_id: str, values: dict[str, Any]) -> bool:
        if not values:
            return True
        assignments = ", ".join(f"{column} = ?" for column in values)
        with self.transaction() as db:
            cursor = db.execute(
                f"UPDATE {table} SET {assignments} WHERE id = ?",
                [*(_encode(k, v) for k, v in values.items()), row_id],
            )
        return cursor.rowcount > 0

    def _page(
        self,
        table: str,
        where: list[str],
        params: list[Any],
        offset: int,
        limit: int,
        order: str = "created_at DESC, id DESC",
    ) -> tuple[list[sqlite3.Row], int]:
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self._db.execute(f"SELECT COUNT(*) FROM {table} {clause}", params).fetchone()[0]
        rows = self._db.execute(
            f"SELECT * FROM {table} {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return rows, int(total)

    @staticmethod
    def _filters(search: str | None, statuses: Sequence[str] | None) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if search:
            where.append("instr(lower(name), lower(?)) > 0")
            params.append(search)
        if statuses:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        return where, params

    # -- artifacts -------------------------------------------------------------------------

    def insert_artifact(
        self,
        *,
        name: str,
        description: str,
        type: str,
        spec: dict[str, Any],
        creator: dict[str, Any],
    ) -> ArtifactRow:
        """Store a new draft artifact."""
        now = _now()
        row = ArtifactRow(
            id=new_id(),
            name=name,
            description=description,
            type=type,
            status="draft",
            version=None,
            collection_id=None,
            spec=spec,
            creator=creator,
            created_at=now,
            updated_at=now,
        )
        self._insert("artifacts", row.__dict__)
        return row

    def get_artifact(self, artifact_id: str) -> ArtifactRow | None:
        """One artifact, or ``None``."""
        row = self._db.execute("SELECT * FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
        return ArtifactRow.from_sql(row) if row else None

    def artifact_ref(self, artifact_id: str) -> dict[str, Any] | None:
        """The artifact summary embedded in workloads (without reading its spec)."""
        row = self._db.execute(
            "SELECT id, name, status, version FROM artifacts WHERE id = ?", (artifact_id,)
        ).fetchone()
        return dict(row) if row else None

    def list_artifacts(
        self, *, offset: int, limit: int, search: str | None, statuses: Sequence[str] | None
    ) -> tuple[list[ArtifactRow], int]:
        """A page of artifacts, newest first, and the total count."""
        where, params = self._filters(search, statuses)
        rows, total = self._page("artifacts", where, params, offset, limit)
        return [ArtifactRow.from_sql(r) for r in rows], total

    def update_artifact(self, artifact_id: str, **values: Any) -> None:
        """Change some columns of an artifact (``updated_at`` is set)."""
        self._update("artifacts", artifact_id, {**values, "updated_at": _now()})

    def register_artifact(self, artifact_id: str) -> None:
        """Freeze an artifact: put it in the collection of its name, with the next version."""
        with self.transaction() as db:
            artifact = self.get_artifact(artifact_id)
            assert artifact is not None
            found = db.execute(
                "SELECT collection_id, MAX(version) FROM artifacts "
                "WHERE name = ? AND status = 'registered' GROUP BY collection_id",
                (artifact.name,),
            ).fetchone()
            collection_id, version = (found[0], int(found[1]) + 1) if found else (new_id(), 1)
            self.update_artifact(
                artifact_id, status="registered", version=version, collection_id=collection_id
            )

    def delete_artifact(self, artifact_id: str) -> None:
        """Remove an artifact."""
        with self.transaction() as db:
            db.execute("DELETE FROM artifacts WHERE id = ?", (artifact_id,))

    def workloads_using(self, artifact_id: str) -> list[WorkloadRow]:
        """The workloads that run an artifact."""
        rows = self._db.execute(
            "SELECT * FROM workloads WHERE artifact_id = ? ORDER BY created_at", (artifact_id,)
        ).fetchall()
        return [WorkloadRow.from_sql(r) for r in rows]

    # -- workloads -------------------------------------------------------------------------

    def insert_workload(
        self,
        *,
        name: str,
        artifact_id: str,
        runtime: dict[str, Any] | None,
        creator: dict[str, Any],
    ) -> WorkloadRow:
        """Store a new workload that should run (status ``submitted``)."""
        now = _now()
        row = WorkloadRow(
            id=new_id(),
            name=name,
            artifact_id=artifact_id,
            runtime=runtime,
            desired="running",
            generation=1,
            status="submitted",
            status_details={"conditions": [], "logTail": []},
            running_since=None,
            restart_count=0,
            started_at=now,
            runtime_state=None,
            creator=creator,
            created_at=now,
            updated_at=now,
        )
        self._insert("workloads", row.__dict__)
        return row

    def get_workload(self, workload_id: str) -> WorkloadRow | None:
        """One workload, or ``None``."""
        row = self._db.execute("SELECT * FROM workloads WHERE id = ?", (workload_id,)).fetchone()
        return WorkloadRow.from_sql(row) if row else None

    def list_workloads(
        self, *, offset: int, limit: int, search: str | None, statuses: Sequence[str] | None
    ) -> tuple[list[WorkloadRow], int]:
        """A page of workloads, newest first, and the total count."""
        where, params = self._filters(search, statuses)
        rows, total = self._page("workloads", where, params, offset, limit)
        return [WorkloadRow.from_sql(r) for r in rows], total

    def all_workloads(self) -> list[WorkloadRow]:
        """Every workload (for the supervisor at start-up)."""
        rows = self._db.execute("SELECT * FROM workloads ORDER BY created_at").fetchall()
        return [WorkloadRow.from_sql(r) for r in rows]

    def update_workload(self, workload_id: str, *, touch: bool = True, **values: Any) -> bool:
        """Change some columns of a workload; ``touch`` also sets ``updated_at``. ``False``
        if there is no such workload (any more)."""
        if touch:
            values["updated_at"] = _now()
        return self._update("workloads", workload_id, values)

    def delete_workload(self, workload_id: str) -> None:
        """Remove a workload and its logs (its events stay: they are the audit trail)."""
        with self.transaction() as db:
            db.execute("DELETE FROM workloads WHERE id = ?", (workload_id,))
            db.execute("DELETE FROM logs WHERE workload_id = ?", (workload_id,))
            self._log_counts.pop(workload_id, None)

    # -- deployments -----------------------------------------------------------------------

    def insert_deployment(
        self,
        *,
        name: str,
        description: str,
        importance: str,
        workload_id: str,
        artifact_id: str,
        creator: dict[str, Any],
    ) -> DeploymentRow:
        """Store a new deployment."""
        now = _now()
        row = DeploymentRow(
            id=new_id(),
            name=name,
            description=description,
            importance=importance,
            workload_id=workload_id,
            artifact_id=artifact_id,
            creator=creator,
            created_at=now,
            updated_at=now,
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
        self, *, offset: int, limit: int, search: str | None, workload_id: str | None
    ) -> tuple[list[DeploymentRow], int]:
        """A page of deployments, newest first, and the total count."""
        where, params = self._filters(search, None)
        if workload_id:
            where.append("workload_id = ?")
            params.append(workload_id)
        rows, total = self._page("deployments", where, params, offset, limit)
        return [DeploymentRow.from_sql(r) for r in rows], total

    def update_deployment(self, deployment_id: str, **values: Any) -> None:
        """Change some columns of a deployment (``updated_at`` is set)."""
        self._update("deployments", deployment_id, {**values, "updated_at": _now()})

    def delete_deployment(self, deployment_id: str) -> None:
        """Remove a deployment."""
        with self.transaction() as db:
            db.execute("DELETE FROM deployments WHERE id = ?", (deployment_id,))

    # -- events ----------------------------------------------------------------------------

    def add_event(
        self,
        event_type: str,
        *,
        actor_id: str,
        entity_type: str,
        entity_id: str,
        workload_id: str | None = None,
        artifact_id: str | None = None,
        deployment_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit trail, tagged with every entity it concerns."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO events (id, timestamp, event_type, actor_id, entity_type, entity_id,"
                " workload_id, artifact_id, deployment_id, details)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new_id(),
                    _now(),
                    event_type,
                    actor_id,
                    entity_type,
                    entity_id,
                    workload_id,
                    artifact_id,
                    deployment_id,
                    json.dumps(details or {}, separators=(",", ":")),
                ),
            )

    def list_events(
        self, *, where: str, params: Sequence[Any], offset: int, limit: int
    ) -> tuple[list[EventRow], int]:
        """A page of events matching ``where``, newest first, and the total count."""
        total = self._db.execute(f"SELECT COUNT(*) FROM events WHERE {where}", params).fetchone()
        rows = self._db.execute(
            "SELECT id, timestamp, event_type, actor_id, entity_type, entity_id, details"
            f" FROM events WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        events = [EventRow(**{**dict(r), "details": json.loads(r["details"])}) for r in rows]
        return events, int(total[0])

    # -- logs ------------------------------------------------------------------------------

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
                    (_encode("runtime_state", runtime_state), workload_id),
                )

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
