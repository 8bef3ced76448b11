"""The conflict view: the artifact changed on the server (Reload or Compare), then, after
Compare, one row per field both sides changed, mine and theirs side by side, to choose from.

The rows are made when a Compare starts and closed when it ends (most panels never need them);
what they show comes from :func:`~.merging.conflict_rows` (environment values hidden).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

from workloadlab.models.merge import Side
from workloadlab.notebook.panel.core import PanelCore
from workloadlab.notebook.panel.decisions import NEWS_MESSAGES, RELOADED
from workloadlab.notebook.panel.merging import (
    Merging,
    compare,
    compare_message,
    conflict_rows,
    form_after_choice,
)
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
        if _result(merging) is not _result(self._shown):  # a new Compare (or none any more)
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


def _result(merging: Merging | None) -> object:
    return None if merging is None else merging.result


class ConflictActions(PanelCore):
    """What Reload, Compare and the choices do (a part of :class:`~.widget.WorkloadPanel`)."""

    _conflict: ConflictView | None

    @property
    def conflict_view(self) -> ConflictView:
        """Reload or Compare when the artifact changed on the server; the merge's choices."""
        if self._conflict is None:
            self._conflict = ConflictView(self._on_reload, self._on_compare, self._on_choose)
            self._add_extras()
        return self._conflict

    @property
    def conflict(self) -> Widget:
        """The conflict banner (shown while Reload or Compare waits)."""
        return self.conflict_view.banner

    @property
    def reload(self) -> Widget:
        """Conflict: take the server's version."""
        return self.conflict_view.reload

    @property
    def compare(self) -> Widget:
        """Conflict: merge the edits with the server's version."""
        return self.conflict_view.compare

    def _on_reload(self) -> None:
        with self._lock:
            current = self.state.conflict
            if current is None:
                return
            self._take(current, reload_form=True)
            self.state.message = RELOADED
            self._draw()

    def _on_compare(self) -> None:
        with self._lock:
            current, base = self.state.conflict, self.state.artifact
            if current is None:
                return
            if current.is_registered:  # nothing to merge into: its spec is immutable
                self._take(current, reload_form=True)
                self.state.message = NEWS_MESSAGES["registered"]
            else:
                merging = compare(base, current, self._reading.artifact or self._reading.wire)
                self.state.artifact, self.state.conflict = current, None
                self.state.merge = merging if merging.conflicts else None
                self._show_content(merging.content())
                self.state.message = compare_message(merging)
            self._draw()

    def _on_choose(self, path: str, side: Side) -> None:
        with self._lock:
            before = self.state.merge
            if before is None or before.choices.get(path) == side:
                return
            after = self.state.merge = before.choose(path, side)
            typed = self._reading.artifact or self._reading.wire
            self._show_content(form_after_choice(before, after, typed))
            self._draw()

    def _show_content(self, content: Mapping[str, Any]) -> None:
        """Show merged wire data in the form (its changes still measured against the server)."""
        self.form.load(content)
        self._refresh_form()
