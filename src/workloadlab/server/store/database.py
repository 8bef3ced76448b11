"""The store's one SQLite connection: opening it, write transactions, and generic row helpers.

The database runs in WAL mode with ``synchronous=FULL`` and every write in ``BEGIN
IMMEDIATE``. One connection, used from the server's event loop thread: statements take tens of
microseconds, far less than a thread hop. The tables (``artifacts.py``, ``workloads.py``...) are
mixins of :class:`Database`, combined into the one :class:`~workloadlab.server.store.Store`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workloadlab.connection import open_private
from workloadlab.server.store.rows import encode
from workloadlab.server.store.schema import SCHEMA, SCHEMA_VERSION


class Database:
    """The connection, its transactions, and the helpers every table uses."""

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
        self.on_commit: Callable[[], None] | None = None
        """Called after every commit (the server wakes requests waiting for a change)."""
        self._db.executescript(SCHEMA)
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
            self._rolled_back()
            raise
        finally:
            self._depth = 0
            if not durable:
                self._db.execute("PRAGMA synchronous=FULL")
        if self.on_commit is not None:
            self.on_commit()

    def _rolled_back(self) -> None:
        """Forget what a table remembers of rows a rolled-back transaction wrote."""

    # -- generic helpers -------------------------------------------------------------------

    def _insert(self, table: str, values: dict[str, Any]) -> None:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [encode(k, v) for k, v in values.items()],
            )

    def _update(self, table: str, row_id: str, values: dict[str, Any]) -> bool:
        if not values:
            return True
        assignments = ", ".join(f"{column} = ?" for column in values)
        with self.transaction() as db:
            cursor = db.execute(
                f"UPDATE {table} SET {assignments} WHERE id = ?",
                [*(encode(k, v) for k, v in values.items()), row_id],
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
    def _filters(
        search: str | None, statuses: Sequence[str] | None, ids: Sequence[str] | None = None
    ) -> tuple[list[str], list[Any]]:
        """The ``WHERE`` terms of a list: a name that contains ``search`` (any case), one of
        ``statuses``, one of ``ids`` (given as one JSON parameter: no limit on how many)."""
        where: list[str] = []
        params: list[Any] = []
        if search:
            where.append("instr(lower(name), lower(?)) > 0")
            params.append(search)
        if statuses:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        if ids is not None:
            where.append("id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(ids)))
        return where, params
