"""How the models show in a notebook: tables (HTML, with a plain-text twin) for workloads,
deployments, artifacts, events, log lines and pages or lists of them.

The models display as these without ``%load_ext`` (:class:`Displayed`: ``_repr_html_`` and
``_repr_mimebundle_``, which load this module on first use); the magics show the same tables.
Environment values are never shown: they may be secrets, and outputs are saved with the
notebook. Events name their actor by name where the caller knows it (``names``), ``system``
for what the server did by itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from workloadlab.models.neutral import Artifact, Variable, Workload
from workloadlab.models.resources import Deployment, Event, LogRecord, Page
from workloadlab.models.tables import (
    ERROR_COLOUR,
    MUTED,
    NOWRAP,
    badge,
    e,
    grid_html,
    grid_text,
    rows_html,
    rows_text,
    when,
    words,
)

Names = Mapping[str, str]
"""Actor ids and the names to show for them."""
_CONTAINER_PREFIX = re.compile(r"^spec\.containerGroups\[\d+\]\.containers\[\d+\]\.")


# -- workloads ---------------------------------------------------------------------------------


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
        ("running since", when(w.running_since)),
    ]
    if w.restart_count:
        pairs.append(("restarts", str(w.restart_count)))
    if w.expires_at is not None:
        pairs.append(("draft expires", when(w.expires_at)))
    if details is not None and details.message:
        pairs.append(("message", details.message))
    return pairs


def workload_html(w: Workload) -> str:
    """One workload as a two-column table with a status badge."""
    return rows_html((k, badge(v) if k == "status" else e(v)) for k, v in _workload_pairs(w))


def workload_text(w: Workload) -> str:
    """One workload as aligned ``key  value`` lines."""
    return rows_text(_workload_pairs(w))


WORKLOAD_HEADERS = ["name", "id", "status", "artifact", "running since"]


def _workload_row(w: Workload) -> list[str]:
    artifact = w.artifact.status.value if w.artifact and w.artifact.status else "—"
    return [w.name, w.id, w.status.value, artifact, when(w.running_since)]


def workloads_html(items: Sequence[Workload], current: str | None = None) -> str:
    """Workloads as a table; the current one marked."""
    rows = []
    for w in items:
        row = [e(c) for c in _workload_row(w)]
        row[2] = badge(w.status)
        if w.id == current:
            row[0] = f"<b>{row[0]}</b> ◀"
        rows.append(row)
    return grid_html(WORKLOAD_HEADERS, rows, nowrap=(1, 4)) if rows else "<i>no workloads</i>"


def workloads_text(items: Sequence[Workload], current: str | None = None) -> str:
    """Workloads as aligned columns; the current one marked ``*``."""
    rows = []
    for w in items:
        row = _workload_row(w)
        if w.id == current:
            row[0] += " *"
        rows.append(row)
    return grid_text(WORKLOAD_HEADERS, rows) if rows else "no workloads"


# -- deployments -------------------------------------------------------------------------------


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
        ("created", when(d.created_at)),
    ]


def deployment_html(d: Deployment) -> str:
    """A deployment card."""
    return rows_html((k, badge(v) if k == "status" else e(v)) for k, v in _deployment_pairs(d))


def deployment_text(d: Deployment) -> str:
    """A deployment as aligned lines."""
    return rows_text(_deployment_pairs(d))


DEPLOYMENT_HEADERS = ["name", "id", "status", "artifact version", "endpoint", "created"]


def _deployment_row(d: Deployment) -> list[str]:
    version = d.artifact.version if d.artifact is not None else None
    return [
        d.name,
        d.id,
        d.status.value,
        str(version) if version else "—",
        d.endpoint or "—",
        when(d.created_at),
    ]


def deployments_html(items: Sequence[Deployment]) -> str:
    """Deployments as a table."""
    rows = []
    for d in items:
        row = [e(c) for c in _deployment_row(d)]
        row[2] = badge(d.status)
        rows.append(row)
    return grid_html(DEPLOYMENT_HEADERS, rows, nowrap=(1, 5)) if rows else "<i>no deployments</i>"


def deployments_text(items: Sequence[Deployment]) -> str:
    """Deployments as aligned columns."""
    if not items:
        return "no deployments"
    return grid_text(DEPLOYMENT_HEADERS, (_deployment_row(d) for d in items))


# -- artifacts ---------------------------------------------------------------------------------

_SOURCE_LABELS = {"dr-credential": "credential", "api-key": "API key"}


def _env_label(variable: Variable) -> str:
    """A variable's name, and where its value comes from when it is not in the spec."""
    source = _SOURCE_LABELS.get(variable.source or "")
    return f"{variable.env_name} ({source})" if source else variable.env_name


