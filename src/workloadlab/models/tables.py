"""The pieces of the tables models display as: cells, rows, grids (HTML and plain text), status
badges, short local times.

Text colours are JupyterLab's theme variables (``var(--jp-…)``, with a light-theme fallback
for other frontends), so tables follow the light and the dark theme; status badges keep fixed
colours of their own (see :data:`STATUS_COLOURS`). Text that may span lines (a
``python -c`` entrypoint) keeps its line breaks: HTML cells are ``pre-wrap``, text cells
continue under their column. Everything shown is escaped here, once.
"""

from __future__ import annotations

import datetime as dt
import html
import shlex
from collections.abc import Iterable, Sequence
from typing import Any

from workloadlab.models.status import WorkloadStatus

GREY = "var(--jp-ui-font-color2, #6e7781)"
"""Unknown and stopped statuses; muted text."""
TRANSITION_COLOUR = "#0969da"
"""Any status on the way somewhere (``submitted``, ``provisioning``, ``updating``…)."""
ERROR_COLOUR = "#cf222e"
IDLE_COLOUR = "#6e7781"
STATUS_COLOURS: dict[str, str] = {
    WorkloadStatus.RUNNING: "#1a7f37",
    WorkloadStatus.ERRORED: ERROR_COLOUR,
    WorkloadStatus.FAILED: ERROR_COLOUR,
    WorkloadStatus.TERMINATED: ERROR_COLOUR,
    WorkloadStatus.STOPPED: IDLE_COLOUR,
    WorkloadStatus.STOPPING: "#9a6700",
    WorkloadStatus.SUBMITTED: TRANSITION_COLOUR,
    WorkloadStatus.INITIALIZING: TRANSITION_COLOUR,
    WorkloadStatus.UNKNOWN: IDLE_COLOUR,
}
"""A status's colour (the background of its badge, its band in a timeline strip). Fixed, not
theme variables: a badge carries its own background and white text, which must keep 4.5:1 in
every theme (these give 4.6–5.4:1); JupyterLab's status variables do not (white on the dark
theme's ``--jp-success-color0`` is 4.1:1, on the light theme's ``--jp-warn-color0`` 4.5:1)."""
MUTED = f"color:{GREY}"
TABLE = (
    '<table class="wl-table" style="border-collapse:collapse;font-size:12px;'
    'text-align:left;color:var(--jp-ui-font-color1, inherit)">{}</table>'
)
CELL = "padding:1px 8px 1px 0;text-align:left;vertical-align:top;white-space:pre-wrap"
HEAD = "padding:1px 8px 1px 0;text-align:left;vertical-align:top;font-weight:600"
NOWRAP = "white-space:nowrap"


def status_colour(status: str) -> str:
    """The colour of a status word (transitions blue, failures red, the rest grey)."""
    if status in STATUS_COLOURS:
        return STATUS_COLOURS[status]
    word = WorkloadStatus.__members__.get(status.upper())
    if word is not None and word.is_failure:
        return ERROR_COLOUR
    return TRANSITION_COLOUR


def e(value: Any) -> str:
    """``value`` escaped for HTML (``—`` for nothing)."""
    return html.escape("—" if value is None or value == "" else str(value))


def badge(status: str, word: str | None = None) -> str:
    """A status word on its colour."""
    return (
        f'<span class="wl-badge" style="color:#fff;background:{status_colour(status)};'
        f'border-radius:8px;padding:0 6px;white-space:nowrap">{e(word or status)}</span>'
    )


def when(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """A time in the reader's time zone, short: ``14:03:07`` today, ``2026-12-04 14:03:07``
    another day."""
    if value is None:
        return "—"
    local, zone = in_reader_zone(value)
    today = (now or dt.datetime.now(dt.UTC)).astimezone().date()
    if local.date() == today:
        return f"{local:%H:%M:%S}{zone}"
    return f"{local.isoformat(sep=' ', timespec='seconds')[:19]}{zone}"


def in_reader_zone(value: dt.datetime) -> tuple[dt.datetime, str]:
    """``value`` in the reader's time zone, and ``""``; in UTC and ``" UTC"`` when it has no
    local time (``0001-01-01T00:00:00Z``, Go's zero time that APIs send for "never", is before
    year 1 west of UTC)."""
    try:
        return value.astimezone(), ""
    except (OverflowError, ValueError):
        return (value if value.tzinfo is None else value.astimezone(dt.UTC)), " UTC"


def rows_html(pairs: Iterable[tuple[str, str]]) -> str:
    """``key | value`` rows (values are HTML already)."""
    cells = "".join(
        f'<tr><th style="{HEAD}">{html.escape(k)}</th><td style="{CELL}">{v}</td></tr>'
        for k, v in pairs
    )
    return TABLE.format(cells)


def grid_html(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, nowrap: Sequence[int] = ()
) -> str:
    """A table with a header row (cells are HTML already); the columns in ``nowrap`` never
    wrap (times, ids), the others keep their line breaks and wrap where they must."""
    head = "".join(f'<th style="{HEAD};{NOWRAP}">{html.escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{CELL}{";" + NOWRAP if i in nowrap else ""}">{cell}</td>'
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return TABLE.format(f"<tr>{head}</tr>{body}")


def rows_text(pairs: Iterable[tuple[str, str]]) -> str:
    """Aligned ``key  value`` lines; a value's further lines continue under its first."""
    items = list(pairs)
    width = max((len(k) for k, _ in items), default=0)
    return "\n".join(_continued(f"{k.ljust(width)}  ", v) for k, v in items)


def grid_text(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Aligned columns; a cell's further lines continue under it (the last column's only:
    others are cut to their first line, so rows stay rows)."""
    table = [list(headers), *([str(c) for c in r] for r in rows)]
    last = len(headers) - 1
    for row in table:
        for i in range(last):
            row[i] = row[i].split("\n", 1)[0]
    widths = [max(len(row[i].split("\n", 1)[0]) for row in table) for i in range(last)]
    lines = []
    for row in table:
        lead = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:last]))
        lead = f"{lead}  " if last else ""
        lines.append(_continued(lead, row[last]).rstrip())
    return "\n".join(lines)


def _continued(lead: str, value: str) -> str:
    first, *more = value.split("\n")
    return "\n".join([lead + first, *(" " * len(lead) + line for line in more)])


def words(args: Sequence[str] | None, empty: str = "(the image's)") -> str:
    """A list of arguments as one readable value, as a shell would take it (line breaks inside
    an argument kept)."""
    return shlex.join(args) if args else empty


class Displayed:
    """Shows as a table in a notebook, without ``%load_ext`` (the tables load on first use)."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str] | None:
        from workloadlab.models.shown import bundle

        return bundle(self)

    def _repr_html_(self) -> str | None:
        from workloadlab.models.shown import bundle

        found = bundle(self)
        return None if found is None else found["text/html"]
