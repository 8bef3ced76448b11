"""Streams and WebSockets through the invoke proxy, against the streaming example app
(``python -m workloadlab.examples.stream``) running as a real workload: sockets echo both ways
with their close codes kept, the upgrade takes the same token as HTTP and the app never sees
it, event streams and chunked answers arrive as the app sends them, for workload and deployment
endpoints and in both API profiles; sockets count against the workload's connection limit and
end with their caller.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from currenttools import CURRENT, create, current_artifact, wait_for
from test_server_invoke import start_misbehaving

from harness import (
    LocalServer,
    create_workload,
    free_port,
    hello_spec,
    kill_marked,
    running_server,
    wait_status,
    wait_until,
)

STREAM_APP = [sys.executable, "-m", "workloadlab.examples.stream"]


def stream_spec(**env: str) -> dict[str, Any]:
    """An inline artifact running the streaming example app on a free port."""
    return hello_spec(free_port(), "Hello", entrypoint=STREAM_APP, env=env)


def start_stream_app(api: httpx.Client, **env: str) -> str:
    """A running workload of the streaming example app; its id."""
    workload_id = create_workload(api, "streaming", stream_spec(**env))
    wait_status(api, workload_id, "running")
    return workload_id


def socket_url(server: LocalServer, path: str) -> str:
    """The ``ws://`` URL of ``/api/v2{path}`` on ``server``."""
    return server.endpoint.replace("http://", "ws://", 1) + path


def open_socket(
    server: LocalServer, path: str, scheme: str = "Bearer", **options: Any
) -> ClientConnection:
    """A WebSocket to ``/api/v2{path}`` with the server's token."""
    headers = {"Authorization": f"{scheme} {server.token}", **options.pop("headers", {})}
    return connect(socket_url(server, path), additional_headers=headers, **options)


def refused(server: LocalServer, path: str, headers: dict[str, str]) -> httpx.Response:
    """The HTTP answer to an upgrade that is refused (``InvalidStatus`` asserted)."""
    with pytest.raises(InvalidStatus) as caught:
        connect(socket_url(server, path), additional_headers=headers, open_timeout=10)
    response = caught.value.response
    return httpx.Response(response.status_code, content=bytes(response.body or b""))


def closes_seen(api: httpx.Client, invoke: str) -> list[list[Any]]:
    """The close frames the app got from its callers (``GET /closes``)."""
    closes: list[list[Any]] = api.get(f"{invoke}/closes").json()["closes"]
    return closes


def echo_both_ways(ws: ClientConnection) -> None:
    """Text comes back as text, binary as binary, large messages whole."""
    ws.send("hello, socket")
    assert ws.recv(timeout=10) == "hello, socket"
    ws.send(b"\x00\x01\xfe\xff")
    assert ws.recv(timeout=10) == b"\x00\x01\xfe\xff"
    big = bytes(range(256)) * 4096  # 1 MiB: several frames on each hop
    ws.send(big)
    assert ws.recv(timeout=10) == big


