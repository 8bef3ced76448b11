"""Compact HTML tables (with plain-text twins) for workloads, deployments, events and diffs,
and the Lock & Deploy checklist as text.

Registered as IPython formatters for the model types (see :mod:`.extension`), so a magic can
*return* the model (``w = %workload status``) and still show a table. Environment values are
never shown here: they may be secrets, and outputs are saved with the notebook.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from typing import Any

from workloadlab.client import ArtifactVersion, Check
from workloadlab.models import Deployment, Event, WorkloadStatus
from workloadlab.models.diff import FieldChange
from workloadlab.models.digest import short_digest
from workloadlab.models.neutral import Artifact, Variable, Workload

STATUS_COLOURS = {
    WorkloadStatus.RUNNING: "#1a7f37",
    WorkloadStatus.ERRORED: "#cf222e",
    WorkloadStatus.STOPPED: "#6e7781",
    WorkloadStatus.STOPPING: "#9a6700",
    WorkloadStatus.SUBMITTED: "#0969da",
    WorkloadStatus.INITIALIZING: "#0969da",
    WorkloadStatus.UNKNOWN: "#6e7781",
}

_TABLE = (
    '<table class="wl-table" style="border-collapse:collapse;font-size:12px;'
    'text-align:left">{}</table>'
)


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _e(value: Any) -> str:
    return html.escape("—" if value is None or value == "" else str(value))


def badge(status: WorkloadStatus) -> str:
    """A coloured status word."""
    colour = STATUS_COLOURS.get(status, "#6e7781")
    return (
        f'<span style="color:#fff;background:{colour};border-radius:8px;padding:0 6px">'
        f"{html.escape(status.value)}</span>"
    )


_TH = "padding:1px 8px 1px 0;font-weight:600;text-align:left"


def _rows(pairs: Iterable[tuple[str, str]]) -> str:
    cells = "".join(
        f'<tr><th style="{_TH}">{html.escape(k)}</th>'
        f'<td style="padding:1px 0;text-align:left">{v}</td></tr>'
        for k, v in pairs
    )
    return _TABLE.format(cells)


def _grid(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(
        f'<th style="padding:1px 8px;text-align:left">{html.escape(h)}</th>' for h in headers
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td style="padding:1px 8px;text-align:left">{cell}</td>' for cell in row)
        + "</tr>"
        for row in rows
    )
    return _TABLE.format(f"<tr>{head}</tr>{body}")


def _text_rows(pairs: Iterable[tuple[str, str]]) -> str:
    items = list(pairs)
    width = max((len(k) for k, _ in items), default=0)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in items)


def _text_grid(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    table = [list(headers), *(list(r) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table
    )


def _workload_pairs(w: Workload) -> list[tuple[str, str]]:
    artifact = w.artifact
    artifact_text = "—"
    if artifact is not None:
        version = f" v{artifact.version}" if artifact.version else ""
        status = artifact.status.value if artifact.status else "?"
        artifact_text = f"{artifact.name or artifact.id} ({status}{version})"
    details = w.status_details
    pairs = [
        ("name", w.name),
        ("id", w.id),
        ("status", w.status.value),
        ("artifact", artifact_text),
        ("endpoint", w.endpoint or "—"),
        ("running since", _when(w.running_since)),
    ]
    if w.restart_count:
        pairs.append(("restarts", str(w.restart_count)))
    if w.expires_at is not None:
        pairs.append(("draft expires", _when(w.expires_at)))
    if details is not None and details.message:
        pairs.append(("message", details.message))
    return pairs


def workload_html(w: Workload) -> str:
    """One workload as a two-column table with a status badge."""
    pairs = [(k, badge(w.status) if k == "status" else _e(v)) for k, v in _workload_pairs(w)]
    return _rows(pairs)


def workload_text(w: Workload) -> str:
    """One workload as aligned ``key  value`` lines."""
    return _text_rows(_workload_pairs(w))


def _workload_row(w: Workload) -> list[str]:
    artifact = w.artifact.status.value if w.artifact and w.artifact.status else "—"
    return [w.name, w.id, w.status.value, artifact, _when(w.running_since)]


WORKLOAD_HEADERS = ["name", "id", "status", "artifact", "running since"]


def workloads_html(items: Sequence[Workload], current: str | None = None) -> str:
    """Workloads as a table; the current one marked."""
    rows = []
    for w in items:
        row = [_e(c) for c in _workload_row(w)]
        row[2] = badge(w.status)
        if w.id == current:
            row[0] = f"<b>{row[0]}</b> ◀"
        rows.append(row)
    return _grid(WORKLOAD_HEADERS, rows) if rows else "<i>no workloads</i>"


def workloads_text(items: Sequence[Workload], current: str | None = None) -> str:
    """Workloads as aligned columns."""
    rows = []
    for w in items:
        row = _workload_row(w)
        if w.id == current:
            row[0] += " *"
        rows.append(row)
    return _text_grid(WORKLOAD_HEADERS, rows) if rows else "no workloads"


def _deployment_pairs(d: Deployment) -> list[tuple[str, str]]:
    version = d.artifact.version if d.artifact is not None else None
    return [
        ("deployment", d.name),
        ("id", d.id),
        ("status", d.status.value),
        ("importance", d.importance.value if d.importance else "—"),
        ("workload", d.workload_id),
        ("artifact version", str(version) if version else "—"),
        ("endpoint", d.endpoint or "—"),
        ("created", _when(d.created_at)),
    ]


def deployment_html(d: Deployment) -> str:
    """A deployment card."""
    pairs = [(k, badge(d.status) if k == "status" else _e(v)) for k, v in _deployment_pairs(d)]
    return _rows(pairs)


def deployment_text(d: Deployment) -> str:
    """A deployment as aligned lines."""
    return _text_rows(_deployment_pairs(d))


def _deployment_row(d: Deployment) -> list[str]:
    version = d.artifact.version if d.artifact is not None else None
    return [
        d.name,
        d.id,
        d.status.value,
        str(version) if version else "—",
        d.endpoint or "—",
        _when(d.created_at),
    ]


DEPLOYMENT_HEADERS = ["name", "id", "status", "artifact version", "endpoint", "created"]


def deployments_html(items: Sequence[Deployment]) -> str:
    """Deployments as a table."""
    rows = []
    for d in items:
        row = [_e(c) for c in _deployment_row(d)]
        row[2] = badge(d.status)
        rows.append(row)
    return _grid(DEPLOYMENT_HEADERS, rows) if rows else "<i>no deployments</i>"


def deployments_text(items: Sequence[Deployment]) -> str:
    """Deployments as aligned columns."""
    if not items:
        return "no deployments"
    return _text_grid(DEPLOYMENT_HEADERS, (_deployment_row(d) for d in items))


def _version_row(v: ArtifactVersion) -> list[str]:
    running = ", ".join(d.name for d in v.deployments) or "—"
    return [str(v.version), _when(v.created_at), short_digest(v.digest), running]


VERSION_HEADERS = ["version", "created", "digest", "deployed as"]


def versions_html(items: Sequence[ArtifactVersion], current: str | None = None) -> str:
    """Registered versions as a table, highest first; the workload's marked."""
    rows = []
    for v in items:
        row = [_e(c) for c in _version_row(v)]
        if v.id == current:
            row[0] = f"<b>{row[0]}</b> ◀"
        rows.append(row)
    return _grid(VERSION_HEADERS, rows) if rows else "<i>no registered versions</i>"


