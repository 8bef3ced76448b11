"""The current generation's calls on a workload (``workload-api-current.md`` §3.1, §5.4, §5.5):
promote, settings, rolling replacements and their history. On a v2.41 server each raises
:class:`~workloadlab.errors.NotSupportedError` naming v2.41's way (restart, deployments).

A replacement (a settings update is one too) is waited for as the contract says: the workload is
polled until its ``replacement`` is ``null`` or ended, then its ``history`` is read, because
DataRobot drops a finished replacement at once. None of these ``POST``/``PATCH`` requests is
retried: a repeated replacement would queue another swap.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from workloadlab.client._http import Requester
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.resources._base import drop_none, list_params
from workloadlab.client.resources._observing import ObservedResource
from workloadlab.client.waiting import OnChange, wait_for_replacement
from workloadlab.errors import NotFoundError
from workloadlab.models.neutral import Replacement, RuntimeSettings, Workload

HISTORY_PAGE = 10
"""How many history records a replacement wait reads (newest first)."""


class RollingCalls(ObservedResource):
    """Promote, settings and replacements of a workload (the current generation's)."""

    async def promote(self, id: str) -> Workload:
        """Lock the draft a running workload serves, in place: it gets a version, loses its
        time to live, keeps its endpoint, and is not restarted (current generation)."""
        path = await self._url("workload_promote", id)
        response = await self._requester.request("POST", path, retry=False)
        return Requester.parse(Workload, response)

    async def settings(self, id: str) -> RuntimeSettings:
        """The workload's runtime (replicas, resources), as the server sent it: change what you
        need and give it to :meth:`update_settings`; nothing else is lost."""
        return await self._get(RuntimeSettings, "workload_settings", id)

    async def update_settings(
        self,
        id: str,
        runtime: RuntimeSettings | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109
        on_change: OnChange | None = None,
    ) -> Replacement:
        """Replace the workload's runtime and roll it onto its artifact's current spec (the
        current generation's rolling restart: the old instance serves until the new one is
        ready). ``runtime`` defaults to the present one (:meth:`settings`): a rolling restart.

        With ``wait``, returns the finished replacement (see :meth:`wait_for_replacement`),
        else the one the server started. A replacement under way: ``ConflictError``.
        """
        if runtime is None:
            runtime = await self.settings(id)
        if isinstance(runtime, RuntimeSettings):
            runtime = runtime.runtime
        path = await self._url("workload_settings", id)
        response = await self._requester.request(
            "PATCH", path, json={"runtime": dict(runtime)}, retry=False
        )
        started = Requester.parse(Replacement, response)
        return await self._finish(id, started, wait, timeout, on_change)

    async def replace(
        self,
        id: str,
        artifact_id: str,
        *,
        runtime: RuntimeSettings | Mapping[str, Any] | None = None,
        warmup_minutes: float | None = None,
        keep_old_minutes: float | None = None,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109
        on_change: OnChange | None = None,
    ) -> Replacement:
        """Move a running workload onto another artifact, rolling: a candidate starts beside
        it and takes over once ready. Draft to draft, or locked to another locked version
        (lock a draft with :meth:`promote`); ``runtime`` replaces the workload's.

        With ``wait``, returns the finished replacement (see :meth:`wait_for_replacement`),
        else the one the server started.
        """
        if isinstance(runtime, RuntimeSettings):
            runtime = runtime.runtime
        config = drop_none(
            warmupDurationMinutes=warmup_minutes, keepOldVersionMinutes=keep_old_minutes
        )
        body = {"artifactId": artifact_id, "strategy": "rolling"} | drop_none(
            config=config or None, runtime=dict(runtime) if runtime is not None else None
        )
        path = await self._url("workload_replacement", id)
        response = await self._requester.request("POST", path, json=body, retry=False)
        started = Requester.parse(Replacement, response)
        return await self._finish(id, started, wait, timeout, on_change)

    async def replacement(self, id: str) -> Replacement | None:
        """The workload's replacement under way (or just finished), else ``None``."""
        try:
            return await self._get(Replacement, "workload_replacement", id)
        except NotFoundError:
            return None

    async def cancel_replacement(self, id: str) -> None:
        """Stop the replacement under way: the candidate stops, the old instance serves on.
        None under way: ``NotFoundError``."""
        path = await self._url("workload_replacement", id)
        await self._requester.request("DELETE", path, retry=False)

    def history(self, id: str, *, limit: int | None = None) -> AsyncPager[Replacement]:
        """The workload's replacements and settings updates, newest first."""
        return self._pager(Replacement, "workload_history", list_params(limit=limit), id)

    async def wait_for_replacement(
        self,
        id: str,
        replacement_id: str | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        on_change: OnChange | None = None,
    ) -> Replacement:
        """Wait until the workload's replacement is over and return its record: ``completed``
        (the workload runs the candidate) or ``errored``/``failed`` (the old instance serves
        on; ``message`` says why). Not an error either way: check ``status`` (or
        ``succeeded``).

        ``replacement_id`` picks its record from the history (else the newest); ``ValueError``
        if there is none to wait for; :class:`~workloadlab.errors.WaitTimeoutError` after
        ``timeout`` seconds. ``on_change(workload)`` sees the workload first and on each change.
        """
        await self._url("workload_history", id)  # NotSupportedError before any waiting

        async def history() -> builtins.list[Replacement]:
            return (await self.history(id, limit=HISTORY_PAGE)).data

        return await wait_for_replacement(
            lambda seen: self.observe(id, seen),
            history,
            replacement_id=replacement_id,
            timeout=timeout,
            polling=self.polling,
            sleep=self._requester.sleep,
            on_change=on_change,
        )

    async def _finish(
        self,
        id: str,
        started: Replacement,
        wait: bool,
        timeout: float | None,  # noqa: ASYNC109
        on_change: OnChange | None,
    ) -> Replacement:
        if not wait:
            return started
        return await self.wait_for_replacement(id, started.id, timeout=timeout, on_change=on_change)
