"""Pre-flight findings in the panel: beside their fields while the user edits, before Save.

Each reading of the form (:class:`~.form.FormReading`) is checked with the pure rules
(:func:`~workloadlab.models.preflight.check_spec`) for where the workload runs, and sent to
``client.preflight`` on the portal (one request per new spec: edits arrive when a field is
left), whose answer says where the workload runs (the local server's runtime, or DataRobot)
and adds the checks only the local server's machine can answer (the entrypoint's executable,
the image, resources) once it is in. Each finding is placed the way the form places a model's
problem (the API's field path to the field's message), reading "pre-flight error: …" or
"pre-flight warning: …" with its fix. An error blocks Save and
Save & Restart (the reading has no artifact) unless "Save despite pre-flight errors" is ticked;
a warning never blocks. Secret-looking plain values are left to the environment editor, which
already warns beside the row and offers the secret toggle (:mod:`.env`).
"""

from __future__ import annotations

import copy
import html as html_module
import json
import logging
import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from workloadlab.models.preflight import MACHINE_RULES, Finding, Severity, Target, check_spec
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
        self._untick = False
        self.force.observe(lambda _: None if self._untick else on_change(), names="value")
        self._client: AsyncClient | None = None
        self._submit: Callable[[Coroutine[Any, Any, None]], object] | None = None
        self._then: Callable[[], None] | None = None
        self._asked: str | None = None
        """The spec last sent to ``client.preflight`` (as JSON)."""
        self._machine: tuple[str, list[Finding]] | None = None
        """The machine's findings of that spec, once answered."""
        self.summary: Widget = html("", "wl-preflight")
        self.box: Widget = vbox([self.summary, self.force], "wl-preflight-box")
        form.box.children = (*form.box.children, self.box)

    def connect(
        self,
        client: AsyncClient,
        submit: Callable[[Coroutine[Any, Any, None]], object],
        then: Callable[[], None],
        reading: FormReading,
    ) -> None:
        """Check each new reading (from ``reading``, the form's current one) with
        ``client.preflight`` too (``submit`` runs it on the portal): where the workload runs,
        and the machine's findings; ``then`` re-reads the form once they are known. Until then
        (or if the server cannot say), DataRobot's rules and no machine findings."""
        self._client, self._submit, self._then = client, submit, then
        self._machine_findings(reading.wire)

    async def _ask(self, key: str, wire: dict[str, Any]) -> None:
        assert self._client is not None
        try:
            report = await self._client.preflight.check(wire)
        except Exception:
            logger.debug("pre-flight: the server's checks did not answer", exc_info=True)
            return
        if key != self._asked:
            return  # the form changed meanwhile: that reading asked again
        self.target = Target(report.runtime)
        self._machine = (key, [f for f in report.findings if f.rule in MACHINE_RULES])
        if self._then is not None:
            self._then()

    def _machine_findings(self, wire: dict[str, Any]) -> list[Finding]:
        """The machine's findings of ``wire`` if known; else ask for them."""
        key = json.dumps(wire.get("spec"), sort_keys=True, default=str)
        if self._machine is not None and self._machine[0] == key:
            return self._machine[1]
        if self._client is not None and self._submit is not None and self._asked != key:
            self._asked = key
            self._submit(self._ask(key, copy.deepcopy(wire)))
        return []

    def review(self, reading: FormReading) -> None:
        """Add the findings of ``reading`` beside their fields; an error unticked takes the
        reading's artifact away (Save waits for a fix, or the tick). A warning about the
        collapsed probes and resources is listed under the form instead of opening them."""
        self.findings = [
            finding
            for finding in check_spec(reading.wire, self.target)
            + self._machine_findings(reading.wire)
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
        if not errors and self.force.value:  # the tick was for errors now gone, not later ones
            self._untick = True
            try:
                assign(self.force, value=False)
            finally:
                self._untick = False
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
                return not container.advanced.open
        return False
