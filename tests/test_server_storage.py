"""Storage trouble: a full disk is `507` naming the data dir, a locked database `503` with
`Retry-After`; reads go on, and writes work again once it is over, without a restart.

The full disk is real: a small tmpfs mounted for the test (root only; skipped where mounting is
not permitted) holds the server's data dir, and a file fills it.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness import (
    create_workload,
    free_port,
    hello_spec,
    running_server,
    wait_status,
    wait_until,
)

DISK_SIZE = "16m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, mounted for this test only."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """Write a file until the disk is full; the file."""
    filler = disk / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as handle:
        with pytest.raises(OSError, match="No space left") as full:  # noqa: PT012
            while True:
                handle.write(chunk)
        assert full.value.errno == errno.ENOSPC
        with contextlib.suppress(OSError):  # the last pages, a little at a time
            while True:
                handle.write(b"\0" * 512)
    return filler


def _assert_disk_full(answer: httpx.Response, data_dir: Path) -> None:
    assert answer.status_code == 507, answer.text
    detail = answer.json()["detail"]
    assert "disk" in detail
    assert "full" in detail
    assert str(data_dir) in detail


def test_a_full_disk_is_507_reads_go_on_and_writes_recover_once_space_is_freed(
    small_disk: Path,
) -> None:
    data_dir = small_disk / "data"
    with running_server(data_dir) as server, server.client() as api:
        kept = api.post("/registry/artifacts/", json=hello_spec(free_port())).json()
        workload_id = create_workload(api, "through-it", hello_spec(free_port()))
        wait_status(api, workload_id, "running")
        filler = _fill(small_disk)

        big = hello_spec(free_port(), env={"PADDING": "p" * 600_000})
        _assert_disk_full(api.post("/registry/artifacts/", json=big), data_dir)
        inline = {"name": "full", "artifact": big}
        _assert_disk_full(api.post("/console/workloads/", json=inline), data_dir)
        renamed = {"description": "d" * 600_000}
        _assert_disk_full(api.patch(f"/registry/artifacts/{kept['id']}", json=renamed), data_dir)
        _assert_disk_full(api.delete(f"/registry/artifacts/{kept['id']}"), data_dir)

        listed = api.get("/registry/artifacts/")
        assert listed.status_code == 200
        assert kept["id"] in [a["id"] for a in listed.json()["data"]]
        assert api.get(f"/registry/artifacts/{kept['id']}").json() == kept
        invoked = api.get(f"/endpoints/workloads/{workload_id}/while-full")
        assert invoked.status_code == 200  # the app runs on; its log lines cannot be stored
        _assert_disk_full(api.post(f"/console/workloads/{workload_id}/stop"), data_dir)
        # Signalled ahead of the commit that failed, the app stops; its supervisor cannot
        # store that either. Wait until it has tried (it logs the failure).
        wait_until(lambda: f"workload {workload_id}: database or disk is full" in server.log())

        filler.unlink()
        created = api.post("/registry/artifacts/", json=big)
        assert created.status_code == 201, created.text
        assert api.delete(f"/registry/artifacts/{kept['id']}").status_code == 204
        assert api.get("/registry/artifacts/").json()["totalCount"] == 2  # its own, and `big`
        # The stop was not stored, so the workload should run: it does, and answers.
        wait_until(lambda: api.get(f"/endpoints/workloads/{workload_id}/after").status_code == 200)
        assert wait_status(api, workload_id, "running")["id"] == workload_id
        assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
        wait_status(api, workload_id, "stopped")
        assert api.delete(f"/console/workloads/{workload_id}/").status_code == 204


def test_a_locked_database_is_503_with_retry_after_and_reads_go_on(data_dir: Path) -> None:
    with running_server(data_dir) as server, server.client() as api:
        artifact = api.post("/registry/artifacts/", json=hello_spec(free_port())).json()
        other = sqlite3.connect(data_dir / "workloadlab.sqlite3", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            answer = api.patch(f"/registry/artifacts/{artifact['id']}", json={"name": "late"})
            assert answer.status_code == 503, answer.text
            assert int(answer.headers["retry-after"]) >= 1
            assert "locked" in answer.json()["detail"]
            assert api.get(f"/registry/artifacts/{artifact['id']}").status_code == 200
        finally:
            other.execute("ROLLBACK")
            other.close()
        renamed = api.patch(f"/registry/artifacts/{artifact['id']}", json={"name": "late"})
        assert renamed.status_code == 200
        assert renamed.json()["name"] == "late"
