"""Compare: the form's edits merged with the server's newer artifact, three ways (pure data).

``base`` is what the form loaded, ``theirs`` the server's version now, ``mine`` what the form
says (:func:`~workloadlab.models.merge.merge_artifacts`): what only they changed is taken from
the server and shown in the form, what only I changed keeps my value, and what both changed is
a conflict shown side by side until the user chooses a side for it. Save stays off until every
conflict has a choice, and then sends what the form shows: the merge, with those choices.

A choice is applied to the form by a second merge (what the form showed, the same with the
choice, what the form says now), so an edit typed after Compare is kept. The widgets are in
:mod:`.conflict`; environment values are never shown there either (they may be secrets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from workloadlab.models.diff import diff_artifacts
from workloadlab.models.merge import Conflict, MergeResult, Side, merge_artifacts
from workloadlab.models.neutral import Artifact
from workloadlab.notebook.panel.state import Message

_CONTAINER = re.compile(r"^spec\.containerGroups\[[^\]]*\]\.containers\[([^\]]*)\]\.?")
SHOWN = 40
"""The longest value shown in a conflict's choice (longer ones end with ``...``)."""


@dataclass(frozen=True)
class Merging:
    """A Compare under way: the merge, and the sides chosen so far."""

    base: Artifact
    """What the form had loaded."""
    theirs: Artifact
    """The server's version: the form's changes are now measured against it."""
    result: MergeResult = field(repr=False)
    """The merge (its wire data holds environment values: kept out of the repr)."""
    choices: Mapping[str, Side] = field(default_factory=dict)

    @property
    def conflicts(self) -> list[Conflict]:
        """The fields both sides changed."""
        return self.result.conflicts

    @property
    def unsettled(self) -> list[Conflict]:
        """The conflicts without a choice yet."""
        return [c for c in self.result.conflicts if c.path not in self.choices]

    def content(self) -> dict[str, Any]:
        """What the form shows: the merge, with the choices so far (the server's value where
        none was made yet)."""
        sides = {c.path: self.choices.get(c.path, "theirs") for c in self.result.conflicts}
        return self.result.resolved(sides)

    def choose(self, path: str, side: Side) -> Merging:
        """The same merge with ``side`` chosen for the conflict at ``path``."""
        if all(c.path != path for c in self.result.conflicts):
            raise ValueError(f"no conflict at {path}")
        return replace(self, choices={**self.choices, path: side})


def compare(base: Artifact, theirs: Artifact, mine: BaseModel | Mapping[str, Any]) -> Merging:
    """Merge the form (``mine``, wire data or a model) made on ``base`` with ``theirs``."""
    return Merging(base, theirs, merge_artifacts(base.to_input(), theirs.to_input(), mine))


def form_after_choice(
    before: Merging, after: Merging, typed: BaseModel | Mapping[str, Any]
) -> dict[str, Any]:
    """The form's new content once a choice turned ``before`` into ``after``: the choice is
    applied to what is typed now (edits made since Compare stay; the choice wins a field the
    user also retyped, since choosing is the later act)."""
    step = merge_artifacts(before.content(), after.content(), typed)
    return step.resolved({c.path: "theirs" for c in step.conflicts})


def label(path: str) -> str:
    """A merge path in the panel's words: ``environmentVars[GREETING].value`` for
    ``spec.containerGroups[0].containers[primary].environmentVars[GREETING].value``."""
    return _CONTAINER.sub("", path) or "container"


def secret_path(path: str) -> bool:
    """Whether a path is about an environment variable (whose value is never shown)."""
    return ".environmentVars[" in path or path.endswith(".environmentVars")


def shown_value(path: str, value: Any, side: str) -> str:
    """One side of a conflict as the choice shows it (environment values hidden)."""
    if value is None:
        return f"{side}: (removed)"
    if secret_path(path):
        return f"{side}: (value hidden)"
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if len(text) > SHOWN:
        text = text[: SHOWN - 3] + "..."
    return f"{side}: {text}"


@dataclass(frozen=True)
class ConflictRow:
    """One conflict as the merge view shows it."""

    path: str
    label: str
    mine: str
    theirs: str
    chosen: Side | None


def conflict_rows(merging: Merging) -> list[ConflictRow]:
    """The conflicts, one row each, with the side chosen so far."""
    return [
        ConflictRow(
            c.path,
            label(c.path),
            shown_value(c.path, c.mine, "mine"),
            shown_value(c.path, c.theirs, "theirs"),
            merging.choices.get(c.path),
        )
        for c in merging.conflicts
    ]


def _listed(paths: Sequence[str], limit: int = 5) -> str:
    names = list(dict.fromkeys(label(path).removesuffix(".value") for path in paths))
    more = f" (+{len(names) - limit})" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more if names else "nothing"


def compare_message(merging: Merging) -> Message:
    """What Compare did, field by field: taken from the server, kept from the form (what the
    form still changes), left to choose."""
    conflicts = [label(c.path) for c in merging.conflicts]

    def settled(path: str) -> bool:  # diff paths number containers, merge paths name them
        shown = label(path)
        return not any(shown == c or shown.startswith((f"{c}.", f"{c}[")) for c in conflicts)

    theirs = [c.path for c in diff_artifacts(merging.base.to_input(), merging.theirs.to_input())]
    mine = [c.path for c in diff_artifacts(merging.theirs.to_input(), merging.content())]
    parts = [
        f"Taken from the server: {_listed([p for p in theirs if settled(p)])}.",
        f"Kept yours: {_listed([p for p in mine if settled(p)])}.",
    ]
    if conflicts:
        parts.append(
            f"Both changed {len(conflicts)} field(s): choose mine or theirs for each below; "
            "Save waits for every choice."
        )
        return Message("warning", " ".join(parts))
    parts.append("Save sends the merge shown in the form.")
    return Message("info", " ".join(parts))


def unsettled_problem(merging: Merging | None) -> str | None:
    """Why Save must wait for the merge (``None``: every conflict has a choice)."""
    if merging is None or not merging.unsettled:
        return None
    count = len(merging.unsettled)
    return f"choose mine or theirs for {count} field(s) both changed first"
