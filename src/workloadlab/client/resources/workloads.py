"""``client.workloads``: create, list, start, stop, restart, wait, watch, logs, invoke (and
its streams and sockets: :mod:`~workloadlab.client.resources._streaming`), and
whether one is ready to be locked and deployed (:meth:`Workloads.lock_readiness`), alike on both
generations of the API; promote, settings and replacements (the current generation's) come from
:class:`~workloadlab.client.resources.rolling.RollingCalls`."""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from typing import Any, overload

import httpx

from workloadlab.client._http import Requester
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.paths import Generation
from workloadlab.client.readiness import (
    Check,
    CheckName,
    Readiness,
    SmokeVerdict,
    assess,
    recorded_smoke_check,
    smoke_check,
)
from workloadlab.client.resources._base import Body, drop_none, list_params, wire_body
from workloadlab.client.resources._streaming import StreamingCalls
from workloadlab.client.resources.rolling import RollingCalls
from workloadlab.client.waiting import (
    OnChange,
    Polling,
    as_statuses,
    wait_for_status,
    watch,
)
from workloadlab.errors import WaitTimeoutError, WorkloadlabError
from workloadlab.models import Deployment, Event, LogRecord, Operation, WorkloadStatus
from workloadlab.models.neutral import Artifact, CreateWorkload, InputArtifact, Runtime, Workload

LOG_TAIL_LINES = 20


