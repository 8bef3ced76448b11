"""The ``credentials`` table: named secrets that environment variables refer to.

A credential's values are one JSON column, ``secret_values``, read by one method only,
:meth:`CredentialTable.credential_values`, for the resolution at a workload's start; every other
read (:class:`CredentialRow`) leaves them out. The database file is ``0600`` in a ``0700`` data
dir, like the API token beside it: the values are as private as the token, and no more (they are
not encrypted: a key would have to live in the same directory).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workloadlab.models import new_id
from workloadlab.server.store.database import Database
from workloadlab.server.store.rows import now

COLUMNS = "id, name, credential_type, description, keys, creator, created_at"
"""Every column but the values."""


@dataclass
class CredentialRow:
    """A credential as stored, without its values: ``keys`` names the keys that are set."""

    id: str
    name: str
    credential_type: str
    description: str
    keys: list[str]
    creator: dict[str, Any]
    created_at: str

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> CredentialRow:
        """Build from a ``SELECT`` of :data:`COLUMNS`."""
        values = dict(row)
        values["keys"] = json.loads(values["keys"])
        values["creator"] = json.loads(values["creator"])
        return cls(**values)


class CredentialTable(Database):
    """Reads and writes of credentials."""

    def insert_credential(
        self,
        *,
        name: str,
        credential_type: str,
        description: str,
        values: dict[str, str],
        creator: dict[str, Any],
    ) -> CredentialRow:
        """Store a new credential with its values."""
        row = CredentialRow(
            id=new_id(),
            name=name,
            credential_type=credential_type,
            description=description,
            keys=sorted(values),
            creator=creator,
            created_at=now(),
        )
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO credentials ({COLUMNS}, secret_values)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.id,
                    row.name,
                    row.credential_type,
                    row.description,
                    json.dumps(row.keys),
                    json.dumps(row.creator, separators=(",", ":")),
                    row.created_at,
                    json.dumps(values, separators=(",", ":")),
                ),
            )
        return row

    def get_credential(self, credential_id: str) -> CredentialRow | None:
        """One credential (without values), or ``None``."""
        row = self._db.execute(
            f"SELECT {COLUMNS} FROM credentials WHERE id = ?", (credential_id,)
        ).fetchone()
        return CredentialRow.from_sql(row) if row else None

    def credential_named(self, name: str) -> CredentialRow | None:
        """The credential called ``name``, or ``None``."""
        row = self._db.execute(f"SELECT {COLUMNS} FROM credentials WHERE name = ?", (name,))
        found = row.fetchone()
        return CredentialRow.from_sql(found) if found else None

    def credential_values(self, credential_id: str) -> dict[str, str] | None:
        """A credential's values by key, or ``None`` if there is no such credential: for the
        resolution of references at a start, and nothing else."""
        row = self._db.execute(
            "SELECT secret_values FROM credentials WHERE id = ?", (credential_id,)
        ).fetchone()
        if row is None:
            return None
        values: dict[str, str] = json.loads(row[0])
        return values

    def list_credentials(
        self, *, offset: int, limit: int, types: Sequence[str] | None
    ) -> tuple[list[CredentialRow], int]:
        """A page of credentials (without values), newest first, and the total count."""
        clause, params = "", list(types or ())
        if types:
            clause = f"WHERE credential_type IN ({', '.join('?' for _ in types)})"
        total = self._db.execute(f"SELECT COUNT(*) FROM credentials {clause}", params).fetchone()
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM credentials {clause}"
            " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [CredentialRow.from_sql(r) for r in rows], int(total[0])

    def artifacts_mentioning(self, text: str) -> list[str]:
        """The ids of the artifacts whose spec contains ``text`` (a credential's id), oldest
        first."""
        rows = self._db.execute(
            "SELECT id FROM artifacts WHERE instr(spec, ?) > 0 ORDER BY created_at", (text,)
        ).fetchall()
        return [str(row[0]) for row in rows]

    def delete_credential(self, credential_id: str) -> None:
        """Remove a credential and its values."""
        with self.transaction() as db:
            db.execute("DELETE FROM credentials WHERE id = ?", (credential_id,))
