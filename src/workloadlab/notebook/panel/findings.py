"""Pre-flight findings in the panel: beside their fields while the user edits, before Save.

Each reading of the form (:class:`~.form.FormReading`) is checked with the pure rules
(:func:`~workloadlab.models.preflight.check_spec`) for where the workload runs, learned once
per panel from ``client.preflight`` (the local server's runtime, or DataRobot). Each finding is
placed the way the form places a model's problem (the API's field path to the field's message),
reading "pre-flight error: …" or "pre-flight warning: …" with its fix. An error blocks Save and
Save & Restart (the reading has no artifact) unless "Save despite pre-flight errors" is ticked;
a warning never blocks. Secret-looking plain values are left to the environment editor, which
already warns beside the row and offers the secret toggle (:mod:`.env`).

The checks only the machine can answer (the entrypoint's executable, the image, resources) run
when a spec is sent from the magics; the panel shows the pure rules, which need no round trip
per keystroke.
"""

from __future__ import annotations

import html as html_module
import logging
import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from workloadlab.models.preflight import Finding, Severity, Target, check_spec
from workloadlab.notebook.panel.form import ADVANCED, FormReading, SpecForm
from workloadlab.notebook.panel.ui import FixedRepr, Widget, assign, checkbox, html, vbox

if TYPE_CHECKING:
    from workloadlab.client import AsyncClient

logger = logging.getLogger(__name__)

LEFT_TO_THE_ENV_EDITOR = frozenset({"plain-secret"})
"""Rules whose findings the form shows already, in its own way."""
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def location(path: str) -> tuple[str | int, ...]:
    """``spec.containerGroups[0].containers[1].port`` as a model's ``loc``."""
    return tuple(name if name else int(index) for name, index in _PART.findall(path))


def finding_text(finding: Finding) -> str:
    """The words beside the field: severity, message and fix."""
    fix = f" Fix: {finding.fix}" if finding.fix else ""
    return f"pre-flight {finding.severity.value}: {finding.message}.{fix}"


class PreflightView(FixedRepr):
    """The pre-flight findings of one panel's form, and the choice to save despite errors."""

    _fixed_repr = "<workloadlab PreflightView>"

    def __init__(self, form: SpecForm, on_change: Callable[[], None]) -> None:
        self.form = form
        self.target = Target.DATAROBOT
        """Where the workload runs; DataRobot's rules (the strictest) until the server says."""
        self.findings: list[Finding] = []
        self.force: Widget = checkbox(
            "Save despite pre-flight errors", "wl-preflight-force", display="none"
        )
        self.force.observe(lambda _: on_change(), names="value")
        self.summary: Widget = html("", "wl-preflight")
        self.box: Widget = vbox([self.summary, self.force], "wl-preflight-box")
        form.box.children = (*form.box.children, self.box)

    def learn_target(
        self,
        client: AsyncClient,
        submit: Callable[[Coroutine[Any, Any, None]], object],
        then: Callable[[], None],
    ) -> None:
        """Ask (``submit`` it to the portal) where this client's workloads run; ``then``
        re-reads the form with that target's rules. If the server cannot say, DataRobot's
        stay."""

        async def ask() -> None:
            try:
                report = await client.preflight.check({})
                self.target = Target(report.runtime)
            except Exception:
                logger.debug("pre-flight: where workloads run is unknown", exc_info=True)
                return
            then()

        submit(ask())

    def review(self, reading: FormReading) -> None:
        """Add the findings of ``reading`` beside their fields; an error unticked takes the
        reading's artifact away (Save waits for a fix, or the tick). A warning about the
        collapsed probes and resources is listed under the form instead of opening them."""
        self.findings = [
            finding
            for finding in check_spec(reading.wire, self.target)
            if finding.rule not in LEFT_TO_THE_ENV_EDITOR
        ]
        errors = [f for f in self.findings if f.severity is Severity.ERROR]
        aside: list[Finding] = []
        for finding in self.findings:
            placed = FormReading({})
            self.form._place(placed, location(finding.path), finding_text(finding))
            for key, text in placed.problems.items():
                if finding.severity is not Severity.ERROR and self._folded(key):
                    aside.append(finding)
                    continue
                before = reading.problems.get(key)
                reading.problems[key] = f"{before}; {text}" if before else text
        if errors and not self.force.value:
            reading.artifact = None
        assign(self.force.layout, display="" if errors else "none")
        lines = (
            [f"Pre-flight: {len(errors)} error(s), shown beside their fields."] if errors else []
        )
        lines += [f"{finding.path}: {finding_text(finding)}" for finding in aside]
        text = "<br>".join(html_module.escape(line) for line in lines)
        assign(self.summary, value=f'<span style="font-size:12px">{text}</span>' if text else "")

    def _folded(self, key: str) -> bool:
        """Whether the problem key ``c0.readinessProbe`` is in a collapsed section."""
        if not key.endswith(ADVANCED):
            return False
        index = key.split(".", 1)[0].removeprefix("c")
        for container in self.form.containers:
            if str(container.index) == index:
                return container.advanced.selected_index is None
        return False
