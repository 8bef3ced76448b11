"""The invoke proxy under real workloads: a hanging app must not block the others, callers that
leave release the app's connection, timeouts and limits answer in words, answers stream, the
request target passes through byte for byte, and a workload's pool goes when it stops.

The misbehaving app (``misbehaving_app.py``) runs as a real workload and writes down every
connection it sees and when each one ends, which is what these tests assert on.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from workloadlab.cli import build_parser

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

MISBEHAVING_APP = Path(__file__).with_name("misbehaving_app.py")
ABANDONED_CALLS = 120
"""More calls than the proxy's one shared pool used to hold (100)."""
TIGHT_LIMITS = [
    "--invoke-max-connections",
    "4",
    "--invoke-connect-timeout",
    "1s",
    "--invoke-read-timeout",
    "3s",
]


class Events:
    """What the misbehaving app wrote down: ``open N``, ``request N TARGET``, ``closed N``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[str]:
        """Every event so far (none before the app started)."""
        try:
            return self.path.read_text().splitlines()
        except FileNotFoundError:
            return []

    def requests(self, path: str) -> list[tuple[int, str]]:
        """``(connection, target)`` of each request whose path is ``path``."""
        found = []
        for line in self.lines():
            kind, _, rest = line.partition(" ")
            number, _, target = rest.partition(" ")
            if kind == "request" and target.partition("?")[0] == path:
                found.append((int(number), target))
        return found

    def closed(self) -> set[int]:
        """Connections that have ended."""
        return {int(line.split()[1]) for line in self.lines() if line.startswith("closed ")}

    def connections_of(self, path: str) -> set[int]:
        """Connections that carried a request for ``path``."""
        return {number for number, _ in self.requests(path)}


def misbehaving_spec(port: int, events: Events, readiness_period: int = 1) -> dict[str, Any]:
    """An inline artifact running the misbehaving app on ``port``, writing to ``events``."""
    return hello_spec(
        port,
        entrypoint=[sys.executable, str(MISBEHAVING_APP)],
        environmentVars=[{"name": "EVENTS", "value": str(events.path)}],
        readinessProbe={"path": "/readyz", "periodSeconds": readiness_period},
    )


def start_misbehaving(
    api: httpx.Client, tmp_path: Path, readiness_period: int = 1
) -> tuple[str, Events]:
    """A running misbehaving workload and its events."""
    events = Events(tmp_path / f"events-{time.monotonic_ns()}")
    spec = misbehaving_spec(free_port(), events, readiness_period)
    workload_id = create_workload(api, "misbehaving", spec)
    wait_status(api, workload_id, "running")
    return workload_id, events


def start_hello(api: httpx.Client) -> str:
    """A running workload of the example app."""
    workload_id = create_workload(api, "healthy", hello_spec(free_port()))
    wait_status(api, workload_id, "running")
    return workload_id


def raw_call(server: LocalServer, path: str, extra: str = "") -> socket.socket:
    """A connection to the server that has sent ``GET /api/v2{path}`` (with ``extra`` header
    lines) and reads nothing yet."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    request = (
        f"GET /api/v2{path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {server.token}\r\n{extra}\r\n"
    )
    sock.sendall(request.encode())
    return sock


def read_until(sock: socket.socket, marker: bytes, timeout: float = 10.0) -> bytes:
    """Read from ``sock`` until ``marker`` has arrived; fail after ``timeout`` seconds."""
    sock.settimeout(timeout)
    received = b""
    while marker not in received:
        data = sock.recv(65536)
        assert data, f"connection closed before {marker!r}: {received!r}"
        received += data
    return received


def timed_get(
    client: httpx.Client, path: str, timeout: float = 10.0
) -> tuple[httpx.Response, float]:
    """``GET path`` and how long it took, in seconds."""
    began = time.monotonic()
    response = client.get(path, timeout=timeout)
    return response, time.monotonic() - began


