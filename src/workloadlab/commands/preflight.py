"""The pre-flight gate of the commands that send a spec (``%workload create``, ``%%artifact``):
the findings of ``client.preflight`` listed one line each, and a refusal naming ``--force``
while any is an error. Warnings never block. The panel's Save has its own gate
(:mod:`workloadlab.notebook.panel.findings`)."""

from __future__ import annotations

from typing import Any

from workloadlab.commands.base import CommandError, Context
from workloadlab.models.preflight import PreflightReport, blocking, spec_of, summary


def gate(ctx: Context, data: Any, *, force: bool, refused: str) -> PreflightReport | None:
    """Check the spec in ``data`` (as the user wrote it) where it would run, print the
    findings, and raise :class:`CommandError` (``refused``: "not created") if one is an error,
    unless ``force``. ``None`` when ``data`` holds no spec (a rename)."""
    if spec_of(data) is None:
        return None
    report: PreflightReport = ctx.run(ctx.client.preflight.check(data))
    if report.findings:
        print(f"Pre-flight checks ({report.runtime}): {summary(report.findings)}")
        for finding in report.findings:
            print(f"  {finding.line()}")
    errors = blocking(report.findings)
    if errors and not force:
        n = len(errors)
        raise CommandError(
            f"{refused}: the pre-flight checks found {n} error{'s' if n != 1 else ''} (listed"
            " above): fix the spec, or pass --force to send it anyway"
        )
    return report


def add_force(parser: Any) -> None:
    """The ``--force`` of a command that sends a spec."""
    parser.add_argument(
        "--force", action="store_true", help="send the spec even if pre-flight checks find errors"
    )
