"""The conflict view: the artifact changed on the server (Reload or Compare), then, after
Compare, one row per field both sides changed, mine and theirs side by side, to choose from.

The rows are made when a Compare starts and closed when it ends (most panels never need them);
what they show comes from :func:`~.merging.conflict_rows` (environment values hidden).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from workloadlab.models.merge import Side
from workloadlab.notebook.panel.merging import Merging, conflict_rows
from workloadlab.notebook.panel.ui import (
    Widget,
    assign,
    button,
    close_tree,
    hbox,
    html,
    set_visible,
    toggles,
    vbox,
)

Choose = Callable[[str, Side], None]


class ConflictView:
    """Reload / Compare, and the choices a Compare leaves to the user."""

    def __init__(
        self, on_reload: Callable[[], None], on_compare: Callable[[], None], on_choose: Choose
    ) -> None:
        self._on_choose = on_choose
        self._shown: Merging | None = None
        self.reload: Widget = button("Reload", "wl-reload", icon="download")
        self.compare: Widget = button("Compare", "wl-compare", icon="columns")
        self.reload.on_click(lambda _: on_reload())
        self.compare.on_click(lambda _: on_compare())
        self.banner: Widget = hbox(
            [
                html("The artifact changed on the server since the form loaded it."),
                self.reload,
                self.compare,
            ],
            "wl-conflict",
            own_layout=True,
            display="none",
        )
        self.choices: dict[str, Widget] = {}
        """The choice of each conflict, by merge path (``ToggleButtons``: mine, theirs)."""
        self.rows: Widget = vbox([], "wl-merge", own_layout=True, display="none")
        self.box: Widget = vbox([self.banner, self.rows])

    def render(self, *, conflict: bool, merging: Merging | None) -> None:
        """Show the banner while a conflict waits; the rows while a Compare has conflicts."""
        set_visible(self.banner, conflict)
        if merging is None or self._shown is None or merging.result is not self._shown.result:
            self._rebuild(merging)
        self._shown = merging
        if merging is not None:
            for row in conflict_rows(merging):
                choice = self.choices[row.path]
                assign(
                    choice,
                    index=None if row.chosen is None else ("mine", "theirs").index(row.chosen),
                )
        set_visible(self.rows, bool(self.choices))

    def _rebuild(self, merging: Merging | None) -> None:
        for child in self.rows.children:
            close_tree(child)
        self.choices = {}
        lines: list[Widget] = []
        if merging is not None and merging.conflicts:
            lines.append(html("<b>Both changed</b> — choose a side for each:"))
            for row in conflict_rows(merging):
                choice = toggles([(row.mine, "mine"), (row.theirs, "theirs")], "wl-merge-choice")
                choice.observe(self._chosen(row.path), names="value")
                self.choices[row.path] = choice
                lines.append(
                    hbox(
                        [html(f"<code>{escape(row.label)}</code>", "wl-merge-field"), choice],
                        "wl-merge-row",
                    )
                )
        self.rows.children = tuple(lines)

    def _chosen(self, path: str) -> Callable[[dict[str, Any]], None]:
        def chosen(change: dict[str, Any]) -> None:
            if change["new"] in ("mine", "theirs"):
                self._on_choose(path, change["new"])

        return chosen
