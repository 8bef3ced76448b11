"""The live part of the panel: header, status badge, details, log tail, timeline, message area.

The ``*_html`` functions are pure (state in, HTML out); :class:`StatusView` holds the widgets
and :meth:`StatusView.render` assigns the strings, which sends only those that changed. Times are
shown in the kernel's time zone; nothing here shows an environment value.
"""

from __future__ import annotations

import datetime as dt
import html as html_module
import time
from collections.abc import Iterable

from workloadlab.commands.render import GREY, status_colour
from workloadlab.commands.timeline import timeline_html as runs_html
from workloadlab.models import LogRecord, WorkloadStatus
from workloadlab.models.neutral import Workload
from workloadlab.models.tables import in_reader_zone
from workloadlab.notebook.panel.endpoint import endpoint_html
from workloadlab.notebook.panel.state import Message, PanelState
from workloadlab.notebook.panel.ui import Widget, assign, html

LEVEL_STYLE = {
    "info": ("ℹ", "var(--jp-info-color1, #0969da)"),
    "success": ("✓", "var(--jp-success-color1, #1a7f37)"),
    "warning": ("⚠", "var(--jp-warn-color1, #9a6700)"),
    "error": ("✗", "var(--jp-error-color1, #cf222e)"),
}
TIMELINE_LINES = 12
"""Log lines under each run of the Timeline tab (the Logs tab has them all)."""
MUTED_COLOUR = "var(--jp-ui-font-color2, #57606a)"
MUTED = f"color:{MUTED_COLOUR}"
SPINNER = (
    "<style>@keyframes wl-spin{to{transform:rotate(360deg)}}</style>"
    '<span class="wl-spinner" aria-hidden="true" style="display:inline-block;width:0.7em;'
    "height:0.7em;border:2px solid currentColor;border-right-color:transparent;"
    'border-radius:50%;vertical-align:-0.1em;animation:wl-spin 0.9s linear infinite"></span>'
)
"""The busy mark: a ring drawn by CSS (turning where keyframes apply), so no font needs a
glyph for it (an hourglass shows as an empty box with a default Linux desktop's fonts)."""
WRAP = "overflow-wrap:anywhere"
"""Long ids and URLs wrap anywhere, so the panel fits JupyterLab's narrow sidebar."""


def _e(value: object) -> str:
    return html_module.escape(str(value))


def clock(value: dt.datetime) -> str:
    """``14:03:07`` in the kernel's time zone (in UTC, said, when it has no local time)."""
    local, zone = in_reader_zone(value)
    return f"{local:%H:%M:%S}{zone}"


def duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def countdown(expires_at: dt.datetime, now: dt.datetime) -> str:
    """How long until the draft TTL removes the workload."""
    left = (expires_at - now).total_seconds()
    return "expired" if left <= 0 else f"in {duration(left)}"


def header_html(state: PanelState, now: dt.datetime) -> str:
    """Name, id, endpoint link, artifact status and version, draft TTL countdown."""
    workload, artifact = state.workload, state.artifact
    parts = [f"<b>{_e(workload.name)}</b>", f"<code>{_e(workload.id)}</code>"]
    if workload.endpoint:
        parts.append(endpoint_html(workload.endpoint))
    version = f" v{artifact.version}" if artifact.version else ""
    parts.append(f"artifact <b>{_e(artifact.status_word)}{version}</b>")
    if workload.expires_at is not None and not artifact.is_registered:
        when = clock(workload.expires_at)
        text = f"draft expires {countdown(workload.expires_at, now)}"
        parts.append(f'<span title="at {when}" class="wl-ttl">{_e(text)}</span>')
    return f'<div style="line-height:1.6;{WRAP}">{" · ".join(parts)}</div>'


def badge_html(status: WorkloadStatus, *, gone: bool = False) -> str:
    """The status word on its colour (``deleted`` once the workload is gone)."""
    word = "deleted" if gone else status.value
    colour = GREY if gone else status_colour(status)
    return (
        f'<span class="wl-badge wl-badge-{_e(word)}" style="color:#fff;background:{colour};'
        f'border-radius:10px;padding:2px 10px;font-weight:600">{_e(word)}</span>'
    )


