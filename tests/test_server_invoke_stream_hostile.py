"""Streams and WebSockets through the invoke proxy when something goes wrong: a caller that
leaves while the app has not answered its upgrade yet, an app that answers an upgrade with an
endless body, the server stopping with event streams, sockets and upgrades under way (it still
stops at once, and says nothing of it in tracebacks), and a server logging at debug level
(the token of an upgrade is not in its log).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from test_server_invoke import raw_call, read_until, start_misbehaving
from test_server_invoke_stream import open_socket, refused, start_stream_app

from harness import LocalServer, kill_marked, processes_marked, running_server, wait_until

READ_TIMEOUT = 30
"""Seconds of the read timeout here: longer than any of these tests should take."""
UPGRADE_HEADERS = (
    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server with one connection per workload, a 1 s connect and a long read timeout."""
    data_dir = tmp_path_factory.mktemp("single")
    limits = ["--invoke-max-connections", "1", "--invoke-connect-timeout", "1s"]
    with running_server(data_dir, *limits, "--invoke-read-timeout", f"{READ_TIMEOUT}s") as started:
        yield started
    kill_marked(data_dir)


def test_a_caller_that_leaves_during_the_upgrade_frees_its_slot_at_once(
    single: LocalServer, tmp_path: Path
) -> None:
    with single.client() as api:
        workload_id, events = start_misbehaving(api, tmp_path)
        waiting = raw_call(single, f"/endpoints/workloads/{workload_id}/hang", UPGRADE_HEADERS)
        wait_until(lambda: events.requests("/hang"), timeout=10)  # the app holds the upgrade
        waiting.close()  # the caller gives up long before the read timeout
        # its slot (the only one) comes free, and the app's connection is closed
        wait_until(lambda: events.connections_of("/hang") <= events.closed(), timeout=10)
        answer = api.get(f"/endpoints/workloads/{workload_id}/ok")
        assert answer.status_code == 200, answer.text
    assert "Traceback" not in single.log()


def test_an_upgrade_answered_with_an_endless_body_passes_the_answer_on_at_once(
    single: LocalServer, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {single.token}"}
    with single.client() as api:
        workload_id, _ = start_misbehaving(api, tmp_path)
        began = time.monotonic()
        answer = refused(single, f"/endpoints/workloads/{workload_id}/endless", headers)
        took = time.monotonic() - began
        assert answer.status_code == 200  # the app's own answer, not the read timeout's 504
        assert took < READ_TIMEOUT / 3
        assert 0 < len(answer.content) <= 1024 * 1024  # its beginning, not the endless body
        assert set(answer.content) == {ord("x")}
        assert api.get(f"/endpoints/workloads/{workload_id}/ok").status_code == 200


def test_sigterm_stops_the_server_at_once_with_streams_sockets_and_upgrades_open(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "stopping"
    server = LocalServer(data_dir, ["--invoke-read-timeout", f"{READ_TIMEOUT}s"]).start()
    try:
        with server.client() as api:
            stream_id = start_stream_app(api)
            misbehaving_id, events = start_misbehaving(api, tmp_path)
        with contextlib.ExitStack() as held:
            for _ in range(2):  # event streams held by the app after their first token
                sse = held.enter_context(
                    raw_call(server, f"/endpoints/workloads/{stream_id}/tokens?hold=1")
                )
                read_until(sse, b"data: Hello!")
            ws = held.enter_context(open_socket(server, f"/endpoints/workloads/{stream_id}/ws"))
            ws.send("before")
            assert ws.recv(timeout=10) == "before"
            upgrade = f"/endpoints/workloads/{misbehaving_id}/hang"
            held.enter_context(raw_call(server, upgrade, UPGRADE_HEADERS))
            wait_until(lambda: events.requests("/hang"), timeout=10)
            began = time.monotonic()
            assert server.stop() == 0
            took = time.monotonic() - began
        log = server.log()
        assert "timeout graceful shutdown exceeded" not in log
        assert "Traceback" not in log
        assert took < 2.5, f"SIGTERM to exit took {took:.2f} s"
    finally:
        server.stop(timeout=60)
        kill_marked(data_dir)


def test_a_server_logging_at_debug_level_never_logs_the_token_of_an_upgrade(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "debug"
    with running_server(data_dir, "--log-level", "debug") as server:
        with server.client() as api:
            workload_id = start_stream_app(api)
        for scheme in ("Bearer", "Token"):
            with open_socket(server, f"/endpoints/workloads/{workload_id}/ws", scheme) as ws:
                ws.send("hello")
                assert ws.recv(timeout=10) == "hello"
        denied = refused(server, f"/endpoints/workloads/{workload_id}/ws", {})
        assert denied.status_code == 401
        assert wait_until(lambda: "WebSocket" in server.log(), timeout=10)  # it logs upgrades
    assert server.token not in server.log()
    kill_marked(data_dir)


@pytest.mark.parametrize("message", ["close abc", "close 99999 too big", "close 12 under 1000"])
def test_the_example_app_echoes_a_close_request_it_cannot_honour(
    single: LocalServer, message: str
) -> None:
    with single.client() as api:
        workload_id = start_stream_app(api)
    with open_socket(single, f"/endpoints/workloads/{workload_id}/ws") as ws:
        ws.send(message)
        assert ws.recv(timeout=10) == message
        ws.send("still here")
        assert ws.recv(timeout=10) == "still here"


def test_the_example_app_closes_a_socket_with_1009_on_a_frame_too_large(
    single: LocalServer,
) -> None:
    with single.client() as api:
        workload_id = start_stream_app(api)
    path = f"/endpoints/workloads/{workload_id}/ws"
    with open_socket(single, path, max_size=None) as ws:
        ws.send(b"x" * (16 * 1024 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


def test_an_app_killed_mid_stream_cuts_the_callers_answer_and_says_why(
    single: LocalServer, tmp_path: Path
) -> None:
    with single.client() as api:
        workload_id, _ = start_misbehaving(api, tmp_path)
    sse = raw_call(single, f"/endpoints/workloads/{workload_id}/sse")
    with sse:
        read_until(sse, b"data: one")
        marker = f"/{workload_id}".encode()
        for pid in processes_marked(single.data_dir):
            if marker in Path(f"/proc/{pid}/environ").read_bytes():
                os.kill(pid, signal.SIGKILL)
        rest = b""
        while piece := sse.recv(65536):  # until the server closes the connection
            rest += piece
    assert b"0\r\n\r\n" not in rest  # cut off: no last chunk, so no complete-looking answer
    said = wait_until(lambda: [line for line in single.log().splitlines() if "cut off" in line])
    assert f"Workload {workload_id} closed the connection" in said[-1]
