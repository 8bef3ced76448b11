"""A live progress line for magics that wait: what is happening, and for how long.

The waiting itself runs on the portal; the kernel's thread only redraws this line (a display
with an id, updated in place) a few times a second, from the state the coroutine reports
through :meth:`Progress.report`. When the wait ends the live line is blanked and the outcome is
printed as a line of its own (``✓ hello running after 0.42 s``). The live display starts out
and ends up empty, so a saved notebook holds only the outcome, and tools that replay outputs
without applying display updates (nbval) see the same thing as the saved notebook.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from IPython.display import DisplayHandle, display


class Progress:
    """The line's text, set from any thread, drawn from the kernel's."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.started = time.monotonic()
        self._state = "…"
        self._lock = threading.Lock()
        self._handle: DisplayHandle | None = None
        self._shown = ""

    def report(self, state: str) -> None:
        """What is going on now (``stopping``, ``initializing``...)."""
        with self._lock:
            self._state = state

    @property
    def elapsed(self) -> float:
        """Seconds since the wait began."""
        return time.monotonic() - self.started

    def _line(self) -> str:
        with self._lock:
            state = self._state
        return f"⏳ {self.action}: {state} ({self.elapsed:.1f} s)"

    def begin(self) -> None:
        """Show the (empty) live line, so that a wait always leaves the same outputs."""
        if self._handle is None:
            empty = {"text/plain": ""}
            self._handle = display(empty, raw=True, display_id=True)  # type: ignore[no-untyped-call]

    def _draw(self, text: str) -> None:
        if text == self._shown:
            return
        self.begin()
        assert self._handle is not None
        self._shown = text
        self._handle.update({"text/plain": text}, raw=True)  # type: ignore[no-untyped-call]

    def _end(self, text: str) -> None:
        self._draw("")
        print(text, flush=True)

    def tick(self) -> None:
        """Redraw the line (called by the kernel's thread while it waits)."""
        self._draw(self._line())

    def finish(self, text: str) -> None:
        """End with the outcome (``✓ hello running after 0.42 s``)."""
        self._end(text)

    def fail(self, text: str) -> None:
        """End with what went wrong (or why the wait ended)."""
        self._end(text)


def seconds(value: float) -> str:
    """``0.42 s``, ``12.3 s``."""
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def noop(*_: Any) -> None:
    """A reporter that ignores what it is told."""
