"""Smoke results in words, for every front-end: a headline, then a ``✓``/``✗`` line per check
and, under a failure, its diff (``-`` expected, ``+`` got)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from workloadlab.smoke.running import Result

OK_COLOUR = "var(--jp-success-color1, #1a7f37)"
BAD_COLOUR = "var(--jp-error-color1, #cf222e)"


def headline(results: Sequence[Result], where: str) -> str:
    """``Smoke checks of hello (workloadlab-smoke.yaml): 1 of 2 failed``."""
    workload = results[0].workload if results else "?"
    failed = sum(not r.ok for r in results)
    verdict = f"{failed} of {len(results)} failed" if failed else f"all {len(results)} passed"
    return f"Smoke checks of {workload} ({where}): {verdict}"


def verdict_line(results: Sequence[Result]) -> str:
    """One line for all the checks (``""`` when there are none): ``✓ 2 smoke checks passed``,
    or ``✗ 1 of 2 smoke checks failed:`` and each failure's summary."""
    if not results:
        return ""
    failed = [result for result in results if not result.ok]
    if not failed:
        return f"✓ {len(results)} smoke check{'s' if len(results) > 1 else ''} passed"
    return f"✗ {len(failed)} of {len(results)} smoke checks failed: " + "; ".join(
        result.summary for result in failed
    )


def results_text(results: Sequence[Result], where: str) -> str:
    """The headline, a line per check, the diff of each failure (indented)."""
    lines = [headline(results, where)]
    for result in results:
        lines.append(f"{'✓' if result.ok else '✗'} {result.summary}")
        if not result.ok:
            lines += [f"    {line}" for line in result.diff_lines()]
    return "\n".join(lines)


def results_html(results: Sequence[Result], where: str) -> str:
    """The same as HTML: a line per check, the diff of a failure in a ``<pre>``."""
    parts = [f"<div class='wl-smoke-headline'><b>{html.escape(headline(results, where))}</b></div>"]
    for result in results:
        mark, colour = ("✓", OK_COLOUR) if result.ok else ("✗", BAD_COLOUR)
        parts.append(
            f"<div class='wl-smoke-result'><span style='color:{colour};font-weight:600'>"
            f"{mark}</span> {html.escape(result.summary)}</div>"
        )
        if not result.ok:
            diff = html.escape("\n".join(result.diff_lines()))
            parts.append(f"<pre class='wl-smoke-diff' style='margin:2px 0 4px 1.5em'>{diff}</pre>")
    return "".join(parts)
