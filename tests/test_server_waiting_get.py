"""``GET`` of a workload can wait for it to change: ``If-None-Match`` with its ``ETag`` answers
``304`` while it is unchanged, and ``Prefer: wait=N`` holds that answer up to N seconds,
answering ``200`` as soon as the workload changes (one request instead of a polling loop)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from workloadlab.server.changes import matches, preferred_wait

from harness import create_workload, free_port, hello_spec, running_server, wait_status


def _path(workload_id: str) -> str:
    return f"/console/workloads/{workload_id}/"


def _stopped_workload(api: httpx.Client, name: str) -> str:
    workload_id = create_workload(api, name, hello_spec(free_port()))
    wait_status(api, workload_id, "running")
    assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
    wait_status(api, workload_id, "stopped")
    return workload_id


def test_prefer_wait_is_parsed_and_capped() -> None:
    assert preferred_wait(None) is None
    assert preferred_wait("respond-async") is None
    assert preferred_wait("wait=5") == 5.0
    assert preferred_wait("respond-async, wait=2.5") == 2.5
    assert preferred_wait('WAIT="7"') == 7.0
    assert preferred_wait("wait=3600") == 60.0
    assert matches('"a", "b"', '"b"')
    assert matches('W/"b"', '"b"')
    assert matches("*", '"b"')
    assert not matches('"a"', '"b"')


def test_an_unchanged_workload_answers_304_after_the_wait(api: httpx.Client) -> None:
    workload_id = _stopped_workload(api, "still")
    first = api.get(_path(workload_id))
    tag = first.headers["etag"]
    assert first.status_code == 200
    assert tag.startswith('"')
    assert "preference-applied" not in first.headers  # nothing asked, nothing applied

    plain = api.get(_path(workload_id), headers={"If-None-Match": tag})
    assert plain.status_code == 304
    assert plain.content == b""

    began = time.monotonic()
    waited = api.get(_path(workload_id), headers={"If-None-Match": tag, "Prefer": "wait=0.4"})
    assert waited.status_code == 304
    assert waited.content == b""
    assert time.monotonic() - began >= 0.4
    assert waited.headers["etag"] == tag
    assert waited.headers["preference-applied"] == "wait=0.4"

    stale = api.get(_path(workload_id), headers={"If-None-Match": '"old"', "Prefer": "wait=30"})
    assert stale.status_code == 200  # it has changed since: at once, with the body
    assert stale.headers["preference-applied"] == "wait=30"  # a client learns it can wait
    assert stale.json()["status"] == "stopped"
    assert stale.headers["etag"] == tag


def test_a_waiting_get_answers_each_change_as_it_happens(api: httpx.Client) -> None:
    # Ready only after a second: the changes of its start come while a GET waits for them.
    spec = hello_spec(free_port(), env={"STARTUP_DELAY": "1.0"})
    workload_id = create_workload(api, "slow", spec)
    response = api.get(_path(workload_id))
    seen = [response.json()["status"]]
    requests = 1
    began = time.monotonic()
    while seen[-1] != "running":
        tag = response.headers["etag"]
        response = api.get(_path(workload_id), headers={"If-None-Match": tag, "Prefer": "wait=30"})
        requests += 1
        assert response.status_code == 200, response.status_code  # a change, not the time out
        assert response.headers["etag"] != tag
        seen.append(response.json()["status"])
        assert seen[-1] != "errored", response.json()["statusDetails"]
    assert time.monotonic() - began < 15  # well within one wait: each answer came with news
    assert seen[-1] == "running"
    # One request per change (status, log lines), not a polling loop over the second it took.
    assert requests <= 12, seen
    api.delete(_path(workload_id)).raise_for_status()


def test_a_workload_deleted_while_a_get_waits_answers_404(api: httpx.Client) -> None:
    workload_id = _stopped_workload(api, "doomed")
    tag = api.get(_path(workload_id)).headers["etag"]
    with socket.create_connection(("127.0.0.1", _port(api))) as waiting:
        waiting.sendall(_raw_get(api, workload_id, tag, wait=30))
        assert api.delete(_path(workload_id)).status_code == 204
        assert _status_line(waiting).startswith(b"HTTP/1.1 404")


def test_a_server_shutting_down_answers_waiting_gets_at_once(data_dir: Path) -> None:
    with running_server(data_dir) as server, server.client() as api:
        workload_id = _stopped_workload(api, "idle")
        tag = api.get(_path(workload_id)).headers["etag"]
        with socket.create_connection(("127.0.0.1", server.port)) as waiting:
            waiting.sendall(_raw_get(api, workload_id, tag, wait=60))
            # Answered after the waiting request was read: it is waiting now.
            assert api.get(_path(workload_id)).status_code == 200
            began = time.monotonic()
            assert server.stop() == 0
            # uvicorn would wait 3 s for it, then drop it; it is answered instead.
            assert time.monotonic() - began < 2.5
            assert _status_line(waiting).startswith(b"HTTP/1.1 304")


def _port(api: httpx.Client) -> int:
    port = api.base_url.port
    assert port is not None
    return port


def _raw_get(api: httpx.Client, workload_id: str, tag: str, *, wait: float) -> bytes:
    """A waiting GET as bytes, to send on a socket of the test's own (it stays in flight)."""
    headers = {
        "Host": f"127.0.0.1:{_port(api)}",
        "Authorization": api.headers["authorization"],
        "If-None-Match": tag,
        "Prefer": f"wait={wait:g}",
        "Connection": "close",
    }
    lines = [f"GET {api.base_url.path.rstrip('/')}{_path(workload_id)} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status_line(sock: socket.socket) -> bytes:
    sock.settimeout(30)
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            pytest.fail(f"connection closed without an answer: {received!r}")
        received += chunk
    return received.split(b"\r\n", 1)[0]