def versions_text(items: Sequence[ArtifactVersion], current: str | None = None) -> str:
    """Registered versions as aligned columns; the workload's marked ``*``."""
    rows = []
    for v in items:
        row = _version_row(v)
        if v.id == current:
            row[0] += " *"
        rows.append(row)
    return _text_grid(VERSION_HEADERS, rows) if rows else "no registered versions"


def checklist_text(checks: Sequence[Check]) -> str:
    """The Lock & Deploy checklist: one ``✓``/``✗`` line per check, with what was found."""
    return "\n".join(
        f"{'✓' if check.ok else '✗'} {check.name}" + (f": {check.detail}" if check.detail else "")
        for check in checks
    )


def _artifact_pairs(a: Artifact) -> list[tuple[str, str]]:
    primary = a.spec.primary
    return [
        ("artifact", a.name_or_id),
        ("id", a.id),
        ("status", a.status_word + (f" v{a.version}" if a.version else "")),
        ("image", primary.image_uri or "(built from imageBuildConfig)"),
        ("port", str(primary.port)),
        ("entrypoint", " ".join(primary.entrypoint or []) or "(the image's)"),
        ("env", ", ".join(_env_label(v) for v in primary.variables) or "—"),
        ("updated", _when(a.updated_at)),
    ]


_SOURCE_LABELS = {"dr-credential": "credential", "api-key": "API key"}


def _env_label(variable: Variable) -> str:
    """A variable's name, and where its value comes from when it is not in the spec."""
    source = _SOURCE_LABELS.get(variable.source or "")
    return f"{variable.env_name} ({source})" if source else variable.env_name


def artifact_text(a: Artifact) -> str:
    """An artifact's identity (env names only; ``%workload spec`` shows the whole spec)."""
    return _text_rows(_artifact_pairs(a))


def artifact_html(a: Artifact) -> str:
    """An artifact's identity as a table (env names only)."""
    return _rows((k, _e(v)) for k, v in _artifact_pairs(a))


def _event_row(e: Event) -> list[str]:
    details = e.details
    if e.event_type == "workload.statusChanged":
        summary = f"{details.get('from')} → {details.get('to')}"
        if details.get("message"):
            summary += f": {details['message']}"
    elif "changedFields" in details:
        summary = ", ".join(details["changedFields"])
    else:
        summary = ", ".join(f"{k}={v}" for k, v in details.items())
    return [_when(e.timestamp), e.event_type, e.actor_id or "—", summary]


EVENT_HEADERS = ["time", "event", "actor", "details"]


def events_html(items: Sequence[Event]) -> str:
    """The audit trail, newest first."""
    return _grid(EVENT_HEADERS, ([_e(c) for c in _event_row(e)] for e in items))


def events_text(items: Sequence[Event]) -> str:
    """The audit trail as aligned columns."""
    return _text_grid(EVENT_HEADERS, (_event_row(e) for e in items))


def _short(value: Any) -> str:
    text = "—" if value is None else str(value)
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
        row = [_e(c) for c in _change_row(change, hide_values=hide_env_values)]
        colour = "#9a6700" if change.needs_restart else "#6e7781"
        row[2] = f'<span style="color:{colour}">{row[2]}</span>'
        rows.append(row)
    return _grid(CHANGE_HEADERS, rows)


def changes_text(changes: Sequence[FieldChange], *, hide_env_values: bool = True) -> str:
    """A field-by-field diff as aligned columns."""
    if not changes:
        return "no changes"
    return _text_grid(
        CHANGE_HEADERS, (_change_row(c, hide_values=hide_env_values) for c in changes)
    )
