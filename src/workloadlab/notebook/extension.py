"""``%load_ext workloadlab``: register the magics and the tables models display as.

Kept light on purpose: formatters are registered by type *name*, so neither the models nor
pydantic are imported until a model is actually displayed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_TABLES = {
    ("workloadlab.models.neutral.workloads", "Workload"): ("workload_html", "workload_text"),
    ("workloadlab.models.resources", "Deployment"): ("deployment_html", "deployment_text"),
    ("workloadlab.models.neutral.artifacts", "Artifact"): ("artifact_html", "artifact_text"),
}
"""The models shown as tables (by module and name), with the renderers of each."""


def _render(name: str) -> Callable[[Any], str]:
    def render(obj: Any) -> str:
        from workloadlab.commands import render as module

        result: str = getattr(module, name)(obj)
        return result

    return render


def _pretty(name: str) -> Callable[[Any, Any, bool], None]:
    as_text = _render(name)

    def pretty(obj: Any, printer: Any, cycle: bool) -> None:
        printer.text(as_text(obj))

    return pretty


def load(shell: Any) -> None:
    """Register ``%workload``, ``%%artifact`` and the model formatters in ``shell``."""
    from workloadlab.notebook.magics import WorkloadMagics

    unload(shell)
    magics = WorkloadMagics(shell=shell, parent=shell)
    shell.register_magics(magics)
    shell.configurables.append(magics)  # so that %config WorkloadMagics.x = y reaches it
    formatters = shell.display_formatter.formatters
    for (module, model), (as_html, as_text) in _TABLES.items():
        formatters["text/html"].for_type_by_name(module, model, _render(as_html))
        formatters["text/plain"].for_type_by_name(module, model, _pretty(as_text))


def unload(shell: Any) -> None:
    """Forget a previously loaded instance (``%reload_ext workloadlab``)."""
    from workloadlab.notebook.magics import WorkloadMagics

    shell.configurables[:] = [c for c in shell.configurables if not isinstance(c, WorkloadMagics)]
