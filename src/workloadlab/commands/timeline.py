"""The timeline as a picture: one strip per restart, its statuses over time, each event a mark,
that restart's log lines under it.

A *run* starts when the workload is submitted (created, started, restarted) and lasts until
the next one; the server's own restarts after a crash stay inside their run, as red marks, so a
crash loop shows at a glance (a run full of red). Status changes come from the audit trail
(``workload.statusChanged``) and, in a panel, from the changes its watcher saw before the trail
told of them. The strip is plain HTML (flex bands, absolutely placed marks) coloured with
JupyterLab's theme variables; the bands' widths follow time, with a floor so a 10 ms
``stopping`` is still a visible sliver. A crash loop that went on for hours (DataRobot never
gives up) stays a light picture: a strip draws the newest :data:`MOST_BANDS` statuses (the
earlier ones one grey band) and :data:`MOST_MARKS` marks, a run lists its newest
:data:`MOST_ENTRIES` changes and events and says how many came before; the caption counts every
crash. Pure functions: state in, HTML or text out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from workloadlab.models import Event, LogRecord
from workloadlab.models.shown import event_kind, event_summary
from workloadlab.models.tables import ERROR_COLOUR, GREY, MUTED, e, status_colour, when

MIN_BAND = 0.02
"""The narrowest a status's band gets (a share of the strip)."""
SAME_WITHIN = dt.timedelta(seconds=10)
"""A change a panel saw and one of the trail this close (same new status) are the same."""
MOST_MARKS = 200
"""The most marks a strip draws (the newest): a crash loop of hundreds of restarts is a red block
either way, and the picture stays light (the caption still counts every crash)."""
MOST_BANDS = 200
"""The most statuses a strip draws (the newest): the earlier ones are one grey band."""
EARLIER = "earlier"
"""The word of that band."""
MOST_ENTRIES = 100
"""The most changes and events a run lists (the newest; how many earlier is said)."""
CRASH_WORDS = ("restarting in", "CrashLoopBackOff", "gave up after")
FAILED = frozenset({"errored", "failed", "terminated"})


@dataclass(frozen=True)
class Change:
    """A status change (the trail's, or one a panel saw)."""

    at: dt.datetime
    old: str
    new: str
    message: str = ""

    @property
    def crash(self) -> bool:
        """Whether it tells of a crash (the app exited, a probe failed, the server restarts it
        or gave up)."""
        if self.new in FAILED:
            return True
        restarted = self.old == "running" and self.new == "initializing"
        return restarted or any(word in self.message for word in CRASH_WORDS)


@dataclass
class Run:
    """One restart: its status changes, the other events, its log lines."""

    start: dt.datetime
    first_status: str
    changes: list[Change] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    end: dt.datetime | None = None
    """When the next run began (``None``: this is the latest)."""

    @property
    def crashes(self) -> int:
        """How many times it crashed."""
        return sum(1 for change in self.changes if change.crash)

    @property
    def last_status(self) -> str:
        """Its status at its end (or now)."""
        return self.changes[-1].new if self.changes else self.first_status


def changes_of(events: Iterable[Event]) -> list[Change]:
    """The status changes an audit trail tells of, oldest first."""
    found = [
        Change(
            ev.timestamp,
            str(ev.details.get("from") or "unknown"),
            str(ev.details.get("to") or "unknown"),
            str(ev.details.get("message") or ""),
        )
        for ev in events
        if ev.event_type == "workload.statusChanged"
    ]
    return sorted(found, key=lambda change: change.at)


def runs_of(
    events: Sequence[Event],
    logs: Sequence[LogRecord],
    seen: Sequence[Change] = (),
    *,
    status: str | None = None,
) -> list[Run]:
    """The runs the trail (``events``, any order) and ``seen`` changes tell of, oldest first,
    with each run's log lines; ``status``: the workload's status now, when known."""
    told = changes_of(events)
    changes = list(told)
    for change in seen:  # a change the trail does not have (yet)
        if not any(c.new == change.new and abs(c.at - change.at) <= SAME_WITHIN for c in told):
            changes.append(change)
    changes.sort(key=lambda change: change.at)
    others = sorted(
        (ev for ev in events if ev.event_type != "workload.statusChanged"),
        key=lambda ev: ev.timestamp,
    )
    moments = [c.at for c in changes] + [ev.timestamp for ev in others]
    if not moments:
        return []
    first = changes[0].old if changes else status or "unknown"
    runs = [Run(min(moments), first)]
    for change in changes:
        if change.new == "submitted" and runs[-1].changes:
            runs[-1].end = change.at
            runs.append(Run(change.at, change.old))
        runs[-1].changes.append(change)
    for ev in others:
        _run_at(runs, ev.timestamp).events.append(ev)
    for record in sorted(logs, key=lambda r: r.timestamp):
        if record.timestamp >= runs[0].start:
            _run_at(runs, record.timestamp).logs.append(record)
    return runs


