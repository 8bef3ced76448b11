"""Draft vs deployed: the same checks' requests sent to the draft workload and to what serves
production (a v2.41 deployment, or the current generation's production workload), the answers
side by side with whether they are the same.

"The same" is judged on what each check compares (status, plus its fields or its whole body),
so an answer field the check ignores (a pid, a timestamp) does not make them differ.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from workloadlab.client import AsyncClient
from workloadlab.models import Deployment
from workloadlab.models.neutral import Workload
from workloadlab.smoke.fields import shown
from workloadlab.smoke.running import Result, run_against, run_checks


@dataclass(frozen=True)
class Comparison:
    """One check's answers from the draft and from production."""

    name: str
    draft: Result
    deployed: Result

    @property
    def differing(self) -> list[str]:
        """Where the two answers differ (``status``, JSON pointers, ``answer``)."""
        if self.draft.error is not None or self.deployed.error is not None:
            return [] if self.draft.error == self.deployed.error else ["answer"]
        found = ["status"] if self.draft.status != self.deployed.status else []
        return found + [d.label for d in self.draft.differences_from(self.deployed)]

    @property
    def same(self) -> bool:
        """Whether both answered the same (on what the check compares)."""
        return not self.differing

    @property
    def verdict(self) -> str:
        """``same``, or ``different: /greeting``."""
        return "same" if self.same else "different: " + ", ".join(self.differing)


def answer_text(result: Result) -> str:
    """An answer as the table shows it: status and what the check compares."""
    if result.error is not None:
        return result.error
    return f"{result.status} {shown(result.compared)}"


def pair(draft: list[Result], deployed: list[Result]) -> list[Comparison]:
    """The two runs' results, check by check (both ran the same checks, in name order)."""
    theirs = {result.name: result for result in deployed}
    return [Comparison(r.name, r, theirs[r.name]) for r in draft if r.name in theirs]


async def draft_vs_deployed(
    client: AsyncClient,
    draft: Workload,
    production: Deployment | Workload,
    *,
    path: Path | None = None,
) -> list[Comparison]:
    """Run the draft's checks against ``draft`` and ``production``; pair the answers."""
    ours = await run_checks(client, draft, path=path)
    theirs = await run_against(client, draft.name, production, path=path)
    return pair(ours, theirs)


HEADINGS = ("check", "draft answer", "deployed answer", "same?")


def rows(comparisons: list[Comparison]) -> list[tuple[str, str, str, str]]:
    """The table's rows: check, draft answer, deployed answer, same or different."""
    return [(c.name, answer_text(c.draft), answer_text(c.deployed), c.verdict)
            for c in comparisons]  # fmt: skip


def comparison_text(comparisons: list[Comparison]) -> str:
    """The table as text, columns aligned."""
    table = [HEADINGS, *rows(comparisons)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADINGS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    )


def comparison_html(comparisons: list[Comparison]) -> str:
    """The table as HTML (a same/different cell per check)."""
    head = "".join(f"<th style='text-align:left'>{h}</th>" for h in HEADINGS)
    body = []
    for comparison, row in zip(comparisons, rows(comparisons), strict=True):
        cells = "".join(f"<td><code>{html.escape(cell)}</code></td>" for cell in row[:3])
        mark = "✓" if comparison.same else "✗"
        body.append(f"<tr>{cells}<td>{mark} {html.escape(row[3])}</td></tr>")
    return (
        f"<table class='wl-smoke-compare'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
