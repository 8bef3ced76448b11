"""``%load_ext workloadlab``: register the magics.

Kept light on purpose: nothing of the client is imported until the first ``%workload``. The
models display as tables by themselves (:mod:`workloadlab.models.shown`), with or without it.
"""

from __future__ import annotations

from typing import Any


def load(shell: Any) -> None:
    """Register ``%workload`` and ``%%artifact`` in ``shell``."""
    from workloadlab.notebook.magics import WorkloadMagics

    unload(shell)
    magics = WorkloadMagics(shell=shell, parent=shell)
    shell.register_magics(magics)
    shell.configurables.append(magics)  # so that %config WorkloadMagics.x = y reaches it


def unload(shell: Any) -> None:
    """Forget a previously loaded instance (``%reload_ext workloadlab``)."""
    from workloadlab.notebook.magics import WorkloadMagics

    shell.configurables[:] = [c for c in shell.configurables if not isinstance(c, WorkloadMagics)]
