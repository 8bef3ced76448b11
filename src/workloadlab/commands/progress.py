"""A live progress line for commands that wait: what is happening, and for how long.

The waiting itself runs on the session (the notebook's portal thread, or the shell's loop); the
front-end redraws the line a few times a second (:meth:`Progress.tick`) from the state the
coroutine reports through :meth:`Progress.report`, and ends it with the outcome as a line of its
own (``✓ hello running after 0.42 s``). This class draws nothing live: it only prints the
outcome. The notebook's :class:`~workloadlab.notebook.progress.LiveProgress` draws the line in
an output cell, the shell's on a terminal.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class Progress:
    """The line's text, set from any thread; the outcome printed when the wait ends."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.started = time.monotonic()
        self._state = "…"
        self._lock = threading.Lock()

    def report(self, state: str) -> None:
        """What is going on now (``stopping``, ``initializing``...)."""
        with self._lock:
            self._state = state

    @property
    def elapsed(self) -> float:
        """Seconds since the wait began."""
        return time.monotonic() - self.started

    def line(self) -> str:
        """The live line as it reads now."""
        with self._lock:
            state = self._state
        return f"↻ {self.action}: {state} ({self.elapsed:.1f} s)"

    def begin(self) -> None:
        """The wait begins."""

    def tick(self) -> None:
        """Redraw the line (called now and then while waiting)."""

    def finish(self, text: str) -> None:
        """End with the outcome (``✓ hello running after 0.42 s``)."""
        self.end(text)

    def fail(self, text: str) -> None:
        """End with what went wrong (or why the wait ended)."""
        self.end(text)

    def end(self, text: str) -> None:
        """Print the outcome."""
        print(text, flush=True)


def seconds(value: float) -> str:
    """``0.42 s``, ``12.3 s``."""
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def noop(*_: Any) -> None:
    """A reporter that ignores what it is told."""
