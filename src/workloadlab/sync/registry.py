"""Starting and stopping live syncs: at most one per workload and owner (a kernel's session).

:func:`begin` checks first what makes a sync pointless or wrong, each a one-line
:class:`~workloadlab.sync.files.SyncRefused`: a server that is not workloadlab's local server
(on DataRobot, code changes need an image build), a registered artifact (its version must not
change under it), nothing to watch. A second sync of a workload replaces the first.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

from workloadlab.client import AsyncClient
from workloadlab.models import ArtifactStatus
from workloadlab.sync.files import SyncRefused, required_files, watched_roots
from workloadlab.sync.live import LiveSync

NOT_LOCAL = (
    "live sync runs against workloadlab's local server only: on DataRobot a code change"
    " needs an image build (build and push the image, then save its imageUri and restart)"
)


class Syncs:
    """The live syncs of one owner, by workload id."""

    def __init__(self) -> None:
        self._syncs: dict[str, LiveSync] = {}

    def get(self, workload_id: str) -> LiveSync | None:
        """The workload's live sync, if one runs."""
        found = self._syncs.get(workload_id)
        return found if found is not None and found.running else None

    async def begin(
        self,
        client: AsyncClient,
        workload_id: str,
        path: str | os.PathLike[str] | None = None,
        *,
        step_ms: int | None = None,
    ) -> LiveSync:
        """Start a live sync of the workload (replacing its running one); refused with a
        one-line reason where it cannot work."""
        server = await client.local_server()
        if server is None:
            raise SyncRefused(NOT_LOCAL)
        workload = await client.workloads.get(workload_id)
        if workload.artifact_id is None:
            raise SyncRefused(f"{workload.name} has no artifact")
        artifact = await client.artifacts.get(workload.artifact_id)
        if artifact.status is ArtifactStatus.LOCKED:
            raise SyncRefused(
                f"the artifact of {workload.name} is registered: what it runs cannot change"
                " (sync a workload of a draft)"
            )
        wire = artifact.spec.to_wire()
        roots = watched_roots(wire, server, path)
        await self.end(workload_id)
        required = required_files(wire, server)
        sync = LiveSync(client, workload_id, workload.name, tuple(roots), required)
        if step_ms is not None:
            sync.step_ms = step_ms
        self._syncs[workload_id] = sync
        sync.start()
        await sync.watching()  # a save right after this call is seen
        return sync

    async def end(self, workload_id: str) -> LiveSync | None:
        """Stop the workload's live sync; the one stopped, if any ran."""
        sync = self._syncs.pop(workload_id, None)
        if sync is not None:
            await sync.stop()
        return sync

    async def end_all(self) -> None:
        """Stop every live sync."""
        for workload_id in list(self._syncs):
            await self.end(workload_id)


_by_owner: weakref.WeakKeyDictionary[object, Syncs] = weakref.WeakKeyDictionary()


def syncs_of(owner: object) -> Syncs:
    """The live syncs of ``owner`` (a kernel's session: the magics and the panel share them)."""
    found = _by_owner.get(owner)
    if found is None:
        found = _by_owner[owner] = Syncs()
    return found


def roots_text(roots: tuple[Path, ...]) -> str:
    """The watched paths, for a line of text."""
    return ", ".join(str(root) for root in roots)
