"""LogWriter with a real Store: log lines stored in batches, in order, never after their
instance's state was cleared, exactly ``cap`` per workload."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workloadlab.models import RolloutStatus
from workloadlab.server.logwriter import LogWriter, StateHolder
from workloadlab.server.store import LogLine, Store


def lines(*messages: str) -> list[LogLine]:
    return [LogLine("2026-12-05T00:00:00.000000Z", "info", m, "app", "stdout") for m in messages]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "db.sqlite3")
    yield opened
    opened.close()


def workload(store: Store) -> str:
    row = store.insert_workload(name="w", artifact_id="a", runtime=None, creator={})
    store.update_workload(row.id, runtime_state={"offsets": {"stdout": 0}})
    return row.id


def state(store: Store, workload_id: str) -> dict[str, Any] | None:
    row = store.get_workload(workload_id)
    assert row is not None
    return row.runtime_state


def stored(store: Store, workload_id: str) -> list[str]:
    return list(reversed([x.message for x in store.list_logs(workload_id, offset=0, limit=99)[0]]))


async def test_lines_of_every_workload_within_a_window_go_in_one_commit(store: Store) -> None:
    first, second = workload(store), workload(store)
    commits: list[int] = []
    store.on_commit = lambda: commits.append(1)
    writer = LogWriter(store, cap=100, window=0.05)
    writer.add(first, lines("a", "b"), {"offsets": {"stdout": 4}})
    writer.add(second, lines("x"), {"offsets": {"stdout": 2}})
    writer.add(first, lines("c"), {"offsets": {"stdout": 6}})
    assert stored(store, first) == []
    assert commits == []
    await asyncio.sleep(0.1)
    assert commits == [1]
    assert stored(store, first) == ["a", "b", "c"]
    assert stored(store, second) == ["x"]
    assert state(store, first) == {"offsets": {"stdout": 6}}, "the newest"


async def test_flush_of_one_workload_joins_the_callers_transaction(store: Store) -> None:
    first, second = workload(store), workload(store)
    writer = LogWriter(store, cap=100)
    writer.add(first, lines("Traceback", "Error: boom"), {"offsets": {"stdout": 20}})
    writer.add(second, lines("other"), {"offsets": {"stdout": 6}})
    with store.transaction():
        writer.flush(first)  # before the status that the lines explain
        store.update_workload(first, touch=False, runtime_state=None)
    assert stored(store, first) == ["Traceback", "Error: boom"]
    assert stored(store, second) == [], "the others wait for their window"
    writer.add(first, lines("late"), {"offsets": {"stdout": 25}})
    writer.flush()
    assert state(store, first) is None, "a forgotten instance stays forgotten"
    assert stored(store, first)[-1] == "late"
    assert stored(store, second) == ["other"]


async def test_lines_of_a_deleted_workload_are_dropped(store: Store) -> None:
    gone = workload(store)
    writer = LogWriter(store, cap=100)
    writer.add(gone, lines("a"), {})
    writer.discard(gone)
    writer.add(gone, lines("b"), {})
    store.delete_workload(gone)
    writer.flush()
    assert store.list_logs(gone, offset=0, limit=10) == ([], 0)


async def test_the_cap_keeps_exactly_the_newest_lines_of_each_workload(store: Store) -> None:
    first, second = workload(store), workload(store)
    writer = LogWriter(store, cap=5)
    for n in range(12):  # interleaved: the two share one sequence of row numbers
        writer.add(first, lines(f"first {n}"), {})
        writer.add(second, lines(f"second {n}", f"second {n}b"), {})
        writer.flush()
    assert stored(store, first) == [f"first {n}" for n in range(7, 12)]
    assert stored(store, second) == [
        "second 9b",
        "second 10",
        "second 10b",
        "second 11",
        "second 11b",
    ]


async def test_the_cap_stays_exact_after_a_rolled_back_transaction(store: Store) -> None:
    workload_id = workload(store)
    store.add_logs(workload_id, lines("a", "b", "c"), cap=4)

    def rolled_back() -> None:
        with store.transaction():
            store.add_logs(workload_id, lines("gone 1", "gone 2"), cap=4)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    store.add_logs(workload_id, lines("d", "e"), cap=4)
    assert stored(store, workload_id) == ["b", "c", "d", "e"]


async def test_lines_go_with_a_status_write_that_fails(store: Store) -> None:
    workload_id = workload(store)
    writer = LogWriter(store, cap=3)
    writer.add(workload_id, lines("a", "b"), {})

    def status_write() -> None:
        with store.transaction():
            writer.flush(workload_id)
            raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(sqlite3.OperationalError):
        status_write()
    assert stored(store, workload_id) == [], "rolled back with the status, nothing half-stored"
    writer.add(workload_id, lines("c", "d", "e", "f"), {})
    writer.flush()
    assert stored(store, workload_id) == ["d", "e", "f"], "and the writer goes on, capped"


async def test_each_instance_of_a_rolling_change_keeps_its_state_where_its_holder_says(
    store: Store,
) -> None:
    workload_id = workload(store)
    rollout = store.insert_rollout(
        workload_id=workload_id,
        deployment_id="d",
        from_artifact_id="a",
        to_artifact_id="b",
        actor_id="someone",
    )
    store.update_rollout(rollout.id, runtime_state={"offsets": {"stdout": 0}, "slot": 1})
    writer = LogWriter(store, cap=100)
    writer.add(workload_id, lines("old"), {"offsets": {"stdout": 4}})
    writer.add(
        workload_id, lines("new"), {"offsets": {"stdout": 9}, "slot": 1}, StateHolder.ROLLOUT
    )
    writer.add(workload_id, lines("leaving"), {"offsets": {"stdout": 99}}, StateHolder.NONE)
    writer.flush(workload_id)

    assert sorted(stored(store, workload_id)) == ["leaving", "new", "old"]
    assert state(store, workload_id) == {"offsets": {"stdout": 4}}
    kept = store.get_rollout(rollout.id)
    assert kept is not None
    assert kept.runtime_state == {"offsets": {"stdout": 9}, "slot": 1}
    # Once the change is over, its new instance's state is no longer kept there.
    store.finish_rollout(rollout.id, RolloutStatus.COMPLETED, "done")
    writer.add(workload_id, lines("late"), {"offsets": {"stdout": 12}}, StateHolder.ROLLOUT)
    writer.flush()
    finished = store.get_rollout(rollout.id)
    assert finished is not None
    assert finished.runtime_state is None
    assert state(store, workload_id) == {"offsets": {"stdout": 4}}
