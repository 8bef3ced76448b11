"""A live sync in words: the one line the panel and ``%workload sync`` show, and its detail
(the checks after the last sync)."""

from __future__ import annotations

from workloadlab.sync.live import LiveSync, Outcome, SyncState

OFF = "Live sync is off: turn it on to restart the workload whenever its files change."


def files_text(sync: LiveSync) -> str:
    """The files of the last sync, by name, at most three."""
    if sync.last is None:
        return ""
    names = [path.name for path in sync.last.files]
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def headline(sync: LiveSync | None) -> tuple[str, str]:
    """``(mark, words)``: ``✓`` synced, ``✗`` a syntax error or a failed restart, ``⟳``
    watching or syncing, ``⏹`` stopped (``""`` when off)."""
    if sync is None:
        return "", OFF
    roots = ", ".join(str(root) for root in sync.roots)
    if sync.state is SyncState.STOPPED:
        return "⏹", f"Live sync of {sync.name} stopped: {sync.stopped_because}."
    if sync.state is SyncState.SYNCING:
        return "⟳", f"Syncing {sync.name}: restarting on the new code…"
    last = sync.last
    if last is None:
        return "⟳", f"Watching {roots}: a save restarts {sync.name}."
    when = f"{last.ended_at:%H:%M:%S}"
    if last.outcome is Outcome.SYNCED:
        took = f"{last.seconds:.2f} s"
        return "✓", f"Synced {files_text(sync)} at {when} in {took}; watching {roots}."
    if last.outcome in (Outcome.SYNTAX_ERROR, Outcome.MISSING):
        return "✗", f"{last.message} at {when}: the last good instance keeps serving."
    return "✗", f"Sync at {when} failed: {last.message}."


def checks(sync: LiveSync | None) -> tuple[str, ...]:
    """The results of the checks run after the last successful sync."""
    if sync is None or sync.last is None or sync.last.outcome is not Outcome.SYNCED:
        return ()
    return sync.last.checks
