"""The invoke proxy's WebSockets: the caller's socket (ASGI, from uvicorn) joined to one the
proxy opens to the workload's app.

The upstream side is the ``websockets`` package's asyncio client, the same package that serves
the caller's side in uvicorn here: one dependency for both ends, C-accelerated framing and
masking (an echo through the proxy pays for four frame parses), and a client that takes the
socket we connected ourselves, so the connect timeout stays ours. httpx-ws would ride the
workload's httpx pool, but an upgraded connection is never returned to a pool anyway, and it
would bring wsproto (pure Python) for the framing.

What the HTTP side's rules become for a socket:

- **Limits.** A socket holds one of the workload's ``max_connections`` slots for its whole
  life (:meth:`InvokeProxy.slot`): sockets and calls count against one limit; none free within
  the connect timeout is ``503`` with ``Retry-After``. The TCP connection must come within the
  connect timeout, the app's answer to the upgrade within the read timeout (``504`` either
  way, ``503`` when nothing listens, ``502`` when the app does not speak HTTP): the refusal of
  the upgrade is an HTTP answer to the caller, in the same words as an HTTP call's. An app that
  answers the upgrade with its own status (``404``, ``403`` ...) has that answer passed on.
- **Silence is not a failure** once a socket is open (a chat waits for its user): the proxy
  pings the app every ``PING_INTERVAL`` s instead, and closes a socket whose app has not
  answered a ping within the read timeout.
- **Headers.** The app gets the caller's headers without the hop-by-hop ones (the server's
  token among them) and without the caller's own handshake fields (``Sec-WebSocket-Key`` ...):
  the subprotocols the caller offers are offered to the app, and the one the app picks is
  the one the caller gets. Compression is each hop's own business (none towards the app).
- **Messages** pass as they come, text as text, binary as binary, whole (fragments are joined
  by each side's library), with backpressure: nothing more is read from one side until the
  other has taken the last message.
- **Close.** A close frame passes with its code and reason, either way. A close without a code
  (1005) passes as 1000 (an ASGI close always has one); a caller gone without a close frame
  closes the app's socket with 1001 (going away); an app gone without one closes the
  caller's with 1014 (bad gateway). A caller gone ends the exchange at once, as for HTTP.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import httpx
from starlette.types import Receive, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from workloadlab.server.proxy import HOP_BY_HOP, Headers, InvokeProxy, passed_on, seconds

PING_INTERVAL = 20.0
"""Seconds between two pings of the app's socket (as uvicorn pings the caller's)."""
MAX_MESSAGE = 16 * 1024 * 1024
"""The largest message taken from the app: uvicorn's default for the caller's (``ws_max_size``)."""
HANDSHAKE_FIELDS = frozenset(
    {
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"sec-websocket-accept",
        b"date",
        b"server",
    }
)
"""Headers each hop's handshake sets for itself (never copied from the other hop)."""
NO_CODE = 1005
CALLER_GONE = 1001
APP_GONE = 1014


@dataclass
class AppRefused(Exception):
    """The app answered the upgrade with an HTTP answer of its own (not ``101``)."""

    status_code: int
    headers: Headers
    body: bytes


def upgrade_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """The caller's headers the app gets with the upgrade (no hop-by-hop, no handshake fields)."""
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in passed_on(headers)
        if name.lower() not in HANDSHAKE_FIELDS
    ]


def accept_headers(connection: ClientConnection) -> Headers:
    """The app's handshake headers the caller gets with its ``101`` (``Set-Cookie`` ...)."""
    assert connection.response is not None
    raw = _encoded(connection.response.headers.raw_items())
    return [(name, value) for name, value in passed_on(raw) if name.lower() not in HANDSHAKE_FIELDS]


def _encoded(items: Iterable[tuple[str, str]]) -> Headers:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in items]