def connections_to(server: LocalServer, port: int) -> list[Any]:
    """The server process's TCP connections to ``port`` on loopback."""
    assert server.process is not None
    return [
        conn
        for conn in psutil.Process(server.process.pid).net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port
    ]


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server with 4 connections per workload, a 1 s connect and a 3 s read timeout."""
    data_dir = tmp_path_factory.mktemp("tight")
    with running_server(data_dir, *TIGHT_LIMITS) as started:
        yield started
    kill_marked(data_dir)


def test_abandoned_calls_to_a_hanging_workload_do_not_block_another(
    server: LocalServer, api: httpx.Client, tmp_path: Path
) -> None:
    hanging, events = start_misbehaving(api, tmp_path)
    healthy = start_hello(api)
    calls = [
        raw_call(server, f"/endpoints/workloads/{hanging}/hang") for _ in range(ABANDONED_CALLS)
    ]
    wait_until(lambda: len(events.requests("/hang")) >= 100, timeout=30)
    for call in calls:
        call.close()  # the callers give up

    answer, took = timed_get(api, f"/endpoints/workloads/{healthy}/")
    assert answer.status_code == 200
    assert took < 5.0, f"the healthy workload answered in {took:.2f} s"
    # Each call that reached the app had its connection closed when its caller left, and
    # the app's own connections are free again.
    wait_until(lambda: events.connections_of("/hang") <= events.closed(), timeout=15)
    again, took = timed_get(api, f"/endpoints/workloads/{hanging}/ok")
    assert (again.status_code, again.text) == (200, "ok")
    assert took < 5.0, f"the hanging workload's next call was answered in {took:.2f} s"


def test_a_workload_at_its_limit_answers_503_while_another_answers_at_once(
    tight: LocalServer, tmp_path: Path
) -> None:
    with tight.client() as api:
        hanging, events = start_misbehaving(api, tmp_path)
        healthy = start_hello(api)
        calls = [raw_call(tight, f"/endpoints/workloads/{hanging}/hang") for _ in range(10)]
        try:
            wait_until(lambda: len(events.requests("/hang")) >= 4)
            answer, took = timed_get(api, f"/endpoints/workloads/{healthy}/")
            assert answer.status_code == 200
            assert took < 1.0, f"the healthy workload answered in {took:.2f} s"

            busy = api.get(f"/endpoints/workloads/{hanging}/hang")  # waits for 1 s, then 503
            assert busy.status_code == 503
            assert int(busy.headers["retry-after"]) >= 1
            assert busy.json() == {
                "detail": f"Workload {hanging} is busy: all 4 of its connections are in use "
                "and none came free within 1 s; retry later"
            }
            heads = [read_until(call, b"\r\n\r\n").split(b"\r\n", 1)[0] for call in calls]
            assert heads.count(b"HTTP/1.1 503 Service Unavailable") == 6
            assert heads.count(b"HTTP/1.1 504 Gateway Timeout") == 4  # after the read timeout
            assert len(events.requests("/hang")) == 4, "only 4 calls at a time reach the app"
        finally:
            for call in calls:
                call.close()


def test_calls_given_up_while_waiting_for_a_connection_leave_none_taken(
    tight: LocalServer, tmp_path: Path
) -> None:
    with tight.client() as api:
        hanging, events = start_misbehaving(api, tmp_path)
        for round in range(1, 4):
            calls = [raw_call(tight, f"/endpoints/workloads/{hanging}/hang") for _ in range(12)]
            wait_until(lambda round=round: len(events.requests("/hang")) >= 4 * round)
            for call in calls:  # 4 hold the app's connections, 8 wait for one: all give up
                call.close()
            wait_until(lambda: events.connections_of("/hang") <= events.closed())
            again = api.get(f"/endpoints/workloads/{hanging}/ok")
            assert (again.status_code, again.text) == (200, "ok"), f"round {round}"


def test_an_app_that_does_not_answer_gets_504_after_the_read_timeout(
    tight: LocalServer, tmp_path: Path
) -> None:
    with tight.client() as api:
        hanging, events = start_misbehaving(api, tmp_path)
        answer, took = timed_get(api, f"/endpoints/workloads/{hanging}/hang", timeout=30)
        assert answer.status_code == 504
        assert answer.json() == {"detail": f"Workload {hanging} did not answer within 3 s"}
        assert 3.0 <= took < 13.0
        wait_until(lambda: events.connections_of("/hang") <= events.closed(), timeout=5)


def test_an_answer_the_app_stops_sending_is_cut_off_after_the_read_timeout(
    tight: LocalServer, tmp_path: Path
) -> None:
    with tight.client() as api:
        streaming, events = start_misbehaving(api, tmp_path)
        with api.stream("GET", f"/endpoints/workloads/{streaming}/sse", timeout=30) as response:
            assert response.status_code == 200  # the head is out: no 504 any more
            chunks = response.iter_raw()
            assert next(chunks) == b"data: one\n\n"
            began = time.monotonic()
            with pytest.raises(httpx.RemoteProtocolError, match="incomplete"):
                b"".join(chunks)  # the app sends nothing more: the stream ends unfinished
            assert 3.0 - 0.1 <= time.monotonic() - began < 13.0
        wait_until(lambda: events.connections_of("/sse") <= events.closed(), timeout=5)


def test_a_caller_that_leaves_before_the_answer_releases_the_apps_connection(
    server: LocalServer, api: httpx.Client, tmp_path: Path
) -> None:
    hanging, events = start_misbehaving(api, tmp_path)
    call = raw_call(server, f"/endpoints/workloads/{hanging}/hang")
    ((number, _),) = wait_until(lambda: events.requests("/hang"))
    assert number not in events.closed()
    call.close()
    wait_until(lambda: number in events.closed(), timeout=5)


def test_a_caller_that_leaves_mid_stream_releases_the_apps_connection(
    server: LocalServer, api: httpx.Client, tmp_path: Path
) -> None:
    streaming, events = start_misbehaving(api, tmp_path)
    call = raw_call(server, f"/endpoints/workloads/{streaming}/sse")
    read_until(call, b"data: one\n\n")
    ((number, _),) = events.requests("/sse")
    call.close()  # the app sends nothing more until released: only the proxy can notice
    wait_until(lambda: number in events.closed(), timeout=5)


def test_event_streams_reach_the_caller_as_the_app_sends_them(
    api: httpx.Client, tmp_path: Path
) -> None:
    streaming, _ = start_misbehaving(api, tmp_path)
    path = f"/endpoints/workloads/{streaming}"
    with api.stream("GET", f"{path}/sse", timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        chunks = response.iter_raw()
        received = b""
        while b"data: one\n\n" not in received:
            received += next(chunks)  # the app waits for /release before it sends more
        assert received == b"data: one\n\n"
        assert api.get(f"{path}/release").status_code == 200
        assert b"".join(chunks) == b"data: two\n\n"


def test_the_request_target_passes_through_byte_for_byte(api: httpx.Client) -> None:
    healthy = start_hello(api)
    target = "/deep/a%2Fb?flag&x=%FF&y=a+b"
    answer = api.get(f"/endpoints/workloads/{healthy}{target}")
    assert answer.status_code == 200
    assert answer.json()["path"] == target
    assert api.get(f"/endpoints/workloads/{healthy}").json()["path"] == "/"
    assert api.get(f"/endpoints/workloads/{healthy}/?q=1").json()["path"] == "/?q=1"


def test_an_app_that_refuses_connections_answers_503_in_words(
    api: httpx.Client, tmp_path: Path
) -> None:
    # Readiness probed every 30 s: the workload stays running while nothing listens.
    quitting, _ = start_misbehaving(api, tmp_path, readiness_period=30)
    path = f"/endpoints/workloads/{quitting}"
    assert api.get(f"{path}/stop-listening").status_code == 200
    refused = api.get(f"{path}/ok")
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json() == {
        "detail": f"Workload {quitting} refused the connection: nothing listens on its port "
        "(it may be restarting); retry later"
    }


def test_an_app_that_resets_the_connection_answers_502_in_words(
    api: httpx.Client, tmp_path: Path
) -> None:
    resetting, _ = start_misbehaving(api, tmp_path)
    reset = api.get(f"/endpoints/workloads/{resetting}/reset")
    assert reset.status_code == 502
    assert reset.json() == {
        "detail": f"Workload {resetting} closed the connection without answering"
    }


def test_a_stopped_or_deleted_workloads_connections_are_released(
    server: LocalServer, api: httpx.Client
) -> None:
    ports = {"to-stop": free_port(), "to-delete": free_port()}
    ids = {name: create_workload(api, name, hello_spec(port)) for name, port in ports.items()}
    for name, port in ports.items():
        wait_status(api, ids[name], "running")
        assert api.get(f"/endpoints/workloads/{ids[name]}/").status_code == 200
        wait_until(lambda port=port: connections_to(server, port))  # kept alive for the next
    assert api.post(f"/console/workloads/{ids['to-stop']}/stop").status_code == 202
    assert api.delete(f"/console/workloads/{ids['to-delete']}").status_code == 204
    wait_status(api, ids["to-stop"], "stopped")
    # Released within the proxy's sweep interval (5 s), with no call to prompt it.
    wait_until(lambda: not any(connections_to(server, port) for port in ports.values()), 10)


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--invoke-max-connections", "0"),
        ("--invoke-read-timeout", "0s"),
        ("--invoke-connect-timeout", "soon"),
    ],
)
def test_invoke_flags_refuse_values_that_cannot_work(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", flag, value])
    assert f"argument {flag}:" in capsys.readouterr().err


def test_openapi_documents_the_invoke_answers_with_unique_operation_ids(
    server: LocalServer,
) -> None:
    with server.client() as api:
        schema = api.get("/openapi.json").json()
    ids = []
    for kind in ("workloads", "deployments"):
        operations = schema["paths"][f"/api/v2/endpoints/{kind}/{{{kind[:-1]}_id}}/{{path}}"]
        assert {"get", "post", "put", "patch", "delete"} <= set(operations)
        for method, operation in operations.items():
            ids.append(operation["operationId"])
            assert operation["operationId"] == f"invoke_{kind[:-1]}_{method}"
            responses = operation["responses"]
            assert {"200", "404", "502", "503", "504"} <= set(responses)
            for code in ("502", "504"):
                error = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert error.endswith("/ErrorBody")
    assert len(ids) == len(set(ids)), f"duplicate operation ids: {sorted(ids)}"
