"""The ``artifacts`` table: drafts, and registered artifacts in versioned collections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workloadlab.models import ArtifactStatus, new_id
from workloadlab.server.store.database import Database
from workloadlab.server.store.ordering import NEWEST_FIRST, ListOrder, order_sql
from workloadlab.server.store.rows import ArtifactRow, now


class ArtifactTable(Database):
    """Reads and writes of artifacts."""

    def insert_artifact(
        self,
        *,
        name: str,
        description: str,
        type: str,
        spec: dict[str, Any],
        creator: dict[str, Any],
        artifact_id: str | None = None,
    ) -> ArtifactRow:
        """Store a new draft artifact (with a new id unless ``artifact_id`` is given)."""
        created = now()
        row = ArtifactRow(
            id=artifact_id or new_id(),
            name=name,
            description=description,
            type=type,
            status=ArtifactStatus.DRAFT,
            version=None,
            collection_id=None,
            spec=spec,
            creator=creator,
            created_at=created,
            updated_at=created,
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
        return {**dict(row), "status": ArtifactStatus(row["status"])} if row else None

    def list_artifacts(
        self,
        *,
        offset: int,
        limit: int,
        search: str | None,
        statuses: Sequence[str] | None,
        collection_id: str | None = None,
        ids: Sequence[str] | None = None,
        order: ListOrder | None = None,
    ) -> tuple[list[ArtifactRow], int]:
        """A page of artifacts, newest first (a collection's: highest version first) unless
        ``order`` says otherwise, and the total count."""
        where, params = self._filters(search, statuses, ids)
        default = NEWEST_FIRST
        if collection_id is not None:
            where.append("collection_id = ?")
            params.append(collection_id)
            default = "version DESC, id DESC"
        rows, total = self._page(
            "artifacts", where, params, offset, limit, order_sql(order, default=default)
        )
        return [ArtifactRow.from_sql(r) for r in rows], total

    def update_artifact(self, artifact_id: str, **values: Any) -> None:
        """Change some columns of an artifact (``updated_at`` is set)."""
        self._update("artifacts", artifact_id, {**values, "updated_at": now()})

    def register_artifact(self, artifact_id: str) -> None:
        """Freeze an artifact: put it in the collection of its name, with the next version."""
        with self.transaction() as db:
            artifact = self.get_artifact(artifact_id)
            assert artifact is not None
            found = db.execute(
                "SELECT collection_id, MAX(version) FROM artifacts "
                "WHERE name = ? AND status = ? GROUP BY collection_id",
                (artifact.name, ArtifactStatus.REGISTERED),
            ).fetchone()
            collection_id, version = (found[0], int(found[1]) + 1) if found else (new_id(), 1)
            self.update_artifact(
                artifact_id,
                status=ArtifactStatus.REGISTERED,
                version=version,
                collection_id=collection_id,
            )

    def delete_artifact(self, artifact_id: str) -> None:
        """Remove an artifact."""
        with self.transaction() as db:
            db.execute("DELETE FROM artifacts WHERE id = ?", (artifact_id,))
