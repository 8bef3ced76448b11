"""What the local server keeps of workloads' output: exactly ``--log-cap`` lines per workload,
whichever workloads log at the same time."""

from __future__ import annotations

from pathlib import Path

from harness import LocalServer, create_workload, free_port, hello_spec, wait_until


def _chatty(lines: int, gap: float) -> dict[str, object]:
    """An app that prints ``lines`` numbered lines ``gap`` seconds apart, then ``done``."""
    script = (
        f"for i in $(seq 1 {lines}); do echo line-$i; sleep {gap}; done; echo done; exec sleep 60"
    )
    return hello_spec(free_port(), entrypoint=["sh", "-c", script], readinessProbe=None)


def test_two_workloads_that_log_at_once_keep_exactly_the_cap_each(data_dir: Path) -> None:
    server = LocalServer(data_dir, ["--log-cap", "40"]).start()
    try:
        with server.client() as api:
            ids = [create_workload(api, f"chatty-{n}", _chatty(150, 0.005)) for n in range(2)]

            def newest(workload_id: str) -> str:
                data = api.get(f"/otel/workload/{workload_id}/logs/").json()["data"]
                return str(data[0]["message"]) if data else ""

            for workload_id in ids:
                wait_until(lambda w=workload_id: newest(w) == "done", timeout=30)
            for workload_id in ids:
                page = api.get(f"/otel/workload/{workload_id}/logs/", params={"limit": 1000})
                messages = [r["message"] for r in reversed(page.json()["data"])]
                assert page.json()["totalCount"] == 40
                assert messages == [f"line-{i}" for i in range(112, 151)] + ["done"]
    finally:
        server.stop()