def first_events_then_release(api: httpx.Client, invoke: str) -> None:
    """The first token of a held answer arrives while the app is still waiting to be released
    (no hop holds it back); the rest follows once released."""
    with api.stream("GET", f"{invoke}/tokens", params={"prompt": "hi", "hold": "1"}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/event-stream"
        lines = answer.iter_lines()
        assert next(lines) == "data: Hello!"  # the app has sent nothing else: it is held
        assert api.post(f"{invoke}/release").status_code == 200
        rest = [line for line in lines if line]
    assert rest == ["data: You", "data: said:", "data: hi", "event: done", "data: [DONE]"]


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server with 2 connections per workload, a 1 s connect and a 2 s read timeout."""
    data_dir = tmp_path_factory.mktemp("tight")
    limits = [
        "--invoke-max-connections",
        "2",
        "--invoke-connect-timeout",
        "1s",
        "--invoke-read-timeout",
        "2s",
    ]
    with running_server(data_dir, *limits) as started:
        yield started
    kill_marked(data_dir)


@pytest.fixture(scope="module")
def app_id(server: LocalServer) -> str:
    """The module's streaming workload (on the module's v2.41 server)."""
    with server.client() as api:
        return start_stream_app(api)


# -- WebSockets --------------------------------------------------------------------------------


def test_a_websocket_echoes_text_and_binary_through_the_proxy(
    server: LocalServer, app_id: str
) -> None:
    with open_socket(server, f"/endpoints/workloads/{app_id}/ws") as ws:
        echo_both_ways(ws)


def test_the_apps_close_code_and_reason_reach_the_caller(server: LocalServer, app_id: str) -> None:
    with open_socket(server, f"/endpoints/workloads/{app_id}/ws") as ws:
        ws.send("close 4001 done talking")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "done talking")


def test_the_callers_close_code_and_reason_reach_the_app(
    server: LocalServer, api: httpx.Client, app_id: str
) -> None:
    invoke = f"/endpoints/workloads/{app_id}"
    with open_socket(server, f"{invoke}/ws") as ws:
        ws.close(4002, "caller leaves")
    assert wait_until(lambda: [4002, "caller leaves"] in closes_seen(api, invoke), timeout=10)


def test_a_caller_that_vanishes_has_the_apps_connection_closed(
    server: LocalServer, api: httpx.Client, app_id: str
) -> None:
    invoke = f"/endpoints/workloads/{app_id}"
    before = closes_seen(api, invoke).count([1006, ""])
    with open_socket(server, f"{invoke}/ws") as ws:
        ws.send("still here")
        assert ws.recv(timeout=10) == "still here"
        ws.socket.shutdown(socket.SHUT_RDWR)  # no close frame: the TCP connection just ends
        assert wait_until(lambda: closes_seen(api, invoke).count([1006, ""]) > before, 10)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Basic d2w6dGVzdA==", "Bearer"],
    ids=["none", "wrong-token", "other-scheme", "no-token"],
)
def test_an_upgrade_without_the_token_is_refused_with_401(
    server: LocalServer, app_id: str, authorization: str | None
) -> None:
    invoke = f"/endpoints/workloads/{app_id}"
    headers = {"Authorization": authorization} if authorization else {}
    answer = refused(server, f"{invoke}/ws", headers)
    assert answer.status_code == 401
    assert "Missing or invalid API token" in answer.json()["detail"]


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "bearer"])
def test_the_token_never_reaches_the_app(server: LocalServer, app_id: str, scheme: str) -> None:
    path = f"/endpoints/workloads/{app_id}/ws/headers"
    with open_socket(server, path, scheme, headers={"X-Trace": "abc"}, subprotocols=["chat"]) as ws:
        seen = json.loads(ws.recv(timeout=10))["headers"]
        assert ws.subprotocol == "chat"  # offered as the caller offered it, the app's pick back
    assert "authorization" not in seen
    assert server.token not in json.dumps(seen)
    assert seen["x-trace"] == "abc"
    assert seen["sec-websocket-protocol"] == "chat"


def test_an_upgrade_the_app_refuses_gets_the_apps_answer(server: LocalServer, app_id: str) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}
    answer = refused(server, f"/endpoints/workloads/{app_id}/no-socket-here", headers)
    assert (answer.status_code, answer.text) == (404, "no WebSocket here")


def test_an_upgrade_to_a_workload_that_does_not_run_is_refused_in_words(
    server: LocalServer, api: httpx.Client
) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}
    stopped = create_workload(api, "stopped-stream", stream_spec())
    wait_status(api, stopped, "running")
    assert api.post(f"/console/workloads/{stopped}/stop").status_code == 202
    wait_status(api, stopped, "stopped")
    answer = refused(server, f"/endpoints/workloads/{stopped}/ws", headers)
    assert answer.status_code == 503
    assert answer.json() == {
        "detail": f"Workload {stopped} is stopped, not running: nothing to invoke"
    }
    missing = refused(server, "/endpoints/workloads/0123456789abcdef01234567/ws", headers)
    assert missing.status_code == 404


def test_an_app_that_goes_away_has_the_callers_connection_closed(
    server: LocalServer, api: httpx.Client
) -> None:
    workload_id = start_stream_app(api)
    with open_socket(server, f"/endpoints/workloads/{workload_id}/ws") as ws:
        ws.send("ping?")
        assert ws.recv(timeout=10) == "ping?"
        assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)  # the app exits without a close frame
    assert closed.value.rcvd is None  # 1006: the connection ended, as the app's did


def test_sockets_count_against_the_workloads_connection_limit(tight: LocalServer) -> None:
    with tight.client() as api:
        workload_id = start_stream_app(api)
        path = f"/endpoints/workloads/{workload_id}/ws"
        with contextlib.ExitStack() as stack:
            held = [stack.enter_context(open_socket(tight, path)) for _ in range(2)]
            busy = refused(tight, path, {"Authorization": f"Bearer {tight.token}"})
            assert busy.status_code == 503
            assert busy.json()["detail"] == (
                f"Workload {workload_id} is busy: all 2 of its connections are in use and "
                "none came free within 1 s; retry later"
            )
            assert api.get(f"/endpoints/workloads/{workload_id}/healthz").status_code == 503
            held[0].close()
            with open_socket(tight, path) as again:  # a slot is free again
                again.send("in")
                assert again.recv(timeout=10) == "in"


def test_an_upgrade_the_app_never_answers_is_504_and_one_nobody_listens_for_503(
    tight: LocalServer, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {tight.token}"}
    with tight.client() as api:
        silent, events = start_misbehaving(api, tmp_path)
        began = time.monotonic()
        hung = refused(tight, f"/endpoints/workloads/{silent}/hang", headers)
        assert (hung.status_code, hung.json()) == (
            504,
            {"detail": f"Workload {silent} did not answer within 2 s"},
        )
        assert 2.0 - 0.1 <= time.monotonic() - began < 12.0
        wait_until(lambda: events.connections_of("/hang") <= events.closed(), timeout=5)
        assert api.get(f"/endpoints/workloads/{silent}/stop-listening").status_code == 200
        gone = refused(tight, f"/endpoints/workloads/{silent}/ws", headers)
        assert gone.status_code == 503
        assert "refused the connection: nothing listens on its port" in gone.json()["detail"]


# -- event streams and chunked answers ---------------------------------------------------------


def test_the_first_event_arrives_before_the_app_has_finished(
    api: httpx.Client, app_id: str
) -> None:
    first_events_then_release(api, f"/endpoints/workloads/{app_id}")


def test_a_chunked_answer_passes_through_chunked(api: httpx.Client, app_id: str) -> None:
    with api.stream("GET", f"/endpoints/workloads/{app_id}/chunked", params={"n": 4}) as answer:
        assert answer.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in answer.headers
        lines = list(answer.iter_lines())
    assert lines == ["line 1", "line 2", "line 3", "line 4"]


# -- a deployment's endpoint, and the current profile -------------------------------------------


def test_a_deployments_endpoint_streams_and_upgrades(
    server: LocalServer, api: httpx.Client
) -> None:
    workload_id = start_stream_app(api)
    artifact_id = api.get(f"/console/workloads/{workload_id}").json()["artifactId"]
    registered = api.patch(f"/registry/artifacts/{artifact_id}", json={"status": "registered"})
    assert registered.status_code == 200, registered.text
    deployed = api.post("/console/deployments/", json={"workloadId": workload_id, "name": "s"})
    assert deployed.status_code == 201, deployed.text
    invoke = f"/endpoints/deployments/{deployed.json()['id']}"
    first_events_then_release(api, invoke)
    with open_socket(server, f"{invoke}/ws") as ws:
        echo_both_ways(ws)
        ws.close(4003, "deployment caller leaves")
    assert wait_until(lambda: [4003, "deployment caller leaves"] in closes_seen(api, invoke))
    assert refused(server, f"{invoke}/ws", {}).status_code == 401


def test_the_current_profile_streams_and_upgrades(tmp_path: Path) -> None:
    with running_server(tmp_path / "current", *CURRENT) as current, current.client() as api:
        artifact = current_artifact(free_port(), "Hello", entrypoint=STREAM_APP)
        workload_id = create(api, "streaming", {"artifact": artifact})["id"]
        wait_for(api, workload_id, "running")
        invoke = f"/endpoints/workloads/{workload_id}"
        first_events_then_release(api, invoke)
        with open_socket(current, f"{invoke}/ws/headers", "Token") as ws:
            assert "authorization" not in json.loads(ws.recv(timeout=10))["headers"]
            echo_both_ways(ws)
            ws.send("close 4004 current")
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4004, "current")
        assert refused(current, f"{invoke}/ws", {}).status_code == 401
    kill_marked(tmp_path / "current")
