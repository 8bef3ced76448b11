"""The Changes view: the form against the server's artifact, field by field; and the YAML view
of what the form says.

Each line says whether it applies at once (``metadata — no restart``) or on the next restart
(``needs restart``), as :attr:`FieldChange.needs_restart` decides. Environment values are never
shown (they may be secrets): only that a variable was added, removed or changed.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Sequence

import yaml

from workloadlab.commands.specs import to_yaml
from workloadlab.models.diff import FieldChange
from workloadlab.notebook.panel.form import FormReading
from workloadlab.notebook.panel.status import MUTED, WRAP

RESTART_COLOUR = "var(--jp-warn-color1, #9a6700)"
_CONTAINER = re.compile(r"^spec\.containerGroups\[\d+\]\.containers\[(\d+)\]\.")


def field_label(path: str, containers: Sequence[str] = ()) -> str:
    """``environmentVars[GREETING]`` (or ``sidecar: image`` when there are several
    containers) for ``spec.containerGroups[0].containers[0].environmentVars[GREETING].value``."""
    match = _CONTAINER.match(path)
    if match is None:
        return path
    rest = path[match.end() :]
    if rest.startswith("environmentVars[") and rest.endswith("].value"):
        rest = rest.removesuffix(".value")
    index = int(match.group(1))
    if len(containers) > 1 and index < len(containers):
        return f"{containers[index]}: {rest}"
    return rest


def _short(value: object) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= 48 else text[:45] + "..."


def change_text(change: FieldChange) -> str:
    """Old → new, or ``added``/``removed``/``value changed`` for environment variables."""
    if ".environmentVars[" in change.path:
        return "value changed" if change.kind == "changed" else change.kind
    return f"{_short(change.old)} → {_short(change.new)}"


def marker(change: FieldChange) -> str:
    """``needs restart`` or ``metadata — no restart``."""
    return "needs restart" if change.needs_restart else "metadata — no restart"


def changes_html(
    changes: Sequence[FieldChange], *, valid: bool, containers: Sequence[str] = ()
) -> str:
    """The unsaved changes as a table (a note when the form has errors)."""
    if not changes:
        head = f'<span style="{MUTED}">No unsaved changes.</span>'
    else:
        restart = sum(change.needs_restart for change in changes)
        note = f", {restart} need a restart" if restart else ", none needs a restart"
        head = f"<b>Unsaved changes</b> ({len(changes)}{note})"
    if not valid:
        head += (
            '<div style="color:var(--jp-error-color1, #cf222e)">The form has errors (see the '
            "messages beside the fields): Save is disabled until they are fixed.</div>"
        )
    if not changes:
        return head
    rows = []
    for change in changes:
        style = f"color:{RESTART_COLOUR}" if change.needs_restart else MUTED
        rows.append(
            f'<tr><td style="padding:1px 10px 1px 0;{WRAP}"><code>'
            f"{html.escape(field_label(change.path, containers))}</code></td>"
            f'<td style="padding:1px 10px 1px 0;{WRAP}">{html.escape(change_text(change))}</td>'
            f'<td style="padding:1px 0;{style}" class="wl-diff-marker">'
            f"{html.escape(marker(change))}</td></tr>"
        )
    return f'{head}<table style="border-collapse:collapse;font-size:12px">{"".join(rows)}</table>'


def yaml_html(reading: FormReading) -> str:
    """The form as YAML (a secret row as the reference Save will make, never its value)."""
    if reading.artifact is not None:
        text = to_yaml(reading.artifact)
    else:
        text = ""
        with contextlib.suppress(yaml.YAMLError):
            text = "# not valid yet\n" + yaml.safe_dump(reading.wire, sort_keys=False)
    return f'<pre style="margin:0;font-size:12px">{html.escape(text)}</pre>'
