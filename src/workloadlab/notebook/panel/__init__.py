"""The workload panel: live status, an editable spec form, Restart and Lock & Deploy.

``workloadlab.panel(workload_id=None, *, sidebar=False)`` (or ``%workload panel [ID]
[--sidebar]``) returns a :class:`WorkloadPanel`, an ipywidgets ``VBox``. The parts, one module
each:

- :mod:`.watcher`: one poller per workload per kernel on the portal (the background I/O loop),
  so updates keep coming while cells run or a magic waits.
- :mod:`.throttle`: at most ten redraws a second per panel; the final state is always drawn.
- :mod:`.state`: what the panel knows (and the timeline); :mod:`.checklist`: Lock & Deploy's
  checklist, the client's readiness checks on what the panel holds.
- :mod:`.decisions`: which buttons are on and why, the words of each outcome, what the
  watcher's news lead to; :mod:`.merging`: Compare's three-way merge and its choices;
  :mod:`.versions`: the card's version chooser (what it lists, whether Move is on and why,
  what a change of version says). Pure functions, unit-tested without widgets.
- :mod:`.status`, :mod:`.form` (with :mod:`.fields`, :mod:`.env` and :mod:`.untouched`: what
  was not edited goes back as it came), :mod:`.changes`, :mod:`.deploy`, :mod:`.card` (the
  deployment card) with :mod:`.mover` (its version chooser and Move), :mod:`.conflict`
  (Reload, Compare and the choices): the widgets, made through :mod:`.ui` (shared layouts and
  styles, only changed values sent).
- :mod:`.actions`: Save (with conflict detection and secrets stored as credentials), Restart,
  Lock & Deploy, Delete deployment, as coroutines (Move deployment is in :mod:`.mover`).
- :mod:`.widget`: the panel that wires them, with its parts :mod:`.news` (the watcher's news),
  :mod:`.flows` (the actions on the portal), :mod:`.display` (inline or in the sidebar) and
  :mod:`.core` (what they share); :mod:`.api`: opening and reusing panels.

Stable CSS classes (tests, users' own styling): ``wl-panel``, ``wl-status``, ``wl-message``,
``wl-logs``, ``wl-timeline``, ``wl-diff``, ``wl-save``, ``wl-restart``, ``wl-save-restart``,
``wl-lock-deploy``, ``wl-button-note``, ``wl-confirm``, ``wl-deploy-name``, ``wl-deployment``,
``wl-deployment-delete``, ``wl-deployment-confirm-delete``, ``wl-deployment-cancel``,
``wl-rollout``, ``wl-version-choice``, ``wl-version-move``, ``wl-version-note``,
``wl-version-question``, ``wl-version-confirm``, ``wl-version-cancel``,
``wl-conflict``, ``wl-reload``, ``wl-compare``, ``wl-merge``, ``wl-merge-row``,
``wl-merge-choice``, ``wl-field-image``, ``wl-field-port``, ``wl-env-row``, ``wl-env-name``,
``wl-env-value``, ``wl-env-secret``, ``wl-secret-warning``, ``wl-env-add``, ``wl-advanced``,
``wl-advanced-toggle``, ``wl-advanced-content``, ``wl-live``, ``wl-focus-target``,
``wl-disconnected``, ``wl-endpoint``, ``wl-copy``.

Everyday use (:mod:`.style`, :mod:`.live`, :mod:`.focus`, :mod:`.stale`, :mod:`.disclosure`,
:mod:`.endpoint`): one stylesheet per panel (theme colours that pass AA, a focus outline, the
sidebar's narrow layout, the look of a dead kernel's panel), a ``role=status`` live region,
focus moved where the user works, a keyboard disclosure for probes and resources, short
endpoints with a Copy button; a dead kernel's sidebar tabs close when a live panel shows.
"""

from workloadlab.notebook.panel.api import open_panel, open_panels, panel
from workloadlab.notebook.panel.widget import WorkloadPanel

__all__ = ["WorkloadPanel", "open_panel", "open_panels", "panel"]
