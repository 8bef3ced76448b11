"""Waiting on DataRobot, which ignores ``Prefer: wait`` (respx, fake time): statuses of either
generation, known or not, end a wait or keep it going as ``workload-api-current.md`` §5.1 says;
a long start costs tens of polls, not hundreds; ``429``/``503`` slow the polls down; and a
replacement is waited for by the workload, then its history (§5.4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from workloadlab import errors
from workloadlab.client import AsyncClient, Polling
from workloadlab.client.waiting import Pace

from clienttools import CLOUD, CLOUD_TOKEN, Sleeps

WID = "6650c1d2e3f4a5b6c7d8e9f0"
AID = "6650c1d2e3f4a5b6c7d8e9a1"
RID = "6650c1d2e3f4a5b6c7d8ec01"
V241 = f"/console/workloads/{WID}/"
CURRENT = f"/workloads/{WID}/"
DEFAULT = Polling()
"""The client's own gaps: the budget below is about them."""


def _workload(status: str, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"id": WID, "name": "hello", "status": status, **extra})


@pytest.fixture
async def current(cloud_mock: respx.MockRouter, sleeps: Sleeps) -> AsyncClient:
    """A client of a mocked current-generation cloud, default polling, in fake time."""
    client = AsyncClient(CLOUD, CLOUD_TOKEN, api="current")
    client._requester.sleep = sleeps
    return client


# ---------------------------------------------------------------------------------------------
# Statuses of either generation, and ones nobody has heard of yet


