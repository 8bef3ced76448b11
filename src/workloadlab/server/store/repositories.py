"""What the current API generation adds to the store: artifact repositories, each artifact's
spec as that generation wrote it, each workload's description, importance and group runtime, and
the lists that generation asks for (``ids``, ``orderBy``...).

An artifact's ``artifacts.spec`` stays the runnable spec every part of the server reads (the
container rules of v2.41, which the current generation shares); ``artifact_wire_specs`` keeps
the whole spec as sent (``securityContext``, ``imageBuildConfig``, group names...), which is what
the current generation answers. A current-generation artifact's ``collection_id`` is its
repository (set from its creation on); its versions are numbered within it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workloadlab.models import ArtifactStatus, new_id
from workloadlab.server.store.database import Database
from workloadlab.server.store.ordering import order_sql
from workloadlab.server.store.rows import ArtifactRow, WorkloadRow, now


@dataclass
class RepositoryRow:
    """An artifact repository: the versions of one artifact, with counts read from them."""

    id: str
    name: str
    type: str
    creator: dict[str, Any]
    created_at: str
    updated_at: str
    num_artifacts: int
    last_version_number: int | None

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> RepositoryRow:
        """Build from a :data:`REPOSITORY_SELECT` row."""
        values = dict(row)
        values["creator"] = json.loads(values["creator"])
        return cls(**values)


@dataclass
class WorkloadSettingsRow:
    """A current-generation workload's own fields (the v2.41 row has none of them)."""

    description: str
    importance: str
    runtime: dict[str, Any] | None


@dataclass(frozen=True)
class ListQuery:
    """What a list of the current generation asks for: a page, an order, and filters
    (``None``: not filtered)."""

    offset: int
    limit: int
    order: str | None
    """As the API spells it (``-createdAt``: :mod:`.ordering`); ``None``: newest first."""
    ids: Sequence[str] | None = None
    search: str | None = None
    statuses: Sequence[str] | None = None
    types: Sequence[str] | None = None
    artifact_ids: Sequence[str] | None = None
    repository_id: str | None = None


REPOSITORY_SELECT = (
    "SELECT r.*, (SELECT COUNT(*) FROM artifacts a WHERE a.collection_id = r.id) AS num_artifacts,"
    " (SELECT MAX(version) FROM artifacts a WHERE a.collection_id = r.id) AS last_version_number"
    " FROM artifact_repositories r"
)


