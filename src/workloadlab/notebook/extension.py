"""``%load_ext workloadlab``: register the magics and the tables models display as."""

from __future__ import annotations

from typing import Any


def load(shell: Any) -> None:
    """Register ``%workload``, ``%%artifact`` and the model formatters in ``shell``."""
    from workloadlab.notebook.magics import WorkloadMagics
    from workloadlab.notebook.render import register_formatters

    unload(shell)
    magics = WorkloadMagics(shell=shell, parent=shell)
    shell.register_magics(magics)
    shell.configurables.append(magics)  # so that %config WorkloadMagics.x = y reaches it
    register_formatters(shell)


def unload(shell: Any) -> None:
    """Forget a previously loaded instance (``%reload_ext workloadlab``)."""
    from workloadlab.notebook.magics import WorkloadMagics

    shell.configurables[:] = [c for c in shell.configurables if not isinstance(c, WorkloadMagics)]
