"""The progress line of a magic that waits, drawn live in the cell's output.

The kernel's thread redraws it (a display with an id, updated in place) a few times a second
while the portal waits. When the wait ends the live line is blanked and the outcome is printed
as a line of its own. The live display starts out and ends up empty, so a saved notebook holds
only the outcome, and tools that replay outputs without applying display updates (nbval) see
the same thing as the saved notebook.
"""

from __future__ import annotations

from IPython.display import DisplayHandle, display

from workloadlab.commands.progress import Progress


class LiveProgress(Progress):
    """A :class:`~workloadlab.commands.progress.Progress` drawn in the cell's output."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self._handle: DisplayHandle | None = None
        self._shown = ""

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

    def tick(self) -> None:
        """Redraw the line (called by the kernel's thread while it waits)."""
        self._draw(self.line())

    def end(self, text: str) -> None:
        """Blank the live line, then print the outcome."""
        self._draw("")
        print(text, flush=True)
