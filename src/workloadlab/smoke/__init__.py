"""Smoke checks: requests recorded from the notebook with what their answers must show, kept in
a reviewable YAML file beside the notebook (``workloadlab-smoke.yaml``, by workload name), run
after every restart, required by Lock & Deploy, and run against the deployment afterwards (draft
vs deployed).

- :mod:`.model`: the file's model (checks, expectations), the secret refusals;
- :mod:`.storage`: where the file is, reading and writing it;
- :mod:`.fields`: JSON pointers and dotted paths, and the leaf-by-leaf diff;
- :mod:`.running`: :func:`run_checks` (the one entry point), :class:`Result`;
- :mod:`.compare`: draft vs deployed, side by side;
- :mod:`.gate`: the checklist item (:func:`lock_readiness` runs the checks first).

The package sits above the client (it only talks to the Workload API through it) and below the
front-ends (magics, panel, CLI).
"""

from __future__ import annotations

from workloadlab.smoke.compare import (
    Comparison,
    comparison_html,
    comparison_text,
    draft_vs_deployed,
)
from workloadlab.smoke.fields import FieldError, to_pointer
from workloadlab.smoke.gate import lock_readiness, smoke_verdicts
from workloadlab.smoke.model import Expectation, SmokeCheck, SmokeError, SmokeFile, SmokeRequest
from workloadlab.smoke.running import Result, run_against, run_checks
from workloadlab.smoke.storage import load, save, smoke_file_path, update

__all__ = [
    "Comparison",
    "Expectation",
    "FieldError",
    "Result",
    "SmokeCheck",
    "SmokeError",
    "SmokeFile",
    "SmokeRequest",
    "comparison_html",
    "comparison_text",
    "draft_vs_deployed",
    "load",
    "lock_readiness",
    "run_against",
    "run_checks",
    "save",
    "smoke_file_path",
    "smoke_verdicts",
    "to_pointer",
    "update",
]
