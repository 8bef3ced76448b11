"""Live sync, used the way real apps and editors use files: an app writing its own log and
database beside its code, editors that save through a temporary file, a truncate-then-write."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from workloadlab.client import AsyncClient
from workloadlab.models.neutral import Workload
from workloadlab.sync import LiveSync, Outcome, Syncs

from harness import free_port, wait_until
from synctools import APP, app_spec, ended, synced, until_recorded, write_app

TIMEOUT = 60.0

WRITER = """\
import logging, os, sqlite3, pathlib
here = pathlib.Path(__file__).parent
logging.basicConfig(filename=here / "app.log", level=logging.INFO)
db = sqlite3.connect(here / "app.sqlite3", check_same_thread=False)
db.execute("create table if not exists hits (n integer)")
db.execute("insert into hits values (1)")
db.commit()
(here / "app.pid").write_text(str(os.getpid()))
(here / "logs").mkdir(exist_ok=True)
(here / "logs" / "access.log.1").write_text("started")
logging.info("started")
"""
"""Code an app runs at start: a log file, a SQLite database, a pid file, a rotated log."""


def _write_writer_app(directory: Path, answer: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    app = directory / "app.py"
    handler = APP.format(answer=answer).replace(
        "    def log_message(self, *args):\n        pass\n",
        "    def log_message(self, *args):\n        logging.info('hit')\n",
    )
    app.write_text(WRITER + handler)
    return app


async def test_files_the_app_writes_beside_its_code_do_not_restart_it(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    app = _write_writer_app(tmp_path / "app", "first")
    workload = await client.workloads.create(
        name="sync-writer", artifact=app_spec(app, free_port())
    )
    await client.workloads.wait_for_status(workload.id, "running", timeout=TIMEOUT)
    sync = await syncs.begin(client, workload.id)
    _write_writer_app(app.parent, "second")
    await until_recorded(sync, synced(1))
    assert (app.parent / "app.log").read_text().count("hit") >= 1
    hits_before = (app.parent / "app.log").read_text().count("hit")
    # the readiness probe (every second) makes the app log a line: a few of them pass
    log = app.parent / "app.log"
    await asyncio.to_thread(wait_until, lambda: log.read_text().count("hit") >= hits_before + 3, 30)
    assert sync.syncs == 1, f"the app's own writes restarted it: {sync.last}"
    await client.workloads.delete(workload.id)


async def _synced(
    client: AsyncClient, syncs: Syncs, tmp_path: Path, name: str, answer: str
) -> tuple[Path, Workload, LiveSync]:
    """``app.py`` answering ``answer``, its running workload ``name`` and its live sync."""
    app = write_app(tmp_path / "app", answer)
    workload = await client.workloads.create(name=name, artifact=app_spec(app, free_port()))
    await client.workloads.wait_for_status(workload.id, "running", timeout=TIMEOUT)
    return app, workload, await syncs.begin(client, workload.id)


async def _starts(client: AsyncClient, workload_id: str) -> int:
    """How often the workload was started, by its trail."""
    return sum(
        [e.event_type == "workload.started" async for e in client.workloads.events(workload_id)]
    )


async def _log_mentions(client: AsyncClient, workload_id: str, text: str) -> bool:
    return any([text in line.message async for line in client.workloads.logs(workload_id)])


async def _answer(client: AsyncClient, workload_id: str) -> str:
    response = await client.workloads.invoke(workload_id, "/")
    assert response.status_code == 200, response.text
    answer: str = response.json()["answer"]
    return answer


async def test_an_app_crashing_at_start_is_reported_and_the_fix_restarts(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    """A save that compiles but crashes at start (a NameError): the sync says the restart
    failed (not after its two-minute timeout), and the fix saved next restarts at once."""
    app, workload, sync = await _synced(client, syncs, tmp_path, "sync-crash", "good")
    app.write_text("raise SystemExit(undefined_name)\n")
    await until_recorded(sync, ended(Outcome.FAILED))
    assert sync.last is not None
    assert "errored" in sync.last.message, sync.last.message
    assert await _log_mentions(client, workload.id, "undefined_name")
    began = time.monotonic()
    write_app(app.parent, "fixed")
    await until_recorded(sync, synced(1))
    assert await _answer(client, workload.id) == "fixed"
    assert time.monotonic() - began < 20, "the fix waited for the crashed restart's timeout"
    await client.workloads.delete(workload.id)


async def test_a_watched_directory_deleted_and_made_again_is_watched_again(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    """``git checkout`` or ``rm -rf app && cp -r …``: the directory goes, a new one comes."""
    app, workload, sync = await _synced(client, syncs, tmp_path, "sync-gone", "first")
    shutil.rmtree(app.parent)
    await until_recorded(sync, lambda s: s.last is not None)
    assert sync.running, "the sync goes on"
    assert sync.last is not None
    assert sync.last.outcome is Outcome.MISSING
    assert sync.last.message.startswith(f"{app.parent.resolve()}"), sync.last.message
    assert await _answer(client, workload.id) == "first", "the last good instance serves"
    write_app(app.parent, "second")
    await until_recorded(sync, synced(1))
    assert await _answer(client, workload.id) == "second"
    await client.workloads.delete(workload.id)


async def test_a_watched_directory_renamed_away_and_back(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    app, workload, sync = await _synced(client, syncs, tmp_path, "sync-moved", "first")
    moved = app.parent.rename(tmp_path / "app.old")
    write_app(moved, "edited elsewhere")
    moved.rename(app.parent)
    await until_recorded(sync, synced(1))
    assert await _answer(client, workload.id) == "edited elsewhere"
    write_app(app.parent, "second")
    await until_recorded(sync, synced(2))
    assert await _answer(client, workload.id) == "second"
    await client.workloads.delete(workload.id)


async def test_an_entrypoint_script_truncated_before_it_is_written_restarts_nothing(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    """An editor (or ``cat > app.py``) empties the file, then writes it a moment later: the
    empty script would start and exit, so the good instance must keep serving meanwhile."""
    app, workload, sync = await _synced(client, syncs, tmp_path, "sync-half", "first")
    starts = await _starts(client, workload.id)
    with app.open("w") as handle:  # truncated, nothing written yet
        handle.flush()
        await until_recorded(sync, lambda s: s.last is not None)
        assert sync.last is not None
        assert sync.last.outcome is Outcome.MISSING, sync.last
        assert sync.last.message == f"{app.resolve()}: empty (not restarted)"
        assert await _answer(client, workload.id) == "first"
        assert await _starts(client, workload.id) == starts
    write_app(app.parent, "second")
    await until_recorded(sync, synced(1))
    assert await _answer(client, workload.id) == "second"
    await client.workloads.delete(workload.id)


def _save_by_rename(app: Path, answer: str) -> None:
    """Save as most editors do: a temporary file beside it, renamed over it."""
    temporary = app.with_name(f".{app.name}.tmp")
    temporary.write_text(APP.format(answer=answer))
    temporary.rename(app)


async def test_a_watched_file_saved_by_rename_again_and_again(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    """``%workload sync app.py`` (a file, not its directory), saved by an editor that writes
    a new file and renames it over the old one: each save is a new inode to watch."""
    app, workload, _ = await _synced(client, syncs, tmp_path, "sync-file", "first")
    sync = await syncs.begin(client, workload.id, app)
    for n, answer in enumerate(("second", "third", "fourth"), 1):
        _save_by_rename(app, answer)
        await until_recorded(sync, synced(n))
        assert await _answer(client, workload.id) == answer
    await client.workloads.delete(workload.id)


async def test_a_save_right_after_sync_starts_in_a_big_tree_is_seen(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    """A project with a big ``node_modules`` (ignored, yet walked to be watched): the sync
    watches everything before ``begin`` returns, so the save that follows is not lost."""
    app = write_app(tmp_path / "app", "first")
    for package in range(300):
        for part in range(40):
            (app.parent / "node_modules" / f"p{package}" / f"d{part}").mkdir(parents=True)
    (app.parent / "lib").mkdir()
    workload = await client.workloads.create(name="sync-big", artifact=app_spec(app, free_port()))
    await client.workloads.wait_for_status(workload.id, "running", timeout=TIMEOUT)
    sync = await syncs.begin(client, workload.id)
    (app.parent / "lib" / "helper.py").write_text("HELPER = 1\n")
    await until_recorded(sync, synced(1))
    assert sync.last is not None
    assert sync.last.files == ((app.parent / "lib" / "helper.py").resolve(),)
    await client.workloads.delete(workload.id)
