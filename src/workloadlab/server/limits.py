"""HTTP limits of the local server: the size of request bodies, and how long a connection may
idle.

- :class:`BodyLimitMiddleware` (pure ASGI) reads an API request's body before the app sees it
  and answers ``413`` once it passes ``--max-body-bytes``, counting what actually arrives, so a
  chunked body without ``Content-Length`` is held to the same limit. The app then gets the body
  in one message (FastAPI reads it whole anyway). The invoke proxy's paths are not limited:
  apps take uploads, streamed through.
- :class:`RequestHeadDeadline` is uvicorn's h11 protocol with a deadline on each request head.
  uvicorn closes a connection left idle after an answer (``timeout_keep_alive``), but not one
  that never sends a request, nor one that trickles a header byte now and then (each byte
  restarts its timer): slowloris holds a server's connections that way. Here a connection must
  deliver a complete request head within the same timeout of opening or of its last answer.
"""

from __future__ import annotations

import asyncio

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from workloadlab.server.problems import send_problem

DRAIN_FACTOR = 16
"""A body over the limit is still read (and dropped) up to this many times the limit, so that
clients that send the whole body before reading the answer (most do) see the ``413`` instead
of a broken pipe; past that the connection is closed."""


class BodyLimitMiddleware:
    """Answers ``413`` to a request whose body passes ``max_body_bytes`` (paths starting with
    ``unlimited_prefix`` excepted)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, unlimited_prefix: str) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.unlimited_prefix = unlimited_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.unlimited_prefix):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._refuse(receive, send, declared)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let the app see it
                await self.app(scope, _replay(message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                more = message.get("more_body", False)
                await self._refuse(receive if more else None, send, size)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, receive: Receive | None, send: Send, seen: int) -> None:
        """Drop the rest of the body (within reason), then answer ``413`` and close."""
        drain_cap = DRAIN_FACTOR * self.max_body_bytes
        while receive is not None and seen <= drain_cap:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client is gone: nobody to answer
            seen += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        detail = (
            f"Request body too large: this server accepts at most {self.max_body_bytes} bytes"
            " on its API routes (serve option --max-body-bytes)"
        )
        await send_problem(send, 413, detail, [(b"connection", b"close")])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # h11 refuses such a request before it gets here
    return None


def _replay(first: Message, receive: Receive) -> Receive:
    """A ``receive`` that answers ``first`` once, then whatever ``receive`` answers."""
    pending: list[Message] = [first]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


class RequestHeadDeadline(H11Protocol):
    """uvicorn's h11 protocol, closing a connection that has not delivered a complete request
    head within ``timeout_keep_alive`` of opening or of its last answer."""

    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request head."""
        super().connection_made(transport)
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        """Stop the clock once a request head is complete (h11 has left ``IDLE``)."""
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_deadline()

    def on_response_complete(self) -> None:
        """Start the clock for the next request head (unless one is already in)."""
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the clock."""
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        self._cancel_head_deadline()
        self._head_deadline = self.loop.call_later(self.timeout_keep_alive, self._head_overdue)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_overdue(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