class Workloads(RollingCalls, StreamingCalls):
    """Workloads: containers running an artifact (``/console/workloads/`` on v2.41,
    ``/workloads/`` on the current generation)."""

    _invoke_route = "workload_invoke"

    @overload
    async def create(
        self, body: CreateWorkload | Mapping[str, Any], /, *, idempotency_key: str | None = None
    ) -> Workload: ...

    @overload
    async def create(
        self,
        /,
        *,
        name: str,
        artifact: InputArtifact | Artifact | Mapping[str, Any] | None = None,
        artifact_id: str | None = None,
        runtime: Runtime | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Workload: ...

    async def create(
        self,
        body: Body | None = None,
        /,
        *,
        name: str | None = None,
        artifact: InputArtifact | Artifact | Mapping[str, Any] | None = None,
        artifact_id: str | None = None,
        runtime: Runtime | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Workload:
        """Create a workload and start it (status ``submitted``).

        Give exactly one of ``artifact`` (an inline draft, created with the workload) or
        ``artifact_id``; or a whole ``CreateWorkload`` body. Retried on gateway errors only
        with an ``idempotency_key`` (sent as the ``Idempotency-Key`` header).
        """
        if body is None:
            if isinstance(artifact, Artifact):
                artifact = artifact.to_input()
            body = drop_none(name=name, artifact=artifact, artifactId=artifact_id, runtime=runtime)
        elif any(v is not None for v in (name, artifact, artifact_id, runtime)):
            raise TypeError("give either a body or keyword arguments, not both")
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        payload = wire_body(CreateWorkload, body)  # refused before anything is sent
        response = await self._requester.request(
            "POST",
            await self._url("workloads"),
            json=await self._in_words_of_server(payload),
            headers=headers,
            retry=idempotency_key is not None,
        )
        return Requester.parse(Workload, response)

    def list(
        self,
        *,
        search: str | None = None,
        status: str | Collection[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> AsyncPager[Workload]:
        """Workloads, filtered by name (``search``) and ``status`` (one or several).

        ``await`` it for the first page; ``async for`` goes through all pages. ``limit`` is the
        page size (at most 100).
        """
        if status is not None:
            status = sorted(as_statuses(status))
        params = list_params(search=search, status=status, limit=limit, offset=offset)
        return self._pager(Workload, "workloads", params)

    async def get(self, id: str) -> Workload:
        """One workload."""
        return await self._get(Workload, "workload", id)

    async def delete(self, id: str, *, force: bool = False) -> None:
        """Delete a workload (the server stops it first); its artifact is kept.

        One that backs a deployment is a ``ConflictError`` naming it on the local server,
        unless ``force`` (which deletes the deployment too: ``workload-api.md`` §8; the current
        generation has no deployments, and ignores it).
        """
        path = await self._url("workload", id)
        await self._requester.request("DELETE", path, params=await self._forced(force))

    async def start(self, id: str, *, force: bool = False) -> Operation:
        """Ask the server to start a ``stopped`` or ``errored`` workload (no-op if running);
        ``force`` past the deployment it backs (as for :meth:`delete`)."""
        path = await self._url("workload_start", id)
        response = await self._requester.request(
            "POST", path, params=await self._forced(force), retry=True
        )
        return Requester.parse(Operation, response)

    async def stop(self, id: str, *, force: bool = False) -> Operation:
        """Ask the server to stop a workload (no-op if stopped); ``force`` past the deployment
        it backs (as for :meth:`delete`)."""
        path = await self._url("workload_stop", id)
        response = await self._requester.request(
            "POST", path, params=await self._forced(force), retry=True
        )
        return Requester.parse(Operation, response)

    async def restart(
        self,
        id: str,
        *,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109
        on_change: OnChange | None = None,
        force: bool = False,
    ) -> Workload:
        """Stop, wait for ``stopped``, start, and (with ``wait``) wait for ``running``.

        This is how a running workload picks up its artifact's current spec; ``force`` restarts
        one that backs a deployment (see :meth:`delete`). ``timeout`` bounds the whole restart
        (:class:`~workloadlab.errors.WaitTimeoutError`); a workload that goes ``errored``
        raises :class:`~workloadlab.errors.WorkloadErroredError`.
        ``on_change`` sees each new state on the way (see :meth:`wait_for_status`).
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - loop.time())

        try:
            await self.stop(id, force=force)
            await self.wait_for_status(
                id,
                [WorkloadStatus.STOPPED, WorkloadStatus.ERRORED],
                timeout=remaining(),
                on_change=on_change,
            )
            await self.start(id, force=force)
            if not wait:
                return await self.get(id)
            return await self.wait_for_status(
                id, WorkloadStatus.RUNNING, timeout=remaining(), on_change=on_change
            )
        except WaitTimeoutError as exc:
            assert timeout is not None  # only a deadline makes waits time out
            raise WaitTimeoutError(
                exc.workload, waiting_for=f"{exc.waiting_for} (restart)", timeout=timeout
            ) from None

    async def wait_for_status(
        self,
        id: str,
        status: str | Collection[str],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        on_change: OnChange | None = None,
    ) -> Workload:
        """Poll until the workload has ``status`` (one or several) and return it.

        Raises :class:`~workloadlab.errors.WorkloadErroredError` (with ``statusDetails`` and
        the log tail) if it goes ``errored`` instead, unless ``errored`` is awaited, and
        :class:`~workloadlab.errors.WaitTimeoutError` after ``timeout`` seconds.
        ``on_change(workload)`` is called when it is first seen and on each change (progress
        lines); it runs on the event loop, so keep it quick.
        """
        return await wait_for_status(
            lambda seen: self.observe(id, seen),
            status,
            timeout=timeout,
            polling=self.polling,
            sleep=self._requester.sleep,
            log_tail=lambda: self._log_tail(id),
            on_change=on_change,
        )

    def watch(self, id: str, *, polling: Polling | None = None) -> AsyncIterator[Workload]:
        """The workload now, then again each time it changes; runs until you stop iterating.

        Polls fast while a transition is under way, every ``polling.stable`` seconds when
        nothing happens. A deleted workload ends it with ``NotFoundError``.
        """
        polling = polling or self.polling
        return watch(
            lambda seen: self.observe(id, seen, polling=polling),
            polling=polling,
            sleep=self._requester.sleep,
        )

    def events(self, id: str, *, limit: int | None = None) -> AsyncPager[Event]:
        """The workload's lifecycle and audit trail, newest first."""
        return self._pager(Event, "workload_events", list_params(limit=limit), id)

    def logs(
        self,
        id: str,
        *,
        limit: int | None = None,
        offset: int | None = None,
        start_time: dt.datetime | str | None = None,
        end_time: dt.datetime | str | None = None,
        level: str | None = None,
    ) -> AsyncPager[LogRecord]:
        """The lines the workload's containers wrote, newest first (``level`` is a minimum)."""
        params = list_params(
            limit=limit, offset=offset, startTime=start_time, endTime=end_time, level=level
        )
        return self._pager(LogRecord, "workload_logs", params, id)

    async def _forced(self, force: bool) -> dict[str, str] | None:
        """The query of an action forced past the deployment a workload backs (the local
        server's v2.41 extension; the current generation has no deployments)."""
        if not force or await self._generation() is not Generation.V2_41:
            return None
        return {"force": "true"}

    async def _log_tail(self, id: str) -> builtins.list[str]:
        page = await self.logs(id, limit=LOG_TAIL_LINES)
        return [record.message for record in reversed(page.data)]

    async def invoke(
        self,
        id: str,
        path: str = "/",
        *,
        method: str = "GET",
        params: Any = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109
    ) -> httpx.Response:
        """Send a request to the workload's app at ``path``; return its answer as it is.

        The app's error statuses are not raised (call ``raise_for_status()``); idempotent
        methods are retried on ``502``/``503``/``504``. ``timeout=None`` is the client's.
        """
        return await self._invoke(
            "workload_invoke", id, path, method=method, params=params, json=json,
            content=content, headers=headers, timeout=timeout,
        )  # fmt: skip

    async def lock_readiness(
        self,
        id: str,
        *,
        unsaved_edits: bool | None = None,
        smoke: Sequence[str] = (),
        smoke_results: Sequence[SmokeVerdict] | None = None,
    ) -> Readiness:
        """Whether the workload may be locked and deployed: the ordered checklist of
        :mod:`workloadlab.client.readiness` and its verdict (``.ok``, ``.failed``).

        ``unsaved_edits`` (a form's) adds that check; ``smoke`` paths are each sent a ``GET``
        through the invoke proxy (when the workload runs), and must answer below 400;
        ``smoke_results`` (the recorded checks' run, :func:`workloadlab.smoke.run_checks`)
        must all pass.
        """
        workload = await self.with_running_since(await self.get(id))
        artifact_id = workload.artifact_id or (workload.artifact.id if workload.artifact else None)
        if artifact_id is None:
            raise ValueError(f"workload {id} names no artifact")
        artifact, deployments = await asyncio.gather(
            self._get(Artifact, "artifact", artifact_id), self._deployments_of(id)
        )
        extra = [await self._smoke(workload, smoke)] if smoke else []
        if smoke_results:
            extra.append(recorded_smoke_check(smoke_results))
        return assess(workload, artifact, deployments, unsaved_edits=unsaved_edits, extra=extra)

    async def with_running_since(self, workload: Workload) -> Workload:
        """``workload``, with (on the current generation, whose workloads do not say it) the
        time its serving instance became ready, from its active proton (§3.4): what the
        ``runs the saved spec`` check judges by on a server that reports no spec digests.
        A rolling restart starts a new proton, so its time counts as a (re)start."""
        if (
            workload.running_since is not None
            or workload.status is not WorkloadStatus.RUNNING
            or await self._generation() is Generation.V2_41
        ):
            return workload
        path = await self._url("workload_protons", workload.id)
        try:
            protons = (await self._requester.request("GET", path)).json().get("data") or []
        except WorkloadlabError:  # not served there: judged as before (not running since)
            return workload
        active = [p for p in protons if isinstance(p, dict) and p.get("role") == "active"]
        since = active[0].get("runningSince") if active else None
        if not isinstance(since, str):
            return workload
        return workload.model_copy(update={"running_since": dt.datetime.fromisoformat(since)})

    async def _deployments_of(self, id: str) -> builtins.list[Deployment]:
        """The deployments of workload ``id`` (the current generation has none)."""
        if await self._generation() is not Generation.V2_41:
            return []
        pager = self._pager(Deployment, "deployments", list_params(wid=id))
        return [d async for d in pager if d.workload_id == id]

    async def _smoke(self, workload: Workload, paths: Sequence[str]) -> Check:
        if workload.status != WorkloadStatus.RUNNING:
            return Check(CheckName.SMOKE_CHECKS, False, "not sent: the workload is not running")
        answers: builtins.list[tuple[str, int | str]] = []
        for path in paths:
            path = "/" + path.lstrip("/")
            try:
                response = await self.invoke(workload.id, path)
            except WorkloadlabError as exc:
                answers.append((path, str(exc).splitlines()[0]))
            else:
                answers.append((path, response.status_code))
        return smoke_check(answers)
