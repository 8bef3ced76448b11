"""HTTP limits of the local server: request body size on API routes, and idle connections.

A body over ``--max-body-bytes`` is ``413`` with a JSON ``detail``, whether it declares its
length or streams in chunks, and nothing is stored; the invoke proxy is not limited (apps take
uploads). A connection that sends no complete request head within ``--keep-alive-timeout``
(nothing at all, a trickle of header bytes, or nothing after its last answer) is closed.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness import LocalServer, create_workload, free_port, hello_spec, running_server, wait_status

MIB = 1024 * 1024


def _counts(api: httpx.Client) -> tuple[int, int]:
    return (
        api.get("/console/workloads/").json()["totalCount"],
        api.get("/registry/artifacts/").json()["totalCount"],
    )


def _big_artifact(value_bytes: int) -> dict[str, object]:
    return hello_spec(free_port(), env={"BIG": "x" * value_bytes})


def _assert_too_large(answer: httpx.Response, limit: int) -> None:
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["content-type"] == "application/json"
    detail = answer.json()["detail"]
    assert str(limit) in detail
    assert "--max-body-bytes" in detail


def test_a_10_mb_body_is_413_and_nothing_is_stored(api: httpx.Client) -> None:
    before = _counts(api)
    answer = api.post("/registry/artifacts/", json=_big_artifact(10 * MIB))
    _assert_too_large(answer, MIB)
    inline = api.post("/console/workloads/", json={"name": "big", "artifact": _big_artifact(MIB)})
    _assert_too_large(inline, MIB)
    assert _counts(api) == before
    assert api.post("/registry/artifacts/", json=_big_artifact(MIB // 2)).status_code == 201


def test_a_chunked_body_without_length_is_counted_as_it_streams(api: httpx.Client) -> None:
    before = _counts(api)
    chunk = b" " * 65536

    def endless_whitespace() -> Iterator[bytes]:
        yield b'{"name": "streamed",'
        for _ in range(40):  # 2.5 MiB of JSON whitespace
            yield chunk
        yield b'"spec": {}}'

    answer = api.post(
        "/registry/artifacts/",
        content=endless_whitespace(),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in answer.request.headers
    _assert_too_large(answer, MIB)
    assert _counts(api) == before
    small = api.post(
        "/registry/artifacts/",
        content=iter([b'{"name": "x",', b' "spec": 1}']),
        headers={"content-type": "application/json"},
    )
    assert small.status_code == 422  # read whole and validated: the limit let it through


def test_the_limit_is_a_serve_option_and_the_invoke_proxy_is_not_limited(
    data_dir: Path,
) -> None:
    with running_server(data_dir, "--max-body-bytes", "4096") as server, server.client() as api:
        _assert_too_large(api.post("/registry/artifacts/", json=_big_artifact(5000)), 4096)
        workload_id = create_workload(api, "uploads", hello_spec(free_port()))
        wait_status(api, workload_id, "running")
        upload = b"u" * (3 * MIB)
        echoed = api.post(f"/endpoints/workloads/{workload_id}/echo", content=upload)
        assert echoed.status_code == 200
        assert echoed.content == upload
        api.delete(f"/console/workloads/{workload_id}/")


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server that closes connections idle for 1 s."""
    data_dir = tmp_path_factory.mktemp("impatient")
    with running_server(data_dir, "--keep-alive-timeout", "1s") as server:
        yield server


def _connect(server: LocalServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _read_answer(sock: socket.socket) -> bytes:
    """One whole HTTP answer (head and ``Content-Length`` body) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _closed_after(sock: socket.socket, trickle: bytes = b"", gap: float = 0.25) -> float:
    """Seconds until the server closes ``sock``, sending ``trickle`` a byte at a time meanwhile;
    fails if it is still open after 10 s."""
    start = time.monotonic()
    sock.settimeout(gap)
    pending = list(trickle)
    while time.monotonic() - start < 10:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - start
        if pending:
            try:
                sock.send(bytes([pending.pop(0)]))
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start
    raise AssertionError("the server kept an idle connection open for 10 s")


def test_a_connection_that_sends_nothing_is_closed(impatient_server: LocalServer) -> None:
    with _connect(impatient_server) as sock:
        assert 0.5 < _closed_after(sock) < 5


def test_a_trickled_request_head_is_closed(impatient_server: LocalServer) -> None:
    head = b"GET /api/v2/console/workloads/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200
    with _connect(impatient_server) as sock:
        assert 0.5 < _closed_after(sock, trickle=head, gap=0.05) < 5


def test_an_idle_keep_alive_connection_is_closed_and_a_busy_one_is_kept(
    impatient_server: LocalServer,
) -> None:
    request = (
        b"GET /api/v2/console/workloads/ HTTP/1.1\r\nHost: localhost\r\n"
        b"Authorization: Bearer " + impatient_server.token.encode() + b"\r\n\r\n"
    )
    with _connect(impatient_server) as sock:
        for _ in range(4):  # a request every 0.5 s keeps it open past the 1 s timeout
            sock.sendall(request)
            assert _read_answer(sock).startswith(b"HTTP/1.1 200")
            time.sleep(0.5)
        assert 0 < _closed_after(sock) < 5