def details_html(workload: Workload, now: dt.datetime, problem: str | None = None) -> str:
    """Conditions, restart count, running since, the server's message, a connection problem."""
    parts = []
    details = workload.status_details
    for condition in details.conditions if details else []:
        ok = condition.value.lower() == "true"
        mark = "✓" if ok else "✗"
        colour = LEVEL_STYLE["success"][1] if ok else MUTED_COLOUR
        parts.append(f'<span style="color:{colour}">{_e(condition.type)} {mark}</span>')
    if workload.restart_count:
        parts.append(f"restarts {workload.restart_count}")
    if workload.running_since is not None:
        since = clock(workload.running_since)
        up = (now - workload.running_since).total_seconds()
        elapsed = "just now" if up < 60 else duration(up)  # minutes: no redraw every second
        parts.append(f"running since {since} ({elapsed})")
    text = " · ".join(parts)
    if details is not None and details.message:
        text += f'<br><span style="{MUTED}">{_e(details.message)}</span>'
    if problem:
        icon, colour = LEVEL_STYLE["warning"]
        text += f'<br><span style="color:{colour}">{icon} {_e(problem)} (retrying)</span>'
    return f'<div style="line-height:1.6;{WRAP}">{text}</div>'


def logs_html(records: Iterable[LogRecord]) -> str:
    """The log tail, oldest first, kept scrolled to the newest line."""
    lines = []
    for record in records:
        text = f"{clock(record.timestamp)} {_e(record.message)}"
        if record.level not in ("info", "debug"):
            text = f'<span style="color:var(--jp-error-color1, #cf222e)">{text}</span>'
        lines.append(text)
    if not lines:
        return f'<i style="{MUTED}">no log lines yet</i>'
    body = "\n".join(lines)
    return (
        '<div style="max-height:18em;overflow:auto;display:flex;flex-direction:column-reverse">'
        f'<pre style="margin:0;font-size:11px;line-height:1.35;white-space:pre-wrap">{body}</pre>'
        "</div>"
    )


def message_html(
    message: Message | None, busy: str | None, progress: str | None, elapsed: float
) -> str:
    """What is going on (an action with its live status) or how the last action went."""
    if busy is not None:
        state = f": {progress}" if progress else ""
        return f"<span>{SPINNER} {_e(busy)}{_e(state)} ({int(elapsed)} s)</span>"
    if message is None:
        return ""
    icon, colour = LEVEL_STYLE[message.level]
    return f'<span style="color:{colour};{WRAP}">{icon} {_e(message.text)}</span>'


def note_html(note: str) -> str:
    """Why a button is off, shown under the buttons (empty: nothing to say)."""
    if not note:
        return ""
    icon, colour = LEVEL_STYLE["warning"]
    return f'<span style="color:{colour};font-size:12px">{icon} {_e(note)}</span>'


class StatusView:
    """The status widgets of a panel, redrawn from its state."""

    def __init__(self) -> None:
        self.header: Widget = html("", "wl-header")
        self.badge: Widget = html("", "wl-status")
        self.details: Widget = html("", "wl-status-details")
        self.message: Widget = html("", "wl-message")
        self.logs: Widget = html("", "wl-logs")
        self.timeline: Widget = html("", "wl-timeline")

    def render(self, state: PanelState, now: dt.datetime) -> None:
        """Assign what changed, but the message (call with the panel's lock held)."""
        workload = state.workload
        assign(self.header, value=header_html(state, now))
        assign(self.badge, value=badge_html(state.next_badge(), gone=state.gone))
        details = "" if state.gone else details_html(workload, now, state.connection_problem)
        assign(self.details, value=details)  # a deleted workload has no conditions any more
        assign(self.logs, value=logs_html(state.logs))
        assign(self.timeline, value=runs_html(state.runs(), now, lines=TIMELINE_LINES, most=3))

    def render_message(self, state: PanelState) -> None:
        """Assign the message; the panel does it last, so that what a message announces (a
        deployment card, a saved form) is already drawn when it shows."""
        elapsed = time.monotonic() - state.busy_since
        text = message_html(state.message, state.busy, state.progress, elapsed)
        assign(self.message, value=text)
