"""Live sync, used the way real apps and editors use files: an app writing its own log and
database beside its code, editors that save through a temporary file, a truncate-then-write."""

from __future__ import annotations

import asyncio
from pathlib import Path

from workloadlab.client import AsyncClient
from workloadlab.sync import Syncs

from harness import free_port, wait_until
from synctools import APP, app_spec, synced, until_recorded

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
