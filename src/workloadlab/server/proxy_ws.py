"""The invoke proxy's WebSockets towards the apps: the upgrade passed on to the app, whose
connection then becomes one end of a byte tunnel (:mod:`~workloadlab.server.proxy_tunnel`).

The app's side needs no WebSocket library: the proxy sends the caller's upgrade request on
(HTTP/1.1, written and read with h11), and once the app has answered ``101`` nothing but bytes
pass. The caller's ``Sec-WebSocket-*`` fields go through untouched, so the caller and the app
negotiate key, version, subprotocol and compression between themselves, and every frame after
is theirs.

What the HTTP side's rules become for a socket:

- **Limits.** A socket holds one of the workload's ``max_connections`` slots for its whole
  life (:meth:`InvokeProxy.slot`): sockets and calls count against one limit; none free within
  the connect timeout is ``503`` with ``Retry-After``. The TCP connection must come within the
  connect timeout, the app's answer to the upgrade within the read timeout (``504`` either
  way, ``503`` when nothing listens, ``502`` when the app does not speak HTTP), all in the
  words of :meth:`InvokeProxy.problem`. An app that answers the upgrade with its own status
  (``404``, ``403`` ...) has that answer passed on (:class:`AppRefused`).
- **Silence is not a failure** once a socket is open (a chat waits for its user): the tunnel
  has no read timeout; pings, if any, are the caller's and the app's.
- **Headers.** The app gets the caller's headers without the hop-by-hop ones (the server's
  token among them), with ``Connection: Upgrade`` and ``Upgrade: websocket`` set again.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import h11
import httpx

from workloadlab.server.proxy import Headers, InvokeProxy, passed_on

READ_SIZE = 65536
REFUSAL_LIMIT = 65536
"""Bytes of an app's own answer to an upgrade (not ``101``) passed on at most: uvicorn sends
such an answer whole, so an app whose body never ends would be kept in memory until the read
timeout (and the caller left waiting for a ``504``)."""
UPGRADE = [(b"connection", b"Upgrade"), (b"upgrade", b"websocket")]


@dataclass
class AppRefused(Exception):
    """The app answered the upgrade with an HTTP answer of its own (not ``101``)."""

    status_code: int
    headers: Headers
    body: bytes


@dataclass
class Upgraded:
    """The app's side of an accepted upgrade: its ``101`` (and any bytes it sent after) for
    the caller, and the connection to join to the caller's."""

    head: bytes
    sock: socket.socket


async def _connected(target: str) -> socket.socket:
    """A non-blocking TCP connection to ``target``'s host and port (``http://host:port``)."""
    parts = urlsplit(target)
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(parts.hostname, parts.port or 80, type=socket.SOCK_STREAM)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock


@asynccontextmanager
async def app_upgrade(
    proxy: InvokeProxy,
    workload_id: str,
    target: str,
    path_and_query: bytes,
    headers: Iterable[tuple[bytes, bytes]],
) -> AsyncIterator[Upgraded]:
    """The app's acceptance of the caller's upgrade to ``path_and_query``, holding one of the
    workload's slots until the way out (the socket is the caller's to close once handed on).

    Raises the :class:`~workloadlab.server.problems.Problem` the HTTP side would, or
    :class:`AppRefused`.
    """
    async with proxy.slot(workload_id, target):
        try:
            with anyio.fail_after(proxy.limits.connect_timeout):
                sock = await _connected(target)
        except TimeoutError:
            raise proxy.problem(workload_id, httpx.ConnectTimeout("")) from None
        except OSError as exc:
            raise proxy.problem(workload_id, httpx.ConnectError(str(exc))) from exc
        host = urlsplit(target).netloc.encode()
        request = h11.Request(
            method="GET",
            target=path_and_query,
            headers=[(b"host", host), *passed_on(headers), *UPGRADE],
        )
        try:
            head = await _answer_to(proxy, workload_id, sock, request)
        except BaseException:  # refused, failed, or the caller left (cancelled) meanwhile
            sock.close()
            raise
        yield Upgraded(head, sock)


async def _answer_to(
    proxy: InvokeProxy, workload_id: str, sock: socket.socket, request: h11.Request
) -> bytes:
    """:func:`_handshake` within the read timeout, its failures in the HTTP routes' words."""
    try:
        with anyio.fail_after(proxy.limits.read_timeout):
            return await _handshake(sock, request)
    except TimeoutError:
        raise proxy.problem(workload_id, httpx.ReadTimeout("")) from None
    except (h11.RemoteProtocolError, OSError) as exc:
        gone = isinstance(exc, OSError) or "closed" in str(exc)
        error = "Server disconnected" if gone else "not HTTP"
        raise proxy.problem(workload_id, httpx.RemoteProtocolError(error)) from exc


async def _handshake(sock: socket.socket, request: h11.Request) -> bytes:
    """Send the upgrade request and read the app's answer: its ``101`` head and what followed
    it, or :class:`AppRefused` with its answer (the first ``REFUSAL_LIMIT`` bytes of its body:
    the caller gets it at once, even when the app's body never ends)."""
    loop = asyncio.get_running_loop()
    conn = h11.Connection(h11.CLIENT)
    await loop.sock_sendall(sock, conn.send(request) or b"")
    refusal: AppRefused | None = None
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await loop.sock_recv(sock, READ_SIZE))
        elif isinstance(event, h11.InformationalResponse) and event.status_code == 101:
            head = [b"HTTP/1.1 101 ", event.reason or b"Switching Protocols", b"\r\n"]
            for name, value in event.headers.raw_items():
                head += [name, b": ", value, b"\r\n"]
            return b"".join([*head, b"\r\n", conn.trailing_data[0]])
        elif isinstance(event, h11.Response):
            headers = passed_on(event.headers.raw_items())
            kept = [(name, value) for name, value in headers if name.lower() != b"content-length"]
            refusal = AppRefused(event.status_code, kept, b"")  # uvicorn counts the body sent
        elif isinstance(event, h11.Data) and refusal is not None:
            refusal.body += bytes(event.data[: REFUSAL_LIMIT - len(refusal.body)])
            if len(refusal.body) >= REFUSAL_LIMIT:
                raise refusal
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed) and refusal is not None:
            raise refusal
        elif isinstance(event, h11.ConnectionClosed):
            raise h11.RemoteProtocolError("the app closed the connection")
