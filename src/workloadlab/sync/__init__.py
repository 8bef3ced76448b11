"""Live sync of a draft: a workload restarts on its new code whenever the app's files change.

``%workload sync`` and the panel's "Live sync" toggle start one (:meth:`Syncs.begin`); the
files (:mod:`.files`) are watched by a thread, and each burst of saves becomes one restart on
the local server, after a compile check that keeps the last good instance serving when a
changed file has a syntax error (:mod:`.live`). After each successful sync the hooks of
:data:`AFTER_SYNC` run (smoke checks). Only against workloadlab's local server: on DataRobot a
code change needs an image build, and sync says so.

On the process runtime the workload runs the files on disk; on the container runtime the
primary container sees them through its ``localMounts`` (:mod:`workloadlab.models.local`).
"""

from workloadlab.sync.files import SyncRefused, SyntaxProblem, syntax_problems, watched_roots
from workloadlab.sync.live import AFTER_SYNC, AfterSync, LiveSync, Outcome, SyncRecord, SyncState
from workloadlab.sync.registry import NOT_LOCAL, Syncs, roots_text, syncs_of

__all__ = [
    "AFTER_SYNC",
    "NOT_LOCAL",
    "AfterSync",
    "LiveSync",
    "Outcome",
    "SyncRecord",
    "SyncRefused",
    "SyncState",
    "Syncs",
    "SyntaxProblem",
    "roots_text",
    "syncs_of",
    "syntax_problems",
    "watched_roots",
]
