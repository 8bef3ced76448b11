"""Compact HTML tables (with plain-text twins) for what the models do not show by themselves:
registered versions, diffs, and the Lock & Deploy checklist as text.

The models' own tables (workloads, deployments, artifacts, events, log lines: they display as
them without ``%load_ext``) live in :mod:`workloadlab.models.shown`; they are re-exported here
for the magics. Environment values are never shown: they may be secrets, and outputs are saved
with the notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workloadlab.client import ArtifactVersion, Check
from workloadlab.models.diff import FieldChange
from workloadlab.models.digest import short_digest
from workloadlab.models.neutral import Artifact
from workloadlab.models.shown import (
    artifact_html,
    artifact_text,
    deployment_html,
    deployment_text,
    deployments_html,
    deployments_text,
    events_html,
    events_text,
    logs_html,
    logs_text,
    workload_html,
    workload_text,
    workloads_html,
    workloads_text,
)
from workloadlab.models.tables import (
    GREY,
    STATUS_COLOURS,
    badge,
    e,
    grid_html,
    grid_text,
    status_colour,
    when,
    words,
)

__all__ = [
    "GREY",
    "STATUS_COLOURS",
    "artifact_html",
    "artifact_text",
    "badge",
    "changes_html",
    "changes_text",
    "checklist_text",
    "deployment_html",
    "deployment_text",
    "deployments_html",
    "deployments_text",
    "events_html",
    "events_text",
    "logs_html",
    "logs_text",
    "status_colour",
    "versions_html",
    "versions_text",
    "workload_html",
    "workload_text",
    "workloads_html",
    "workloads_text",
]


def _version_row(v: ArtifactVersion) -> list[str]:
    running = ", ".join(d.name for d in v.deployments) or "—"
    return [str(v.version), when(v.created_at), short_digest(v.digest), running]


VERSION_HEADERS = ["version", "created", "digest", "deployed as"]


def versions_html(items: Sequence[ArtifactVersion], current: str | None = None) -> str:
    """Registered versions as a table, highest first; the workload's marked."""
    rows = []
    for v in items:
        row = [e(c) for c in _version_row(v)]
        if v.id == current:
            row[0] = f"<b>{row[0]}</b> ◀"
        rows.append(row)
    return grid_html(VERSION_HEADERS, rows) if rows else "<i>no registered versions</i>"


def versions_text(items: Sequence[ArtifactVersion], current: str | None = None) -> str:
    """Registered versions as aligned columns; the workload's marked ``*``."""
    rows = []
    for v in items:
        row = _version_row(v)
        if v.id == current:
            row[0] += " *"
        rows.append(row)
    return grid_text(VERSION_HEADERS, rows) if rows else "no registered versions"


def checklist_text(checks: Sequence[Check]) -> str:
    """The Lock & Deploy checklist: one ``✓``/``✗`` line per check, with what was found."""
    return "\n".join(
        f"{'✓' if check.ok else '✗'} {check.name}" + (f": {check.detail}" if check.detail else "")
        for check in checks
    )


def _short(value: Any) -> str:
    """A value in a diff, in a few words: a list of arguments as a shell writes it (not a
    Python list with ``\\n`` escapes), its first line, cut at 60 characters."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = words(value, empty="[]")
    text = "—" if value is None else str(value)
    first, _, rest = text.partition("\n")
    text = f"{first} …" if rest else first
    return text if len(text) <= 60 else text[:57] + "..."


def _change_row(change: FieldChange, *, hide_values: bool) -> list[str]:
    marker = "needs restart" if change.needs_restart else "metadata — no restart"
    if hide_values and ".environmentVars[" in change.path:
        values = "(value changed)" if change.kind == "changed" else change.kind
    else:
        values = f"{_short(change.old)} → {_short(change.new)}"
    return [change.path, values, marker]


CHANGE_HEADERS = ["field", "change", "applies"]


def changes_html(changes: Sequence[FieldChange], *, hide_env_values: bool = True) -> str:
    """A field-by-field diff, each line marked with whether it needs a restart."""
    if not changes:
        return "<i>no changes</i>"
    rows = []
    for change in changes:
        row = [e(c) for c in _change_row(change, hide_values=hide_env_values)]
        colour = "var(--jp-warn-color1, #9a6700)" if change.needs_restart else GREY
        row[2] = f'<span style="color:{colour}">{row[2]}</span>'
        rows.append(row)
    return grid_html(CHANGE_HEADERS, rows)


def changes_text(changes: Sequence[FieldChange], *, hide_env_values: bool = True) -> str:
    """A field-by-field diff as aligned columns."""
    if not changes:
        return "no changes"
    return grid_text(CHANGE_HEADERS, (_change_row(c, hide_values=hide_env_values) for c in changes))


def _artifact_row(a: Artifact) -> list[str]:
    version = f"v{a.version}" if a.version else ""
    return [a.name_or_id, a.id, f"{a.status_word} {version}".strip(), when(a.updated_at)]


_ARTIFACT_HEADERS = ("artifact", "id", "status", "updated")


def artifacts_html(items: Sequence[Artifact]) -> str:
    """Artifacts as a table, one row each."""
    rows = [[e(cell) for cell in _artifact_row(a)] for a in items]
    return grid_html(_ARTIFACT_HEADERS, rows) if items else "<i>no artifacts</i>"


def artifacts_text(items: Sequence[Artifact]) -> str:
    """Artifacts as plain text, one line each."""
    if not items:
        return "no artifacts"
    return grid_text(_ARTIFACT_HEADERS, [_artifact_row(a) for a in items])
