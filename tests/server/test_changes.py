"""The change feed that waiting GETs wait on: woken by a commit, by the end of their wait, by
their client going away, or by the server shutting down."""

from __future__ import annotations

import asyncio

from workloadlab.server.changes import ChangeFeed


async def test_a_commit_wakes_every_waiter() -> None:
    feed = ChangeFeed()
    waiters = [asyncio.ensure_future(feed.wait(30)) for _ in range(3)]
    await asyncio.sleep(0)  # let them start waiting
    feed.notify()
    assert await asyncio.gather(*waiters) == [True, True, True]


async def test_nothing_committed_means_false_after_the_timeout() -> None:
    feed = ChangeFeed()
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert await feed.wait(0.05) is False
    assert loop.time() - began >= 0.05
    assert await feed.wait(0) is False


async def test_a_client_going_away_ends_the_wait() -> None:
    feed = ChangeFeed()
    gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiting = asyncio.ensure_future(feed.wait(30, unless=gone))
    await asyncio.sleep(0)
    gone.set_result(None)
    assert await asyncio.wait_for(waiting, 5) is False
    assert await feed.wait(30, unless=gone) is False  # already gone: no wait at all


async def test_closing_wakes_waiters_and_refuses_new_ones() -> None:
    feed = ChangeFeed()
    waiting = asyncio.ensure_future(feed.wait(30))
    await asyncio.sleep(0)
    feed.close()
    assert await asyncio.wait_for(waiting, 5) is False
    assert await feed.wait(30) is False