def _artifact_pairs(a: Artifact) -> list[tuple[str, str]]:
    primary = a.spec.primary
    return [
        ("artifact", a.name_or_id),
        ("id", a.id),
        ("status", a.status_word + (f" v{a.version}" if a.version else "")),
        ("image", primary.image_uri or "(built from imageBuildConfig)"),
        ("port", str(primary.port)),
        ("entrypoint", words(primary.entrypoint)),
        ("env", ", ".join(_env_label(v) for v in primary.variables) or "—"),
        ("updated", when(a.updated_at)),
    ]


def artifact_text(a: Artifact) -> str:
    """An artifact's identity (env names only; ``%workload spec`` shows the whole spec)."""
    return rows_text(_artifact_pairs(a))


def artifact_html(a: Artifact) -> str:
    """An artifact's identity as a table (env names only)."""
    return rows_html((k, e(v)) for k, v in _artifact_pairs(a))


# -- events ------------------------------------------------------------------------------------


def event_kind(event: Event) -> str:
    """``status`` for status changes, else the event type in words (``artifact updated``)."""
    if event.event_type == "workload.statusChanged":
        return "status"
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", event.event_type.replace(".", " "))
    return spaced.lower()


def short_path(path: str) -> str:
    """A changed field's path without the container prefix: ``environmentVars[X]``, ``port``."""
    return _CONTAINER_PREFIX.sub("", path).removesuffix(".value")


def event_summary(event: Event, limit: int | None = None) -> str:
    """An event's details in words (environment values are never in events); ``limit``: at
    most that many changed fields, and how many more."""
    details = event.details
    if event.event_type == "workload.statusChanged":
        text = f"{details.get('from')} → {details.get('to')}"
        return f"{text}: {details['message']}" if details.get("message") else text
    fields = _changed_fields(details.get("changedFields"))
    if fields is not None:
        kept = fields if limit is None else fields[:limit]
        more = f" (+{len(fields) - len(kept)})" if len(fields) > len(kept) else ""
        return ", ".join(short_path(path) for path in kept) + more
    return ", ".join(f"{key}={value}" for key, value in details.items() if value is not None)


