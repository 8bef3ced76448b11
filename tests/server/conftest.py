"""Fixtures of the runtime tests: settings in a temporary data dir, and a process runtime that
leaves nothing of that data dir running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from workloadlab.server.runtimes.process import ProcessRuntime
from workloadlab.server.settings import ServerSettings


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    return ServerSettings(data_dir=tmp_path / "data")


@pytest.fixture
async def runtime(settings: ServerSettings) -> AsyncIterator[ProcessRuntime]:
    runtime = ProcessRuntime(settings)
    yield runtime
    await runtime.sweep([])  # leave nothing of this data dir running
    await runtime.close()
