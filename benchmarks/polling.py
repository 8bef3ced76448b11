"""How many requests waiting for a slow start costs against a server that ignores ``Prefer:
wait`` (DataRobot), with the client's polite polling, against the previous curve (0.05 s growing
to 0.5 s and staying there: the baseline, measured in the same run).

DataRobot is played by respx: the workload is ``launching`` until the wait has slept the start's
length (fake time: the client's sleep seam records the gaps instead of sleeping), then
``running``. Starts of 10 s, 1, 3 and 10 minutes; a middle status change at half time. Also
the time from ``running`` to the wait seeing it (the worst gap at the end). Goal: a 3-minute
start costs at most a quarter of the baseline's requests (tens, not hundreds).

    .venv/bin/python benchmarks/polling.py
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

import httpx
import respx

from _common import goal_text, print_table
from workloadlab.client import AsyncClient, Polling

CLOUD = "https://app.datarobot.example/api/v2"
WID = "6650c1d2e3f4a5b6c7d8e9f0"
BASELINE = Polling(brisk=float("inf"))
"""The curve before polite polling: the gap never grows past ``fast_max``."""


async def polls_for(start: float, polling: Polling) -> tuple[int, float]:
    """Requests a wait for ``running`` costs when the start takes ``start`` seconds, and how
    late (seconds after ``running``) the wait saw it."""
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    def answer(request: httpx.Request) -> httpx.Response:
        now = sum(slept)
        status = "running" if now >= start else "launching" if now >= start / 2 else "submitted"
        return httpx.Response(200, json={"id": WID, "name": "slow", "status": status})

    with respx.mock(base_url=CLOUD) as cloud:
        route = cloud.get(f"/workloads/{WID}/")
        route.side_effect = answer
        async with AsyncClient(CLOUD, "bench-token", api="current", polling=polling) as client:
            client._requester.sleep = sleep
            await client.workloads.wait_for_status(WID, "running")
        return route.call_count, sum(slept) - start


async def measure(starts: Sequence[float]) -> list[list[str]]:
    rows = []
    for start in starts:
        base, base_late = await polls_for(start, BASELINE)
        polite, late = await polls_for(start, Polling())
        rows.append(
            [f"{start:g} s", str(base), f"{base_late:.2f}", str(polite), f"{late:.2f}",
             f"{polite / base:.2f}"]
        )  # fmt: skip
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=float, nargs="+", default=[10, 60, 180, 600])
    args = parser.parse_args(argv)
    rows = asyncio.run(measure(args.starts))
    print_table(
        ["start", "baseline requests", "seen late s", "polite requests", "seen late s", "ratio"],
        rows,
    )
    three = asyncio.run(measure([180.0]))[0]
    print(f"3-minute start, polite / baseline requests: {goal_text(float(three[-1]), 0.25)}")


if __name__ == "__main__":
    main()
