"""A log sink for runtime tests: records what a runtime delivers, so tests await conditions on
it instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from workloadlab.server.store import LogLine


class Sink:
    """Records the lines and states a runtime hands over (a ``LogSink``)."""

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self.states: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    async def __call__(self, lines: Sequence[LogLine], state: dict[str, Any]) -> None:
        self.lines.extend(lines)
        self.states.append(state)
        self._changed.set()

    @property
    def messages(self) -> list[str]:
        return [line.message for line in self.lines]

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        async with asyncio.timeout(within):
            while not (result := predicate()):
                self._changed.clear()
                await self._changed.wait()
            return result

    async def wait_message(self, prefix: str) -> str:
        def find() -> str | None:
            return next((m for m in self.messages if m.startswith(prefix)), None)

        found: str = await self.wait_for(find)
        return found
