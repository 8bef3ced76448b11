"""What the local server keeps of workloads' output: exactly ``--log-cap`` lines per workload,
and no raw log file of a workload that no longer exists."""

from __future__ import annotations

from pathlib import Path

import httpx

from harness import LocalServer, create_workload, free_port, hello_spec, wait_status, wait_until


def _log_files(data_dir: Path, workload_id: str) -> list[str]:
    return sorted(p.name for p in (data_dir / "logs").glob(f"{workload_id}.*"))


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


def test_deleting_a_workload_removes_its_log_files(api: httpx.Client, server: LocalServer) -> None:
    workload_id = create_workload(api, "deleted", hello_spec(free_port()))
    wait_status(api, workload_id, "running")
    assert _log_files(server.data_dir, workload_id) == [
        f"{workload_id}.stderr",
        f"{workload_id}.stdout",
    ]
    assert api.delete(f"/console/workloads/{workload_id}").status_code == 204
    assert _log_files(server.data_dir, workload_id) == []


def test_an_expired_draft_leaves_no_log_files(data_dir: Path) -> None:
    server = LocalServer(
        data_dir, ["--draft-ttl", "1500ms", "--ttl-check-interval", "100ms"]
    ).start()
    try:
        with server.client() as api:
            workload_id = create_workload(api, "expires", hello_spec(free_port()))
            wait_status(api, workload_id, "running")
            assert _log_files(data_dir, workload_id)
            wait_until(lambda: api.get(f"/console/workloads/{workload_id}/").status_code == 404)
            wait_until(lambda: _log_files(data_dir, workload_id) == [], timeout=5)
    finally:
        server.stop()


def test_start_up_removes_log_files_of_workloads_that_no_longer_exist(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    with server.client() as api:
        kept = create_workload(api, "kept", hello_spec(free_port()))
        wait_status(api, kept, "running")
    server.stop()
    logs = data_dir / "logs"
    for name in ("0123456789abcdef01234567.stdout", "0123456789abcdef01234567.stderr"):
        (logs / name).write_text("left by a workload deleted long ago\n")
    (logs / "notes.txt").write_text("not a workload's log file\n")
    server = LocalServer(data_dir).start()
    try:
        assert sorted(p.name for p in logs.iterdir()) == [
            f"{kept}.stderr",
            f"{kept}.stdout",
            "notes.txt",
        ]
    finally:
        server.stop()