def _run_at(runs: Sequence[Run], at: dt.datetime) -> Run:
    return next((run for run in reversed(runs) if run.start <= at), runs[0])


# -- drawing -----------------------------------------------------------------------------------


Band = tuple[str, dt.datetime, dt.datetime, float]
"""A status, when it began and ended, and its share of the strip."""


def _bands(run: Run, now: dt.datetime) -> list[Band]:
    """Each status of the run with its start, end and share of the strip."""
    end = run.end or max(now, run.start)
    points = [(run.start, run.first_status)] + [(c.at, c.new) for c in run.changes]
    if len(points) > MOST_BANDS:
        points = [(run.start, EARLIER), *points[-MOST_BANDS:]]
    spans = [
        (word, at, points[i + 1][0] if i + 1 < len(points) else end)
        for i, (at, word) in enumerate(points)
    ]
    spans = [(word, a, max(a, b)) for word, a, b in spans]
    total = max((end - run.start).total_seconds(), 1e-6)
    raw = [max(MIN_BAND, (b - a).total_seconds() / total) for _, a, b in spans]
    scale = sum(raw)
    return [(word, a, b, share / scale) for (word, a, b), share in zip(spans, raw, strict=True)]


def _position(
    bands: Sequence[tuple[str, dt.datetime, dt.datetime, float]], at: dt.datetime
) -> float:
    """Where ``at`` falls on the strip (0-100)."""
    left = 0.0
    for index, (_, start, end, share) in enumerate(bands):
        if at <= end or index == len(bands) - 1:
            span = (end - start).total_seconds()
            inside = 0.0 if span <= 0 else min(1.0, max(0.0, (at - start).total_seconds() / span))
            return 100 * (left + inside * share)
        left += share
    return 100.0


def _seconds(start: dt.datetime, end: dt.datetime) -> str:
    value = (end - start).total_seconds()
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _strip(run: Run, now: dt.datetime) -> str:
    bands = _bands(run, now)
    cells = "".join(
        f'<div class="wl-band wl-band-{e(word)}" title="{e(word)} {when(a)} ({_seconds(a, b)})" '
        f'style="width:{share * 100:.2f}%;background:{_colour(word)}"></div>'
        for word, a, b, share in bands
    )
    moments: list[tuple[dt.datetime, Change | Event]] = [
        (change.at, change) for change in run.changes if change.crash
    ]
    moments += [(ev.timestamp, ev) for ev in run.events]
    moments = sorted(moments, key=lambda moment: moment[0])[-MOST_MARKS:]
    marks = []
    for at, what in moments:
        if isinstance(what, Change):
            title = f"crash {when(at)}: {what.old} → {what.new} {what.message}"
            marks.append(_mark(_position(bands, at), title, "wl-crash", ERROR_COLOUR, 3))
        else:
            title = f"{when(at)} {event_kind(what)} {event_summary(what, 4)}"
            marks.append(_mark(_position(bands, at), title, "wl-event", GREY, 1))
    words = " → ".join(word for word, *_ in bands)
    return (
        f'<div class="wl-strip" role="img" aria-label="{e(words)}" style="position:relative;'
        "display:flex;height:10px;margin:5px 0;border-radius:2px;"
        f'background:var(--jp-layout-color2, #eee)">{cells}{"".join(marks)}</div>'
    )


def _colour(word: str) -> str:
    return GREY if word == EARLIER else status_colour(word)


def _mark(left: float, title: str, kind: str, colour: str, width: int) -> str:
    return (
        f'<span class="wl-mark {kind}" title="{e(title.strip())}" style="position:absolute;'
        f"left:{left:.2f}%;top:-4px;bottom:-4px;width:{width}px;margin-left:-{width // 2}px;"
        f'background:{colour}"></span>'
    )


