"""Running smoke checks: send each check's request through the invoke proxy (a workload's, or
a deployment's) and judge the answer: status, the selected fields (or the whole body), latency.

:func:`run_checks` is the one entry point every front-end uses (the magics after a restart,
the panel, Lock & Deploy's checklist, live sync after each sync): the checks the smoke file
holds for the workload's name, run one after another against it. A :class:`Result` says
which check, what was expected and what came back, in one line (:attr:`Result.summary`) and as a
diff (:meth:`Result.diff_lines`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from workloadlab.client import AsyncClient
from workloadlab.errors import WorkloadlabError
from workloadlab.models import Deployment, WorkloadStatus
from workloadlab.models.neutral import Workload
from workloadlab.smoke.fields import Difference, differences, resolve
from workloadlab.smoke.model import SmokeCheck
from workloadlab.smoke.storage import load, smoke_file_path

ANSWER_SECONDS = 30.0
"""A check's whole answer must have come within this long, or within its latency budget when
it has one: an answer that never ends (an event stream) or a hung app fails the check rather
than holding Lock & Deploy (a stream that keeps sending never trips the client's read
timeout)."""

Invoke = Callable[..., Awaitable[httpx.Response]]
"""``invoke(path, *, method, json, headers)``: a workload's or a deployment's invoke, bound
to its id."""


@dataclass(frozen=True)
class Result:
    """One check's run: what came back, and how it differs from what was expected."""

    workload: str
    name: str
    check: SmokeCheck
    status: int | None = None
    answer: Any = None
    """The answer's JSON (its text when it is not JSON); none without an answer."""
    elapsed_ms: float | None = None
    differences: tuple[Difference, ...] = ()
    error: str | None = None
    """Why no answer came (the request failed, or was not sent)."""

    @property
    def ok(self) -> bool:
        """Whether the answer showed everything expected, in time."""
        return self.error is None and not self.differences

    @property
    def title(self) -> str:
        """``greeting (GET /)``."""
        return f"{self.name} ({self.check.request.describe()})"

    @property
    def summary(self) -> str:
        """One line: which check, and what was expected and came back (or how it passed)."""
        if self.error is not None:
            return f"{self.title}: {self.error}"
        if self.differences:
            return f"{self.title}: " + "; ".join(str(d) for d in self.differences)
        took = f" in {self.elapsed_ms:.0f} ms" if self.elapsed_ms is not None else ""
        return f"{self.title}: {self.status}{took}, as expected"

    def diff_lines(self) -> list[str]:
        """The failure as a diff: ``- expected`` and ``+ got`` per difference."""
        if self.error is not None:
            return [f"! {self.error}"]
        lines = []
        for d in self.differences:
            lines += [f"- {d.label}: {d.show(d.expected)}", f"+ {d.label}: {d.show(d.got)}"]
        return lines

    @property
    def compared(self) -> Any:
        """What of the answer the check compares: the selected fields (pointer → value) or
        the whole body."""
        fields = self.check.expect.fields
        if fields is None:
            return self.answer
        return {pointer: resolve(self.answer, pointer) for pointer in sorted(fields)}

    def differences_from(self, other: Result) -> list[Difference]:
        """Where ``other``'s answer (the same check's) differs on what the check compares."""
        fields = self.check.expect.fields
        if fields is None:
            return differences(self.answer, other.answer)
        return [d for pointer in sorted(fields) for d in
                differences(resolve(self.answer, pointer), resolve(other.answer, pointer),
                            pointer)]  # fmt: skip


def judge(
    workload: str, name: str, check: SmokeCheck, status: int, answer: Any, elapsed_ms: float
) -> Result:
    """The result of ``check`` given the answer that came back (pure)."""
    expect = check.expect
    found: list[Difference] = []
    if status != expect.status:
        found.append(Difference("status", expect.status, status))
    if expect.fields is not None:
        for pointer, wanted in sorted(expect.fields.items()):
            found += differences(wanted, resolve(answer, pointer), pointer)
    else:
        found += differences(expect.body, answer)
    if expect.budget_ms is not None and elapsed_ms > expect.budget_ms:
        found.append(Difference("latency", f"≤ {expect.budget_ms} ms", f"{elapsed_ms:.0f} ms"))
    return Result(workload, name, check, status, answer, elapsed_ms, tuple(found))


def answer_of(response: httpx.Response) -> Any:
    """The answer's JSON, or its text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text


async def run_check(invoke: Invoke, workload: str, name: str, check: SmokeCheck) -> Result:
    """Send the check's request with ``invoke`` and judge the answer."""
    request = check.request
    budget = check.expect.budget_ms
    started = time.perf_counter()
    try:
        async with asyncio.timeout(budget / 1000 if budget is not None else ANSWER_SECONDS):
            response = await invoke(
                request.path,
                method=request.method,
                json=request.body,
                headers=dict(request.headers) or None,
            )
    except TimeoutError:
        if budget is None:
            return Result(workload, name, check, error=f"no answer within {ANSWER_SECONDS:g} s")
        late = Difference("latency", f"≤ {budget} ms", "more (no answer yet)")
        return Result(workload, name, check, elapsed_ms=float(budget), differences=(late,))
    except (WorkloadlabError, httpx.HTTPError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Result(workload, name, check, error=f"no answer: {reason}")
    elapsed_ms = (time.perf_counter() - started) * 1000
    return judge(workload, name, check, response.status_code, answer_of(response), elapsed_ms)


async def run_all(invoke: Invoke, workload: str, checks: Mapping[str, SmokeCheck]) -> list[Result]:
    """Every check in ``checks``, one after another (in name order)."""
    return [await run_check(invoke, workload, name, checks[name]) for name in sorted(checks)]


def not_sent(workload: str, checks: Mapping[str, SmokeCheck], why: str) -> list[Result]:
    """Each check failed without a request, for ``why``."""
    return [Result(workload, name, checks[name], error=why) for name in sorted(checks)]


async def run_checks(
    client: AsyncClient, workload: Workload | str, *, path: Path | None = None
) -> list[Result]:
    """Run the smoke file's checks of ``workload`` (a workload, or its id) against it: none
    when the file holds none for its name. ``path``: the smoke file (default: see
    :func:`~workloadlab.smoke.storage.smoke_file_path`). A workload that is not running gets
    every check failed, unsent."""
    if isinstance(workload, str):
        workload = await client.workloads.get(workload)
    checks = load(path or smoke_file_path()).checks_of(workload.name)
    if not checks:
        return []
    if workload.status is not WorkloadStatus.RUNNING:
        return not_sent(workload.name, checks, f"not sent: the workload is {workload.status.value}")

    async def invoke(path: str, **kwargs: Any) -> httpx.Response:
        return await client.workloads.invoke(workload.id, path, **kwargs)

    return await run_all(invoke, workload.name, checks)


async def run_against(
    client: AsyncClient,
    workload: str,
    target: Deployment | Workload,
    *,
    path: Path | None = None,
) -> list[Result]:
    """Run the checks of the workload called ``workload`` against ``target``: a deployment
    (v2.41: ``/endpoints/deployments/{id}/``) or another workload, such as the current
    generation's production workload of the locked artifact (``/endpoints/workloads/{id}/``)."""
    checks = load(path or smoke_file_path()).checks_of(workload)

    async def invoke(path: str, **kwargs: Any) -> httpx.Response:
        if isinstance(target, Deployment):
            return await client.deployments.invoke(target.id, path, **kwargs)
        return await client.workloads.invoke(target.id, path, **kwargs)

    return await run_all(invoke, workload, checks)
