"""The workload panel: live status, an editable spec form, Restart and Lock & Deploy.

``workloadlab.panel(workload_id=None, *, sidebar=False)`` (or ``%workload panel [ID]
[--sidebar]``) returns a :class:`WorkloadPanel`, an ipywidgets ``VBox``. The parts, one module
each:

- :mod:`.watcher`: one poller per workload per kernel on the portal (the background I/O loop),
  so updates keep coming while cells run or a magic waits.
- :mod:`.throttle`: at most ten redraws a second per panel; the final state is always drawn.
- :mod:`.state`: what the panel knows, and its rules (Lock & Deploy checklist, timeline).
- :mod:`.status`, :mod:`.form` (with :mod:`.fields`), :mod:`.changes`, :mod:`.deploy`: the
  widgets, made through :mod:`.ui` (shared layouts and styles, only changed values sent).
- :mod:`.actions`: Save (with conflict detection), Restart, Lock & Deploy, as coroutines.
- :mod:`.widget`: the panel that wires them; :mod:`.api`: opening and reusing panels.

Stable CSS classes (tests, users' own styling): ``wl-panel``, ``wl-status``, ``wl-message``,
``wl-logs``, ``wl-timeline``, ``wl-diff``, ``wl-save``, ``wl-restart``, ``wl-save-restart``,
``wl-lock-deploy``, ``wl-confirm``, ``wl-deploy-name``, ``wl-deployment``, ``wl-field-image``,
``wl-field-port``, ``wl-env-row``, ``wl-env-name``, ``wl-env-value``, ``wl-env-add``.
"""

from workloadlab.notebook.panel.api import open_panel, open_panels, panel
from workloadlab.notebook.panel.widget import WorkloadPanel

__all__ = ["WorkloadPanel", "open_panel", "open_panels", "panel"]
