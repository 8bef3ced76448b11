"""The smoke checks as an item of Lock & Deploy's checklist, for any front-end: run the
workload's recorded checks, then ask the client's checklist with their results.

A smoke file that cannot be read fails the item (naming the file and the place), rather than
letting a lock through unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workloadlab.client import AsyncClient, Readiness
from workloadlab.client.readiness import SmokeVerdict
from workloadlab.models.neutral import Workload
from workloadlab.smoke.model import SmokeError
from workloadlab.smoke.running import run_checks


@dataclass(frozen=True)
class Unreadable:
    """The verdict of a smoke file that cannot be read: failed."""

    summary: str
    name: str = "smoke file"
    ok: bool = False


async def smoke_verdicts(
    client: AsyncClient, workload: Workload | str, *, path: Path | None = None
) -> list[SmokeVerdict]:
    """The recorded checks' results for the checklist (a failed one if the file is broken)."""
    try:
        return list(await run_checks(client, workload, path=path))
    except SmokeError as exc:
        return [Unreadable(str(exc))]


async def lock_readiness(
    client: AsyncClient,
    workload_id: str,
    *,
    path: Path | None = None,
    unsaved_edits: bool | None = None,
    smoke: Sequence[str] = (),
) -> Readiness:
    """:meth:`client.workloads.lock_readiness
    <workloadlab.client.resources.workloads.Workloads.lock_readiness>` with the workload's
    recorded smoke checks run first (their item is there when the file holds some)."""
    workload = await client.workloads.get(workload_id)
    verdicts = await smoke_verdicts(client, workload, path=path)
    return await client.workloads.lock_readiness(
        workload_id, unsaved_edits=unsaved_edits, smoke=smoke, smoke_results=verdicts
    )
