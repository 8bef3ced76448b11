"""The caller's side of the invoke proxy's WebSockets: once the app has accepted the upgrade,
the caller's connection and the app's are joined into a byte tunnel.

uvicorn serves WebSockets to ASGI apps as messages: each frame parsed, queued, handed to the
app, framed again. Relaying those messages to the app through a WebSocket client (the
``websockets`` package's) made an echo round trip three times as long as straight to the app
(``benchmarks/stream.py``: 0.49 ms against 0.16 ms). Behind the handshake, a proxy has nothing to
do with the frames, so, as HTTP proxies do, the proxy here passes the bytes on: every frame,
control frames included, exactly as sent, with no parsing on the way.

:class:`TunnelingWebSocketProtocol` is uvicorn's WebSocket protocol (``websockets``' sans-I/O
one) that offers the ASGI extension ``workloadlab.tunnel``. The app (the invoke route) answers
the upgrade with ``{"type": "workloadlab.tunnel.open", "head": ..., "socket": ...}``: ``head``,
the app's ``101`` answer (and any bytes the app sent after it), goes to the caller as is, and
from then on the bytes of either connection are written to the other, each side's reading
paused while the other's writing is (backpressure). Either connection ending closes the other;
the ASGI app then gets ``websocket.disconnect`` and returns.

What follows for WebSocket semantics: messages, close codes and reasons, pings, subprotocols
and compression are the caller's and the app's business, end to end. A side that vanishes
without a close frame has the other's TCP connection closed at once (the other sees 1006,
abnormal closure, as behind any proxy that does not read the frames).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

TUNNEL = "workloadlab.tunnel"
"""The ASGI extension (and message type prefix) of the tunnel."""


class _AppSide(asyncio.Protocol):
    """The app's connection, once tunnelled: its bytes go to the caller."""

    def __init__(self, caller: asyncio.Transport) -> None:
        self._caller = caller

    def data_received(self, data: bytes) -> None:
        self._caller.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._caller.close()  # the app left: so does the caller's connection

    def pause_writing(self) -> None:
        self._caller.pause_reading()  # the app is not taking bytes: stop reading the caller's

    def resume_writing(self) -> None:
        self._caller.resume_reading()


class TunnelingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, which the ASGI app may turn into a byte tunnel to another
    connection before it accepts the upgrade (see the module's notes)."""

    _app: asyncio.Transport | None = None
    _tunnelling = False
    _early: list[bytes] | None = None
    """Caller bytes that came before the app's connection was joined (sent on to it then)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # websockets logs every header of the upgrade at debug level, the caller's token among
        # them; the tunnel parses no frame either, so this connection logs nothing of its own.
        self.conn.debug = False

    def handle_connect(self, event: Request) -> None:
        """Offer the tunnel to the ASGI app (whose task has not started yet)."""
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][TUNNEL] = {}

    async def send(self, message: Any) -> None:
        """``workloadlab.tunnel.open``, or uvicorn's own messages."""
        if message["type"] != f"{TUNNEL}.open":
            await super().send(message)
            return
        sock: socket.socket = message["socket"]
        if self.disconnected:  # the caller left while the app was answering: nothing to join
            sock.close()
            return
        if self.handshake_complete:
            sock.close()
            raise RuntimeError("a tunnel opens instead of the handshake, before it")
        self.handshake_complete = True
        self.close_sent = True  # nothing of uvicorn's is sent on this connection any more
        self._tunnelling = True
        self._early = []
        self.transport.write(message["head"])
        loop = asyncio.get_running_loop()
        try:
            app, _ = await loop.create_connection(lambda: _AppSide(self.transport), sock=sock)
        except BaseException:
            sock.close()
            self.transport.close()
            raise
        if self.transport.is_closing():  # the caller left meanwhile
            app.close()
            return
        self._app = app
        for data in self._early:
            app.write(data)
        self._early = None

    def data_received(self, data: bytes) -> None:
        """The caller's bytes: to the app once tunnelled, else to uvicorn's parser."""
        if not self._tunnelling:
            super().data_received(data)
        elif self._app is not None:
            self._app.write(data)
        elif self._early is not None:
            self._early.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        """The caller left: so does the app's connection."""
        if self._app is not None:
            self._app.close()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        """The caller is not taking bytes: stop reading the app's."""
        super().pause_writing()
        if self._app is not None:
            self._app.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._app is not None:
            self._app.resume_reading()

    def shutdown(self) -> None:
        """The server stops: a tunnel ends at once (uvicorn's sockets get 1012)."""
        if not self._tunnelling:
            super().shutdown()
            # uvicorn has answered an upgrade still under way (500): when the app then returns
            # without a handshake, uvicorn must not answer it again (websockets asserts).
            self.handshake_complete = True
            return
        if self._app is not None:
            self._app.close()
        self.transport.close()