def _changed_fields(value: Any) -> list[str] | None:
    """The changed fields' paths an event lists (a server's ``details`` hold anything: one path
    as a string, ``null``, items that are no path); ``None`` when it lists none."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(path) for path in value if path is not None]
    return None


def actor(actor_id: str | None, names: Names) -> str:
    """Who did it: a name where known, ``system`` for the server itself, else the id."""
    if not actor_id:
        return "—"
    return names.get(actor_id, actor_id)


EVENT_HEADERS = ["time", "event", "by", "details"]


def _event_row(event: Event, names: Names) -> list[str]:
    return [when(event.timestamp), event_kind(event), actor(event.actor_id, names)]


def events_html(items: Sequence[Event], names: Names | None = None) -> str:
    """The audit trail as given (servers answer newest first), one row per event."""
    if not items:
        return "<i>no events</i>"
    rows = ([*(e(c) for c in _event_row(ev, names or {})), e(event_summary(ev))] for ev in items)
    return grid_html(EVENT_HEADERS, rows, nowrap=(0, 1, 2))


def events_text(items: Sequence[Event], names: Names | None = None) -> str:
    """The audit trail as aligned columns, one line per event."""
    if not items:
        return "no events"
    rows = ([*_event_row(ev, names or {}), event_summary(ev)] for ev in items)
    return grid_text(EVENT_HEADERS, rows)


# -- log lines ---------------------------------------------------------------------------------


def log_line(record: LogRecord) -> str:
    """``14:03:07 message`` (``[error]`` before what is not info)."""
    level = "" if record.level in ("info", "debug") else f"[{record.level}] "
    return f"{when(record.timestamp)} {level}{record.message}"


def logs_html(records: Sequence[LogRecord]) -> str:
    """Log lines as given, errors in the theme's error colour."""
    if not records:
        return f'<i style="{MUTED}">no log lines</i>'
    lines = []
    for record in records:
        text = e(log_line(record))
        if record.level not in ("info", "debug"):
            text = f'<span style="color:{ERROR_COLOUR}">{text}</span>'
        lines.append(text)
    body = "\n".join(lines)
    return (
        f'<pre style="margin:0;font-size:11px;line-height:1.35;white-space:pre-wrap">{body}</pre>'
    )


def logs_text(records: Sequence[LogRecord]) -> str:
    """Log lines as given."""
    return "\n".join(log_line(r) for r in records) or "no log lines"


# -- dispatch ----------------------------------------------------------------------------------

Renderers = tuple[Callable[[Any], str], Callable[[Any], str]]
_ONE: list[tuple[type[Any], Renderers]] = [
    (Workload, (workload_html, workload_text)),
    (Deployment, (deployment_html, deployment_text)),
    (Artifact, (artifact_html, artifact_text)),
    (Event, (lambda ev: events_html([ev]), lambda ev: events_text([ev]))),
    (LogRecord, (lambda r: logs_html([r]), log_line)),
]
_MANY: list[tuple[type[Any], Renderers]] = [
    (Deployment, (deployments_html, deployments_text)),
    (Event, (events_html, events_text)),
    (LogRecord, (logs_html, logs_text)),
]


def bundle(obj: Any, current: str | None = None) -> dict[str, str] | None:
    """The ``text/html`` and ``text/plain`` of a model, a page or a list of models (``None``
    when there is no table for it: IPython then shows it as usual); ``current``: the workload
    to mark in a list of workloads."""
    items: Sequence[Any] | None = obj.data if isinstance(obj, Page) else None
    if items is None and isinstance(obj, list):
        items = obj
    if items is None:
        found = _renderers(obj, _ONE)
        return None if found is None else {"text/html": found[0](obj), "text/plain": found[1](obj)}
    if items and isinstance(items[0], Workload):
        html, text = workloads_html(items, current), workloads_text(items, current)
    else:
        found = _renderers(items[0], _MANY) if items else None
        if found is None:
            return None
        html, text = found[0](items), found[1](items)
    if isinstance(obj, Page) and obj.next:
        html += f'<div style="{MUTED};{NOWRAP}">(more on the next page)</div>'
        text += "\n(more on the next page)"
    return {"text/html": html, "text/plain": text}


def _renderers(obj: Any, table: list[tuple[type[Any], Renderers]]) -> Renderers | None:
    return next((renderers for kind, renderers in table if isinstance(obj, kind)), None)


class ShownList(list[Any]):
    """A list of models that displays as one table (what ``%workload list`` returns), with
    the ``current`` workload marked."""

    def __init__(self, items: Sequence[Any] = (), current: str | None = None) -> None:
        super().__init__(items)
        self.current = current

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str] | None:
        return bundle(self, self.current)

    def _repr_html_(self) -> str | None:
        found = bundle(self, self.current)
        return None if found is None else found["text/html"]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        found = None if cycle else bundle(self, self.current)
        printer.text(list.__repr__(self) if found is None else found["text/plain"])
