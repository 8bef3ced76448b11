"""The prober against real sockets on loopback: what it sends, which answers count, and that
it never hangs on an app that does not answer."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from workloadlab.models import Probe
from workloadlab.server.probes import Prober, parse_status_line, request_bytes

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def app(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on a free loopback port running ``handler`` per connection."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def answering(status: str, seen: list[bytes] | None = None) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if seen is not None:
            seen.append(head)
        writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 2\r\n\r\nok".encode())
        await writer.drain()
        writer.close()

    return handle


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("status", "expected"), [("200 OK", 200), ("302 Found", 302), ("503 Not Ready", 503)]
)
async def test_the_status_of_the_answer(status: str, expected: int) -> None:
    async with app(answering(status)) as port:
        assert await Prober().check(Probe(path="/readyz"), port) == expected


async def test_nobody_listening_is_no_answer_at_once() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    probe = Probe(path="/readyz", timeout_seconds=5)
    assert await Prober().check(probe, free_port()) is None
    assert loop.time() - started < probe.timeout_seconds, "refused, not timed out"


async def test_an_app_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the prober gives up and closes

    async with app(silent) as port:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await Prober().check(Probe(path="/readyz", timeout_seconds=0.2), port) is None
        assert 0.2 <= loop.time() - started < 2.0


async def test_garbage_is_no_answer() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
        writer.close()

    async with app(garbage) as port:
        assert await Prober().check(Probe(path="/readyz"), port) is None


async def test_the_request_carries_the_specs_headers_and_an_escaped_path() -> None:
    seen: list[bytes] = []
    probe = Probe(path="/ready z?x=1", http_headers={"X-Probe": "yes", "Host": "app.local"})
    async with app(answering("200 OK", seen)) as port:
        assert await Prober().check(probe, port) == 200
    head = seen[0].decode()
    assert head.startswith("GET /ready%20z?x=1 HTTP/1.1\r\n")
    assert "\r\nX-Probe: yes\r\n" in head
    assert "\r\nHost: app.local\r\n" in head
    assert f"127.0.0.1:{port}" not in head
    assert "\r\nConnection: close\r\n" in head


def test_the_default_host_header_names_the_probed_port() -> None:
    head = request_bytes(Probe(path="/healthz"), "127.0.0.1", 8080).decode()
    assert "\r\nHost: 127.0.0.1:8080\r\n" in head
    assert head.endswith("\r\n\r\n")
    assert "\r\nHost: [::1]:8080\r\n" in request_bytes(Probe(path="/"), "::1", 8080).decode()


@pytest.mark.parametrize("line", [b"", b"HTTP/1.1\r\n", b"HTTP/1.1 20 OK\r\n", b"FTP 200 OK"])
def test_status_lines_that_are_not_http(line: bytes) -> None:
    with pytest.raises(ValueError, match="not an HTTP status line"):
        parse_status_line(line)