async def _connected(target: str) -> socket.socket:
    """A TCP connection to ``target``'s host and port (``http://host:port``)."""
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
async def app_socket(
    proxy: InvokeProxy,
    workload_id: str,
    target: str,
    path_and_query: bytes,
    headers: Iterable[tuple[bytes, bytes]],
    subprotocols: Sequence[str],
) -> AsyncIterator[ClientConnection]:
    """An open WebSocket to the workload's app at ``path_and_query``, holding one of its slots.

    Raises the :class:`~workloadlab.server.problems.Problem` the HTTP side would (the same
    words, from :meth:`InvokeProxy.problem`), or :class:`AppRefused`.
    """
    limits = proxy.limits
    async with proxy.slot(workload_id, target):
        try:
            with anyio.fail_after(limits.connect_timeout):
                sock = await _connected(target)
        except TimeoutError:
            raise proxy.problem(workload_id, httpx.ConnectTimeout("")) from None
        except OSError as exc:
            raise proxy.problem(workload_id, httpx.ConnectError(str(exc))) from exc
        uri = f"ws://{urlsplit(target).netloc}{path_and_query.decode('ascii')}"
        try:
            app = await connect(
                uri,
                sock=sock,
                subprotocols=[Subprotocol(p) for p in subprotocols] or None,
                additional_headers=upgrade_headers(headers),
                user_agent_header=None,  # the caller's, if it sent one
                compression=None,
                proxy=None,  # never the environment's HTTP proxy: the app is ours to reach
                open_timeout=limits.read_timeout,
                ping_interval=PING_INTERVAL,
                ping_timeout=limits.read_timeout,
                max_size=MAX_MESSAGE,
            )
        except InvalidStatus as exc:
            response = exc.response
            head = passed_on(_encoded(response.headers.raw_items()))
            raise AppRefused(response.status_code, head, bytes(response.body or b"")) from exc
        except TimeoutError:
            sock.close()
            raise proxy.problem(workload_id, httpx.ReadTimeout("")) from None
        except (InvalidHandshake, OSError, EOFError) as exc:
            sock.close()
            gone = isinstance(exc, OSError | EOFError) or isinstance(exc.__cause__, EOFError)
            error = "Server disconnected" if gone else f"{type(exc).__name__}"
            raise proxy.problem(workload_id, httpx.RemoteProtocolError(error)) from exc
        try:
            yield app
        finally:
            with anyio.CancelScope(shield=True):
                await app.close(CALLER_GONE)


async def relay(app: ClientConnection, receive: Receive, send: Send, ping_limit: float) -> None:
    """Pass messages both ways until either side closes; the close passes on (see above)."""
    tasks = [
        asyncio.create_task(_caller_to_app(app, receive)),
        asyncio.create_task(_app_to_caller(app, send, ping_limit)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


async def _caller_to_app(app: ClientConnection, receive: Receive) -> None:
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text = message.get("text")
            try:
                await app.send(text if text is not None else message["bytes"])
            except ConnectionClosed:
                return  # the app left: the other task passes its close on
        elif kind == "websocket.disconnect":
            code = message.get("code", NO_CODE)
            if code in (NO_CODE, 1006) and "reason" not in message:
                # uvicorn's report of a connection lost without a close frame (a close frame
                # comes with its reason, empty or not)
                code, reason = CALLER_GONE, "the caller went away"
            else:
                code, reason = (1000 if code == NO_CODE else code), message.get("reason") or ""
            await app.close(code, reason)
            return


async def _app_to_caller(app: ClientConnection, send: Send, ping_limit: float) -> None:
    while True:
        try:
            data = await app.recv()
        except ConnectionClosed as closed:
            message = {"type": "websocket.close", **_passed_close(closed, ping_limit)}
        else:
            kind = "text" if isinstance(data, str) else "bytes"
            message = {"type": "websocket.send", kind: data}
        try:
            await send(message)
        except OSError:  # uvicorn's ClientDisconnected: the caller's side ends the exchange
            return
        if message["type"] == "websocket.close":
            return


def _passed_close(closed: ConnectionClosed, ping_limit: float) -> dict[str, object]:
    """The close the caller gets when the app's socket has closed."""
    if closed.rcvd is not None:
        code = closed.rcvd.code
        return {"code": 1000 if code == NO_CODE else code, "reason": closed.rcvd.reason}
    if closed.sent is not None and closed.sent.code == 1011:  # websockets' ping timeout
        return {"code": APP_GONE, "reason": f"the app answered no ping in {seconds(ping_limit)}"}
    return {"code": APP_GONE, "reason": "the app closed its connection without a close frame"}


__all__ = ["HOP_BY_HOP", "AppRefused", "app_socket", "relay"]