class RepositoryTable(Database):
    """Reads and writes of repositories, wire specs and workload settings."""

    # -- repositories ------------------------------------------------------------------------

    def ensure_repository(
        self, repository_id: str | None, *, name: str, type: str, creator: dict[str, Any]
    ) -> str:
        """The id of the repository ``repository_id``, created (with that id, or a new one)
        when there is none."""
        if repository_id is not None and self.get_repository(repository_id) is not None:
            return repository_id
        created = now()
        values = {
            "id": repository_id or new_id(),
            "name": name,
            "type": type,
            "creator": creator,
            "created_at": created,
            "updated_at": created,
        }
        self._insert("artifact_repositories", values)
        return str(values["id"])

    def get_repository(self, repository_id: str) -> RepositoryRow | None:
        """One repository, or ``None``."""
        row = self._db.execute(f"{REPOSITORY_SELECT} WHERE r.id = ?", (repository_id,)).fetchone()
        return RepositoryRow.from_sql(row) if row else None

    def list_repositories(self, query: ListQuery) -> tuple[list[RepositoryRow], int]:
        """A page of repositories and the total count."""
        where, params = _matching("r", query, description=None)
        _any_of(where, params, "r.type", query.types)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self._db.execute(
            f"SELECT COUNT(*) FROM artifact_repositories r {clause}", params
        ).fetchone()[0]
        rows = self._db.execute(
            f"{REPOSITORY_SELECT} {clause} ORDER BY {order_sql(query.order)} LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        ).fetchall()
        return [RepositoryRow.from_sql(r) for r in rows], int(total)

    def delete_repository(self, repository_id: str) -> None:
        """Remove a repository (its artifacts are removed by the caller first)."""
        with self.transaction() as db:
            db.execute("DELETE FROM artifact_repositories WHERE id = ?", (repository_id,))

    def repository_artifacts(self, repository_id: str) -> list[ArtifactRow]:
        """The artifacts of a repository, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM artifacts WHERE collection_id = ? ORDER BY created_at, id",
            (repository_id,),
        ).fetchall()
        return [ArtifactRow.from_sql(r) for r in rows]

    def lock_in_repository(self, artifact_id: str, repository_id: str) -> int:
        """Lock an artifact as the next version of its repository; that version."""
        with self.transaction() as db:
            last = db.execute(
                "SELECT MAX(version) FROM artifacts WHERE collection_id = ?", (repository_id,)
            ).fetchone()[0]
            version = int(last or 0) + 1
            self._update(
                "artifacts",
                artifact_id,
                {"status": ArtifactStatus.REGISTERED, "version": version, "updated_at": now()},
            )
        return version

    # -- wire specs --------------------------------------------------------------------------

    def set_wire_spec(self, artifact_id: str, spec: dict[str, Any]) -> None:
        """Keep an artifact's spec as the current generation wrote it."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO artifact_wire_specs (artifact_id, spec) VALUES (?, ?)",
                (artifact_id, json.dumps(spec, separators=(",", ":"))),
            )

    def wire_spec(self, artifact_id: str) -> dict[str, Any] | None:
        """An artifact's spec as the current generation wrote it, or ``None``."""
        row = self._db.execute(
            "SELECT spec FROM artifact_wire_specs WHERE artifact_id = ?", (artifact_id,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def forget_wire_spec(self, artifact_id: str) -> None:
        """Drop a deleted artifact's wire spec."""
        with self.transaction() as db:
            db.execute("DELETE FROM artifact_wire_specs WHERE artifact_id = ?", (artifact_id,))

    # -- workload settings -------------------------------------------------------------------

    def set_workload_settings(
        self, workload_id: str, *, description: str, importance: str, runtime: Any
    ) -> None:
        """Store (or replace) a workload's current-generation fields."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO workload_settings"
                " (workload_id, description, importance, runtime) VALUES (?, ?, ?, ?)",
                (
                    workload_id,
                    description,
                    importance,
                    None if runtime is None else json.dumps(runtime, separators=(",", ":")),
                ),
            )

    def workload_settings(self, workload_id: str) -> WorkloadSettingsRow:
        """A workload's current-generation fields (defaults for a workload without any)."""
        row = self._db.execute(
            "SELECT description, importance, runtime FROM workload_settings WHERE workload_id = ?",
            (workload_id,),
        ).fetchone()
        if row is None:
            return WorkloadSettingsRow(description="", importance="low", runtime=None)
        runtime = json.loads(row["runtime"]) if row["runtime"] is not None else None
        return WorkloadSettingsRow(row["description"], row["importance"], runtime)

    # -- lists -------------------------------------------------------------------------------

    def query_workloads(self, query: ListQuery) -> tuple[list[WorkloadRow], int]:
        """A page of workloads (with their settings' description and importance to filter
        and sort by) and the total count."""
        where, params = _matching("w", query, description="COALESCE(s.description, '')")
        _any_of(where, params, "w.status", query.statuses)
        _any_of(where, params, "w.artifact_id", query.artifact_ids)
        select = "SELECT w.* FROM workloads w LEFT JOIN workload_settings s ON s.workload_id = w.id"
        rows, total = self._joined_page(select, where, params, query)
        return [WorkloadRow.from_sql(r) for r in rows], total

    def query_artifacts(self, query: ListQuery) -> tuple[list[ArtifactRow], int]:
        """A page of artifacts and the total count."""
        where, params = _matching("w", query, description="w.description")
        _any_of(where, params, "w.status", query.statuses)
        _any_of(where, params, "w.type", query.types)
        repository = [query.repository_id] if query.repository_id else None
        _any_of(where, params, "w.collection_id", repository)
        rows, total = self._joined_page("SELECT w.* FROM artifacts w", where, params, query)
        return [ArtifactRow.from_sql(r) for r in rows], total

    def _joined_page(
        self, select: str, where: list[str], params: list[Any], query: ListQuery
    ) -> tuple[list[sqlite3.Row], int]:
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        count = select.replace("SELECT w.*", "SELECT COUNT(*)", 1)
        total = self._db.execute(f"{count} {clause}", params).fetchone()[0]
        rows = self._db.execute(
            f"{select} {clause} ORDER BY {order_sql(query.order)} LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        ).fetchall()
        return rows, int(total)


def _any_of(where: list[str], params: list[Any], column: str, values: Sequence[str] | None) -> None:
    if values:
        where.append(f"{column} IN ({', '.join('?' for _ in values)})")
        params.extend(values)


def _matching(
    table: str, query: ListQuery, *, description: str | None
) -> tuple[list[str], list[Any]]:
    """The ``ids`` and ``search`` conditions (name, ``description``, partial id; any case)."""
    where: list[str] = []
    params: list[Any] = []
    _any_of(where, params, f"{table}.id", query.ids)
    search = query.search
    if search:
        fields = [f"{table}.name", f"{table}.id"]
        if description is not None:
            fields.append(description)
        where.append(
            "(" + " OR ".join(f"instr(lower({field}), lower(?)) > 0" for field in fields) + ")"
        )
        params.extend([search] * len(fields))
    return where, params