def _caption(number: int, run: Run, now: dt.datetime) -> str:
    until = "now" if run.end is None else when(run.end)
    parts = [f"<b>run {number}</b>", f"{when(run.start)} → {until}", e(run.last_status)]
    if run.crashes:
        plural = "es" if run.crashes > 1 else ""
        parts.append(f'<b style="color:{ERROR_COLOUR}">{run.crashes} crash{plural}</b>')
    return f'<div style="font-size:12px">{" · ".join(parts)}</div>'


def _log_lines(run: Run, lines: int) -> str:
    shown = run.logs[-lines:]
    if not shown:
        return f'<div style="{MUTED};font-size:11px">no log lines</div>'
    more = len(run.logs) - len(shown)
    head = f'<div style="{MUTED};font-size:11px">{more} earlier lines</div>' if more else ""
    body = "\n".join(
        f'<span style="color:{ERROR_COLOUR}">{e(_log_text(r))}</span>'
        if r.level not in ("info", "debug")
        else e(_log_text(r))
        for r in shown
    )
    return (
        f'{head}<pre style="margin:0 0 0 8px;font-size:11px;line-height:1.35;'
        f'white-space:pre-wrap;overflow-wrap:anywhere">{body}</pre>'
    )


def _log_text(record: LogRecord) -> str:
    return f"{when(record.timestamp)} {record.message}"


def timeline_html(
    runs: Sequence[Run], now: dt.datetime | None = None, *, lines: int = 20, most: int = 5
) -> str:
    """The newest ``most`` runs, newest first: caption, strip, the last ``lines`` log lines."""
    if not runs:
        return f'<i style="{MUTED}">nothing yet</i>'
    moment = now or dt.datetime.now(dt.UTC)
    numbered = list(enumerate(runs, start=1))[-most:]
    parts = [
        f'<div class="wl-run" style="margin:0 0 10px">{_caption(n, run, moment)}'
        f"{_strip(run, moment)}{_entries_html(run)}{_log_lines(run, lines)}</div>"
        for n, run in reversed(numbered)
    ]
    earlier = len(runs) - len(numbered)
    if earlier:
        parts.append(f'<div style="{MUTED};font-size:11px">{earlier} earlier runs</div>')
    return f'<div class="wl-runs">{"".join(parts)}</div>'


def _entries(run: Run) -> list[tuple[dt.datetime, str]]:
    """The run's status changes (crashes marked ``✗``) and events, oldest first (the newest
    :data:`MOST_ENTRIES`)."""
    items = [
        (c.at, f"{'✗ ' if c.crash else ''}{c.old} → {c.new}{': ' + c.message if c.message else ''}")
        for c in run.changes
    ]
    items += [(ev.timestamp, f"{event_kind(ev)} {event_summary(ev)}".strip()) for ev in run.events]
    return sorted(items, key=lambda item: item[0])[-MOST_ENTRIES:]


def _earlier(run: Run) -> int:
    """How many of the run's changes and events are not listed (over :data:`MOST_ENTRIES`)."""
    return max(0, len(run.changes) + len(run.events) - MOST_ENTRIES)


def _entries_html(run: Run) -> str:
    rows = "".join(f"<div>{when(at)} {e(text)}</div>" for at, text in _entries(run))
    count = len(run.changes) + len(run.events)
    earlier = _earlier(run)
    note = f'<div style="{MUTED}">{earlier} earlier changes and events</div>' if earlier else ""
    return (
        f'<details style="font-size:11px"><summary style="{MUTED}">{count} changes and events'
        f"</summary>{note}{rows}</details>"
    )


def timeline_text(runs: Sequence[Run], *, lines: int = 20, most: int = 5) -> str:
    """The newest ``most`` runs as text, newest first: each status change (crashes marked
    ``✗``) and event, then the last ``lines`` log lines."""
    if not runs:
        return "nothing yet"
    out = []
    for number, run in reversed(list(enumerate(runs, start=1))[-most:]):
        until = "now" if run.end is None else when(run.end)
        crashes = f", {run.crashes} crashes" if run.crashes else ""
        out.append(f"run {number}  {when(run.start)} → {until}  {run.last_status}{crashes}")
        earlier = _earlier(run)
        out += [f"  ({earlier} earlier changes and events)"] if earlier else []
        out += [f"  {when(at)}  {text}" for at, text in _entries(run)]
        out += [f"    | {_log_text(r)}" for r in run.logs[-lines:]]
    return "\n".join(out)
