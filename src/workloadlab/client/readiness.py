"""Is a workload ready to be locked and deployed? One ordered checklist for every front-end.

Locking registers the artifact (its spec becomes immutable) and a deployment serves what the
workload runs, so both should only happen to a spec that was seen running. The checks, in
order (each a :class:`Check` with a :class:`CheckName`):

1. ``no unsaved edits``: only when the caller has a form (``unsaved_edits`` given);
2. ``running and ready``: status ``running`` and, when the server reports them, every
   ``Ready`` condition true;
3. ``runs the saved spec``: the local server reports which spec the instance runs
   (``runningArtifact.specDigest``) and the artifact's (``specDigest``): one comparison.
   DataRobot reports neither, so there it is judged by time: the workload's last (re)start
   (``runningSince``) must come after the artifact's last change (``updatedAt``). That is
   conservative: a rename or the registration itself also moves ``updatedAt``, and then only a
   restart makes the check pass. The check's detail says which way it was judged;
4. ``not already deployed``: a workload backs at most one deployment;
5. ``smoke checks``: only when requests are given (``smoke``): each path must answer below 400
   through the invoke proxy;
6. ``recorded smoke checks``: only when the caller ran some (``smoke_results``): the smoke file
   lives beside the notebook, not on the server, so the front-end runs the checks
   (:func:`workloadlab.smoke.run_checks`) and hands their results in; each must pass, and the
   detail names each failed one with what was expected and what came back.

:func:`assess` is pure (a panel that already holds the workload, artifact and deployments
calls it directly); :meth:`Workloads.lock_readiness
<workloadlab.client.resources.workloads.Workloads.lock_readiness>` fetches them first. A new
kind of check is a new :class:`CheckName` and a function here, or an ``extra`` check appended
by the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from workloadlab.models import Deployment, WorkloadStatus
from workloadlab.models.digest import short_digest
from workloadlab.models.neutral import Artifact, Workload

TIME_JUDGED = "DataRobot does not report which spec runs: judged by restart time"
"""Said in the detail of ``runs the saved spec`` when the server reports no spec digests."""


class CheckName(StrEnum):
    """The names of the checks, in the order they are listed."""

    NO_UNSAVED_EDITS = "no unsaved edits"
    RUNNING_AND_READY = "running and ready"
    RUNS_SAVED_SPEC = "runs the saved spec"
    NOT_DEPLOYED = "not already deployed"
    SMOKE_CHECKS = "smoke checks"
    RECORDED_SMOKE = "recorded smoke checks"


class SmokeVerdict(Protocol):
    """A recorded smoke check's result, as the checklist reads it
    (:class:`workloadlab.smoke.Result` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def ok(self) -> bool: ...

    @property
    def summary(self) -> str:
        """One line: which check, what was expected, what came back."""


@dataclass(frozen=True)
class Check:
    """One named check: whether it passed, and what was found, in words."""

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Readiness:
    """The checklist of one workload, what it was judged from, and the verdict."""

    workload: Workload
    artifact: Artifact
    deployments: tuple[Deployment, ...]
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that did not pass, in order."""
        return tuple(check for check in self.checks if not check.ok)

    def get(self, name: str) -> Check | None:
        """The check called ``name``, if it was made."""
        return next((check for check in self.checks if check.name == name), None)


def assess(
    workload: Workload,
    artifact: Artifact,
    deployments: Iterable[Deployment] = (),
    *,
    unsaved_edits: bool | None = None,
    extra: Sequence[Check] = (),
) -> Readiness:
    """The checklist of ``workload`` running ``artifact`` (its artifact), given the deployments
    it backs; ``unsaved_edits`` adds the form's check, ``extra`` checks come last."""
    backing = tuple(d for d in deployments if d.workload_id == workload.id)
    checks: list[Check] = []
    if unsaved_edits is not None:
        checks.append(unsaved_edits_check(unsaved_edits))
    checks += [
        running_check(workload),
        saved_spec_check(workload, artifact),
        not_deployed_check(backing),
        *extra,
    ]
    return Readiness(workload, artifact, backing, tuple(checks))


def unsaved_edits_check(unsaved: bool) -> Check:
    """The form holds no edits that are not saved."""
    if unsaved:
        return Check(CheckName.NO_UNSAVED_EDITS, False, "the form has unsaved edits: save them")
    return Check(CheckName.NO_UNSAVED_EDITS, True, "the form matches the saved artifact")


def running_check(workload: Workload) -> Check:
    """The workload is ``running`` and its readiness probe passes (when reported)."""
    name = CheckName.RUNNING_AND_READY
    if workload.status is not WorkloadStatus.RUNNING:
        return Check(name, False, f"it is {workload.status.value}, not running")
    details = workload.status_details
    ready = [c for c in (details.conditions if details else []) if c.type == "Ready"]
    if any(c.value.lower() != "true" for c in ready):
        return Check(name, False, "it is running, but its readiness probe fails")
    since = f" since {when(workload.running_since)}" if workload.running_since else ""
    return Check(name, True, f"running{since}")


def saved_spec_check(workload: Workload, artifact: Artifact) -> Check:
    """The running instance runs the artifact's saved spec (by digest, else by time)."""
    name = CheckName.RUNS_SAVED_SPEC
    saved = artifact.spec_digest
    if saved is None:
        return _judged_by_time(workload, artifact)
    running = workload.running_artifact
    if running is None:
        return Check(name, False, f"no instance runs (it is {workload.status.value})")
    if running.id != artifact.id:
        return Check(
            name,
            False,
            f"runs artifact {running.id} ({short_digest(running.spec_digest)}) but its"
            f" artifact is {artifact.id} ({short_digest(saved)})",
        )
    if running.spec_digest != saved:
        return Check(
            name,
            False,
            f"runs spec {short_digest(running.spec_digest)} but the saved spec is"
            f" {short_digest(saved)}",
        )
    return Check(name, True, f"runs spec {short_digest(saved)}, the saved one")


def _judged_by_time(workload: Workload, artifact: Artifact) -> Check:
    name = CheckName.RUNS_SAVED_SPEC
    started, changed = workload.running_since, artifact.updated_at
    if started is None:
        return Check(name, False, f"{TIME_JUDGED}; it has not been running since a (re)start")
    if changed is None:
        return Check(
            name, False, f"{TIME_JUDGED}; the artifact does not say when it changed: restart it"
        )
    if changed <= started:
        return Check(
            name,
            True,
            f"{TIME_JUDGED}; (re)started {when(started)}, after the artifact's last change"
            f" ({when(changed)})",
        )
    return Check(
        name,
        False,
        f"{TIME_JUDGED}; the artifact changed at {when(changed)}, after the last (re)start"
        f" at {when(started)}",
    )


def not_deployed_check(backing: Sequence[Deployment]) -> Check:
    """The workload backs no deployment yet."""
    name = CheckName.NOT_DEPLOYED
    if not backing:
        return Check(name, True, "it backs no deployment")
    names = ", ".join(f"{d.name} ({d.id})" for d in backing)
    return Check(name, False, f"it already backs deployment {names}")


def smoke_check(answers: Sequence[tuple[str, int | str]]) -> Check:
    """Each smoke request answered below 400: ``answers`` pairs a path with the HTTP status
    it got, or with why it got none."""
    name = CheckName.SMOKE_CHECKS
    failed = [
        f"GET {path} answered {got}" if isinstance(got, int) else f"GET {path}: {got}"
        for path, got in answers
        if not isinstance(got, int) or got >= 400
    ]
    if failed:
        return Check(name, False, "; ".join(failed))
    return Check(name, True, ", ".join(f"GET {path} {got}" for path, got in answers))


def recorded_smoke_check(results: Sequence[SmokeVerdict]) -> Check:
    """Every recorded smoke check passed; else the failed ones, each with what was expected
    and what came back."""
    name = CheckName.RECORDED_SMOKE
    failed = [result.summary for result in results if not result.ok]
    if failed:
        return Check(name, False, "; ".join(failed))
    return Check(name, True, f"{len(results)} passed: " + ", ".join(r.name for r in results))


def when(value: dt.datetime | None) -> str:
    """A timestamp as people read it in a check's detail."""
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
