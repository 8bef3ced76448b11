"""Helpers of the live-sync tests: an app whose answer is a line of its own file, and the
workload that runs it from a directory of the test's."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workloadlab.sync import LiveSync, Outcome

APP = """\
import http.server, json, os

ANSWER = {answer!r}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"answer": ANSWER}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def write_app(directory: Path, answer: str) -> Path:
    """``app.py`` in ``directory``, answering ``{"answer": answer}`` to every GET."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "app.py"
    path.write_text(APP.format(answer=answer))
    return path


def app_spec(app: Path, port: int, **container: Any) -> dict[str, Any]:
    """An artifact that runs ``app`` with this interpreter on ``port``."""
    primary: dict[str, Any] = {
        "name": "primary",
        "imageUri": "python:3.12-slim",
        "primary": True,
        "port": port,
        "entrypoint": [sys.executable, str(app)],
        "readinessProbe": {"path": "/", "periodSeconds": 1},
        **container,
    }
    return {"name": "synced-app", "spec": {"containerGroups": [{"containers": [primary]}]}}


async def until_recorded(sync: LiveSync, done: Callable[[LiveSync], bool]) -> None:
    """Wait (up to a minute) until ``done(sync)`` holds, checked at each change of its state."""
    changed = asyncio.Event()
    listener = lambda _: changed.set()  # noqa: E731
    sync.listeners.append(listener)
    try:
        async with asyncio.timeout(60):
            while not done(sync):
                await changed.wait()
                changed.clear()
    finally:
        sync.listeners.remove(listener)


def synced(count: int) -> Callable[[LiveSync], bool]:
    """Whether a sync has made ``count`` restarts and recorded the last."""
    return lambda sync: sync.syncs >= count and sync.state.value == "watching"


def ended(outcome: Outcome) -> Callable[[LiveSync], bool]:
    """Whether a sync's last record has ``outcome``."""
    return lambda sync: sync.last is not None and sync.last.outcome is outcome


def sync_threads() -> list[threading.Thread]:
    """The live syncs' watcher threads still alive."""
    return [t for t in threading.enumerate() if t.name.startswith("workloadlab-sync-")]
