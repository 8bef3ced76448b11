"""Constants and small helpers of the client's tests (imported by the test modules)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workloadlab.client import Polling

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "datarobot"

CLOUD = "https://app.datarobot.com/api/v2"
CLOUD_TOKEN = "dr-fake-token-0a1b2c3d4e5f60718293a4b5"
"""A recognisable fake DataRobot token: tests look for it where it must never appear."""
FAST_POLLING = Polling(fast=0.01, fast_max=0.1, growth=1.5, stable=0.2)


def fixture(name: str) -> Any:
    """A DataRobot-shaped payload (copied from the shared fixtures into ``fixtures/``)."""
    return json.loads((FIXTURES / name).read_text())


class Sleeps(list[float]):
    """The delays a client slept, recorded instead of slept (fake time)."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)
