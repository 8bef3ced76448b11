"""The panel's smoke checks: run after every Restart (and Save & Restart), when Lock & Deploy
opens and again right before it locks (the gate), shown as ``✓``/``✗`` per check with the diff
of a failure; after a deploy, the draft's and production's answers side by side.

The checks come from the smoke file beside the notebook (:mod:`workloadlab.smoke`), by the
workload's name; a panel whose workload has none shows nothing of this. The checklist's item
(:func:`smoke_items`) is pure, from what the last run left in the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from workloadlab import smoke
from workloadlab.client.readiness import Check, CheckName, recorded_smoke_check
from workloadlab.commands.describe import one_line
from workloadlab.errors import WorkloadlabError
from workloadlab.models import Deployment, WorkloadStatus
from workloadlab.models.neutral import Workload
from workloadlab.notebook.panel.core import PanelCore
from workloadlab.notebook.panel.state import Message
from workloadlab.notebook.panel.ui import Widget, assign, html, vbox
from workloadlab.smoke.report import results_html
from workloadlab.smoke.storage import shown_path

RUNNING = "running the checks…"
PRODUCTION_START = 600.0
"""How long draft vs deployed waits for a new production workload to run."""


@dataclass(frozen=True)
class SmokeRun:
    """What the panel knows of its workload's smoke checks."""

    where: str
    """The smoke file, as messages name it."""
    results: tuple[smoke.Result, ...] | None = None
    """The last run's results; ``None`` while a run is under way."""
    problem: str | None = None
    """Why the checks could not be run (the file cannot be read)."""
    comparisons: tuple[smoke.Comparison, ...] = ()
    """Draft vs deployed, after a deploy."""
    compared_with: str = ""


def smoke_items(run: SmokeRun | None) -> list[Check]:
    """The checklist's ``recorded smoke checks`` item (none when there are no checks)."""
    if run is None:
        return []
    if run.problem is not None:
        return [Check(CheckName.RECORDED_SMOKE, False, run.problem)]
    if run.results is None:
        return [Check(CheckName.RECORDED_SMOKE, False, RUNNING)]
    return [recorded_smoke_check(run.results)] if run.results else []


def smoke_html(run: SmokeRun) -> str:
    """The view: the results (a line per check, a failure's diff), then draft vs deployed."""
    if run.problem is not None:
        return f"<div>✗ smoke checks not run: {escape(run.problem)}</div>"
    if run.results is None:
        return f"<div><i>Smoke checks ({escape(run.where)}): {RUNNING}</i></div>"
    parts = [results_html(run.results, run.where)] if run.results else []
    if run.comparisons:
        parts.append(f"<div><b>Draft vs {escape(run.compared_with)}</b></div>")
        parts.append(smoke.comparison_html(list(run.comparisons)))
    return "".join(parts)


def refusal(results: Sequence[smoke.Result]) -> Message:
    """Lock & Deploy refused: the failed checks, each with expected and got."""
    failed = "; ".join(r.summary for r in results if not r.ok)
    return Message("error", f"Not locked: a smoke check fails: {failed}")


class SmokeView:
    """The smoke checks' part of the panel (made when the workload first has results)."""

    def __init__(self) -> None:
        self.results: Widget = html("", "wl-smoke")
        self.box: Widget = vbox([self.results], "wl-smoke-box")

    def render(self, run: SmokeRun) -> None:
        """Show ``run``."""
        assign(self.results, value=smoke_html(run))


class PanelSmoke(PanelCore):
    """Running the smoke checks from the panel (on the portal) and drawing their view."""

    _smoke_view: SmokeView | None = None

    def _add_extras(self) -> None:
        raise NotImplementedError

    async def _run_smoke(self) -> list[smoke.Result]:
        """Run the workload's checks (nothing when it has none), showing them as they go."""
        where = shown_path(smoke.smoke_file_path())
        with self._lock:
            workload = self.state.workload
            if self.state.smoke is not None:
                self.state.smoke = SmokeRun(where)
        self._throttle.request()
        try:
            current = await self.session.client.workloads.get(workload.id)
            results = await smoke.run_checks(self.session.client, current)
        except (smoke.SmokeError, WorkloadlabError) as exc:  # the restart itself went well
            with self._lock:
                self.state.smoke = SmokeRun(where, problem=one_line(exc))
            self._throttle.request()
            return []
        with self._lock:
            known = self.state.smoke is not None
            self.state.smoke = SmokeRun(where, tuple(results)) if results or known else None
        self._throttle.request()
        return results

    async def _smoke_gate(self) -> bool:
        """Run the checks right before Lock & Deploy; refuse (a message naming the failed
        checks) unless they all pass."""
        results = await self._run_smoke()
        with self._lock:
            run = self.state.smoke
            if run is not None and run.problem is not None:
                self.state.message = Message("error", f"Not locked: {run.problem}")
                return False
            if all(result.ok for result in results):
                return True
            self.state.message = refusal(results)
        return False

    async def _compare_after_deploy(
        self, draft: Workload, production: Deployment | Workload | None
    ) -> None:
        """Draft vs deployed: the checks sent to both, shown side by side."""
        if production is None or production.id == draft.id:
            return  # promoted in place: production is the draft itself
        with self._lock:
            run = self.state.smoke
        if run is None or not run.results:
            return
        client = self.session.client
        if isinstance(production, Workload) and production.status is not WorkloadStatus.RUNNING:
            try:  # a new production workload (current generation) is still starting
                production = await client.workloads.wait_for_status(
                    production.id, WorkloadStatus.RUNNING, timeout=PRODUCTION_START
                )
            except WorkloadlabError:
                return  # its card says how it went; nothing to compare with
        comparisons = await smoke.draft_vs_deployed(client, draft, production)
        kind = "deployment" if isinstance(production, Deployment) else "production workload"
        with self._lock:
            self.state.smoke = SmokeRun(
                run.where, run.results, None, tuple(comparisons), f"{kind} {production.name}"
            )
        self._throttle.request()

    def _draw_smoke(self) -> None:
        """Draw the view (hold the lock); made when the workload first has results."""
        run = self.state.smoke
        if run is None:
            return
        if self._smoke_view is None:
            self._smoke_view = SmokeView()
            self._add_extras()
        self._smoke_view.render(run)

    @property
    def smoke_view(self) -> SmokeView:
        """The smoke checks' view (tests)."""
        assert self._smoke_view is not None, "no smoke checks shown yet"
        return self._smoke_view
