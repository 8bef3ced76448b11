"""InvokeProxy against a real app process: calls cancelled at any moment give their slot back.

httpcore leaks a connection slot for good when a request it queued for a connection is
cancelled just after one was made for it (encode/httpcore#1093); the proxy must not, whatever
moment the cancellation of a waiting call comes at.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from workloadlab.server.proxy import InvokeProxy
from workloadlab.server.settings import InvokeLimits

from harness import free_port, wait_until

MISBEHAVING_APP = Path(__file__).parent.parent / "misbehaving_app.py"


@pytest.fixture
def app_target() -> Iterator[str]:
    """The misbehaving app in a process of its own; its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(MISBEHAVING_APP)], env={**os.environ, "PORT": str(port)}
    )
    target = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{target}/readyz", trust_env=False).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, timeout=10)
        yield target
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _hang(proxy: InvokeProxy, target: str, scope: anyio.CancelScope) -> None:
    with scope:
        async with proxy.call("w", target, "GET", b"/hang", [], None):
            raise AssertionError("the app answered /hang")


@pytest.mark.parametrize("gap", range(8))
async def test_a_waiting_call_cancelled_as_a_slot_frees_up_leaves_it_free(
    app_target: str, gap: int
) -> None:
    limits = InvokeLimits(connect_timeout=1.0, max_connections=1)
    proxy = InvokeProxy(limits, lambda _: [app_target])
    try:
        holder, waiter = anyio.CancelScope(), anyio.CancelScope()
        calls = [asyncio.create_task(_hang(proxy, app_target, holder))]
        await asyncio.sleep(0.2)  # it holds the one slot, its request at the app
        calls.append(asyncio.create_task(_hang(proxy, app_target, waiter)))
        await asyncio.sleep(0.05)  # it waits for the slot
        holder.cancel()
        for _ in range(gap):  # the moment after the slot came free, whichever it is
            await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(*calls)

        async with proxy.call("w", app_target, "GET", b"/ok", [], None) as answer:
            assert answer.status_code == 200
            assert b"".join([chunk async for chunk in answer.body()]) == b"ok"
    finally:
        await proxy.aclose()