async def test_in_progress_words_keep_a_wait_going_until_it_ends(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    words = ["submitted", "provisioning", "launching", "coming-up-v7", "warming", "running"]
    cloud_mock.get(V241).side_effect = [_workload(word) for word in words]
    seen: list[str] = []
    done = await cloud.workloads.wait_for_status(
        WID, "running", on_change=lambda w: seen.append(str(w.status))
    )
    assert str(done.status) == "running"
    # Every poll was a change, each word shown as it came, the one nobody knows included.
    assert seen == words


@pytest.mark.parametrize("word", ["errored", "terminated", "failed"])
async def test_failing_words_end_a_wait(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, word: str
) -> None:
    cloud_mock.get(V241).side_effect = [
        _workload("launching"),
        _workload(word, statusDetails={"logTail": ["OOMKilled"]}),
    ]
    with pytest.raises(errors.WorkloadErroredError, match=f"went {word} while waiting") as caught:
        await cloud.workloads.wait_for_status(WID, "running", timeout=None)
    assert caught.value.log_tail == ["OOMKilled"]
    # Awaited, the same word ends the wait as a result.
    cloud_mock.get(V241).side_effect = [_workload(word)]
    assert str((await cloud.workloads.wait_for_status(WID, ["stopped", word])).status) == word


async def test_suspended_and_interrupted_are_on_the_way_to_stopped(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    cloud_mock.get(V241).side_effect = [
        _workload("draining"),
        _workload("suspended"),
        _workload("interrupted"),
        _workload("stopped"),
    ]
    assert str((await cloud.workloads.wait_for_status(WID, "stopped")).status) == "stopped"


async def test_awaiting_a_word_neither_generation_has_is_a_typo(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    with pytest.raises(ValueError, match="unknown workload status in \\['runing'\\]"):
        await cloud.workloads.wait_for_status(WID, "runing")
    assert not cloud_mock.calls
    cloud_mock.get(V241).side_effect = [_workload("provisioning"), _workload("launching")]
    assert str((await cloud.workloads.wait_for_status(WID, "launching")).status) == "launching"


async def test_watch_treats_an_unknown_word_as_under_way(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    cloud_mock.get(V241).side_effect = [_workload("brand-new-status")] * 4 + [_workload("running")]
    watching = cloud.workloads.watch(WID)
    await anext(watching)
    assert str((await anext(watching)).status) == "running"
    await watching.aclose()
    # Fast, growing gaps (under way), not the stable 0.2 s of FAST_POLLING.
    assert sleeps == pytest.approx([0.01, 0.015, 0.0225, 0.03375])


# ---------------------------------------------------------------------------------------------
# Polite polling: a server that ignores Prefer: wait


def start_taking(seconds: float, sleeps: Sleeps) -> Callable[[httpx.Request], httpx.Response]:
    """A workload that is ``launching`` until ``seconds`` of (fake) time have been slept."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert "if-none-match" not in request.headers  # the server never offered to wait
        return _workload("running" if sum(sleeps) >= seconds else "launching")

    return answer


async def test_a_three_minute_start_costs_tens_of_polls(
    current: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = cloud_mock.get(CURRENT)
    route.side_effect = start_taking(180.0, sleeps)
    async with current:
        await current.workloads.wait_for_status(WID, "running")
    polls = route.call_count
    # Brisk at first: through the first 5 s no gap over 0.5 s, a dozen polls or more ...
    elapsed, early = 0.0, []
    for gap in sleeps:
        if elapsed < DEFAULT.brisk:
            early.append(gap)
        elapsed += gap
    assert max(early) <= DEFAULT.fast_max
    assert len(early) >= 12
    # ... then backing off to a few seconds, never more than the cap ...
    assert max(sleeps) == pytest.approx(DEFAULT.patient_max)
    assert sleeps[-1] == pytest.approx(DEFAULT.patient_max)
    # ... so three minutes cost tens of polls (the old 0.5 s cap: about 360).
    assert 20 <= polls <= 70, polls
    print(f"3-minute start: {polls} polls, {len(early)} in the first 5 s, max gap {max(sleeps):g}")


async def test_a_change_late_in_a_wait_does_not_start_over_at_full_speed() -> None:
    pace = Pace(DEFAULT)
    gaps = [pace.after(changed=False) for _ in range(40)]
    assert gaps[0] == DEFAULT.fast
    assert sum(gaps) > 60
    after_change = pace.after(changed=True)
    assert after_change == DEFAULT.fast_max  # not 0.05 s again, minutes into the wait
    young = Pace(DEFAULT)
    young.after(changed=False)
    assert young.after(changed=True) == DEFAULT.fast


async def test_429_with_retry_after_slows_the_polls_down(
    current: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    limited = httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow down"})
    route = cloud_mock.get(CURRENT)
    route.side_effect = [
        _workload("launching"),
        limited,
        _workload("launching"),
        _workload("launching"),
        _workload("running"),
    ]
    async with current:
        await current.workloads.wait_for_status(WID, "running")
    assert route.call_count == 5
    # 0.05 s, then the retry after the 429 waited 7 s as told, and the next gap is as long.
    assert sleeps[0] == pytest.approx(DEFAULT.fast)
    assert sleeps[1:3] == [7.0, 7.0]
    assert sleeps[3] < 7.0  # and it recovers


@pytest.mark.parametrize("status", [429, 503])
async def test_throttling_beyond_the_retries_is_waited_out_not_raised(
    current: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps, status: int
) -> None:
    busy = httpx.Response(status, headers={"Retry-After": "3"}, json={"message": "busy"})
    route = cloud_mock.get(CURRENT)
    route.side_effect = [_workload("launching"), busy, busy, busy, busy, _workload("running")]
    async with current:
        await current.workloads.wait_for_status(WID, "running")
    assert route.call_count == 6
    assert sleeps.count(3.0) >= 4  # each busy answer was waited out for as long as it asked


async def test_endless_throttling_is_raised_in_the_end(
    current: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    busy = httpx.Response(429, headers={"Retry-After": "1"}, json={"message": "busy"})
    route = cloud_mock.get(CURRENT)
    route.side_effect = lambda request: busy
    async with current:
        with pytest.raises(errors.RateLimitError):
            await current.workloads.wait_for_status(WID, "running")
    assert route.call_count == 18  # (2 retries + 1) x (5 waited out + 1)


# ---------------------------------------------------------------------------------------------
# Replacements (settings updates and replacements alike)


def _replacement(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": RID,
        "workloadId": WID,
        "candidateArtifactId": AID,
        "candidateProtonIds": ["p2"],
        "strategy": "rolling",
        "status": status,
        **extra,
    }


def _history(*records: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(records), "next": None, "previous": None, "data": list(records)}


async def test_a_rolling_restart_keeps_the_runtime_and_waits_for_the_history(
    current: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    runtime = {
        "containerGroups": [
            {
                "name": "default",
                "replicaCount": 1,
                "containers": [{"name": "main", "resourceAllocation": {"memory": "512MB"}}],
                "resolvedBundle": None,
                "someFutureKey": {"nested": [1, 2.5, None]},
            }
        ],
        "enclaves": [],
    }
    cloud_mock.get(f"{CURRENT}settings").respond(json={"runtime": runtime})
    patch = cloud_mock.patch(f"{CURRENT}settings").respond(202, json=_replacement("submitted"))
    cloud_mock.get(CURRENT).side_effect = [
        _workload("running", replacement={"status": "submitted", "candidateProtonIds": ["p2"]}),
        _workload("running", replacement={"status": "initializing"}),
        _workload("running", replacement=None),
    ]
    older = _replacement("completed") | {"id": "older"}
    history = cloud_mock.get(f"{CURRENT}history").respond(
        json=_history(_replacement("completed", message="switched"), older)
    )
    seen: list[object] = []
    async with current:
        done = await current.workloads.update_settings(WID, on_change=seen.append)
    sent = patch.calls.last.request.content
    assert json.loads(sent) == {"runtime": runtime}  # every key, null and number as it came
    assert b'"memory":"512MB"' in sent
    assert b"2.5" in sent
    assert done.id == RID
    assert done.succeeded
    assert done.message == "switched"
    assert history.calls.last.request.url.params["limit"] == "10"
    assert len(seen) == 3


async def test_a_failed_replacement_is_returned_not_raised(
    current: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    post = cloud_mock.post(f"{CURRENT}replacement").respond(202, json=_replacement("submitted"))
    cloud_mock.get(CURRENT).side_effect = [
        _workload("running", replacement={"status": "staged"}),
        _workload("running", replacement={"status": "candidate-warming"}),
        _workload("running", replacement={"status": "errored"}),
    ]
    cloud_mock.get(f"{CURRENT}history").respond(
        json=_history(_replacement("errored", message="never ready"))
    )
    async with current:
        done = await current.workloads.replace(WID, AID, warmup_minutes=2)
    assert json.loads(post.calls.last.request.content) == {
        "artifactId": AID,
        "strategy": "rolling",
        "config": {"warmupDurationMinutes": 2},
    }
    assert post.call_count == 1
    assert done.ended
    assert not done.succeeded
    assert done.message == "never ready"


async def test_replacement_requests_are_never_retried(
    current: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    post = cloud_mock.post(f"{CURRENT}replacement").respond(503, json={"message": "busy"})
    patch = cloud_mock.patch(f"{CURRENT}settings").respond(503, json={"message": "busy"})
    async with current:
        with pytest.raises(errors.ServerError):
            await current.workloads.replace(WID, AID)
        with pytest.raises(errors.ServerError):
            await current.workloads.update_settings(WID, {"containerGroups": []})
    assert post.call_count == patch.call_count == 1
    assert sleeps == []


async def test_replacement_none_history_and_promote(
    current: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    gone = {"detail": "There is no active replacement for this workload."}
    route = cloud_mock.get(f"{CURRENT}replacement").respond(404, json=gone)
    promote = cloud_mock.post(f"{CURRENT}promote").respond(
        202, json={"id": WID, "name": "hello", "status": "running", "artifact": {
            "id": AID, "status": "locked", "version": 1}}
    )  # fmt: skip
    cloud_mock.get(f"{CURRENT}history").respond(json=_history())
    cloud_mock.get(CURRENT).respond(json={"id": WID, "name": "hello", "status": "running"})
    async with current:
        assert await current.workloads.replacement(WID) is None
        route.respond(200, json=_replacement("completed"))
        assert (await current.workloads.replacement(WID)).status == "completed"  # type: ignore[union-attr]
        promoted = await current.workloads.promote(WID)
        assert promoted.artifact is not None
        assert promoted.artifact.version == 1
        with pytest.raises(ValueError, match="no replacement to wait for"):
            await current.workloads.wait_for_replacement(WID)
    assert promote.call_count == 1


async def test_watch_waits_out_throttling_too(
    current: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    busy = httpx.Response(429, headers={"Retry-After": "4"}, json={"message": "busy"})
    cloud_mock.get(CURRENT).side_effect = [
        _workload("launching"),
        busy,
        busy,
        busy,
        _workload("running"),
    ]
    async with current:
        watching = current.workloads.watch(WID)
        assert str((await anext(watching)).status) == "launching"
        assert str((await anext(watching)).status) == "running"
        await watching.aclose()
    assert sleeps.count(4.0) == 3  # two retries, then the watch's own wait
