"""A small HTTP/1.1 app that misbehaves on purpose, for the invoke proxy's tests and benchmark.

Run it as a workload's entrypoint: ``python tests/misbehaving_app.py`` serves ``$PORT`` on
``$HOST`` (default ``127.0.0.1``). With ``$EVENTS`` naming a file it appends one line per event
there, so a test can see what reached the app and when its connections ended:

- ``open N`` when connection ``N`` is accepted,
- ``request N TARGET`` for each request on it (the request target exactly as received),
- ``closed N`` when it ends (the caller closed or reset it, or the app did).

Routes (``GET``):

- ``/readyz``, ``/ok``: ``200``.
- ``/hang``: never answers; the connection stays open until the caller closes it.
- ``/sse``: an event stream that sends ``data: one``, then waits for ``GET /release`` (or the
  caller to go away) before it sends ``data: two`` and ends.
- ``/release``: lets every waiting ``/sse`` stream finish.
- ``/reset``: resets the connection (TCP RST) without answering.
- ``/endless``: ``200`` with a chunked body that never ends (64 KiB chunks, as fast as the
  caller takes them), whatever the request (a WebSocket upgrade included).
- ``/stop-listening``: answers, closes the connection and the listening socket: from then on
  connections are refused, while the process keeps running.
- anything else: ``200`` with the request target as the body.

Only the standard library, on asyncio: hundreds of hanging connections cost no threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import struct
from typing import IO


class App:
    """The app's state: connection numbers, the events file, the ``/sse`` release."""

    def __init__(self, events_path: str | None) -> None:
        self.events: IO[str] | None = open(events_path, "a", buffering=1) if events_path else None  # noqa: SIM115
        self.connections = 0
        self.released = asyncio.Event()
        self.server: asyncio.Server | None = None

    def record(self, line: str) -> None:
        """Append one event line (line-buffered: a reader sees whole lines at once)."""
        if self.events is not None:
            self.events.write(line + "\n")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection: requests one after another until one of them ends it."""
        self.connections += 1
        number = self.connections
        self.record(f"open {number}")
        try:
            while await self.serve_one(number, reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.record(f"closed {number}")
            writer.close()

    async def serve_one(
        self, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Read and answer one request; whether the connection goes on."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        _, target, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
        self.record(f"request {number} {target}")
        path = target.partition("?")[0]
        if path == "/hang":
            await reader.read()  # until the caller closes the connection
            return False
        if path == "/sse":
            return await self.stream_events(reader, writer)
        if path == "/endless":
            await endless(writer)
            return False
        if path == "/release":
            self.released.set()
            self.released = asyncio.Event()
        if path == "/reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if path == "/stop-listening":
            assert self.server is not None
            self.server.close()
            await answer(writer, b"not listening any more", close=True)
            return False
        body = {"/readyz": b"ready", "/ok": b"ok"}.get(path, target.encode("latin-1"))
        await answer(writer, body)
        return True

    async def stream_events(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """``/sse``: one event now, the second once released; ``False`` if the caller left."""
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        writer.write(chunk(b"data: one\n\n"))
        await writer.drain()
        gone = asyncio.ensure_future(reader.read())
        released = asyncio.ensure_future(self.released.wait())
        await asyncio.wait({gone, released}, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (gone, released):
            waiter.cancel()
        if gone.done() and not gone.cancelled():
            return False
        writer.write(chunk(b"data: two\n\n") + b"0\r\n\r\n")
        await writer.drain()
        return True


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


async def endless(writer: asyncio.StreamWriter) -> None:
    """``/endless``: a ``200`` whose chunked body goes on until the caller leaves."""
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    piece = chunk(b"x" * 65536)
    while True:
        writer.write(piece)
        await writer.drain()


async def answer(writer: asyncio.StreamWriter, body: bytes, *, close: bool = False) -> None:
    """A ``200`` with ``body`` as plain text."""
    connection = b"connection: close\r\n" if close else b""
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n%s\r\n%s"
        % (len(body), connection, body)
    )
    await writer.drain()


async def main() -> None:
    """Serve until SIGTERM or SIGINT."""
    app = App(os.environ.get("EVENTS"))
    app.server = await asyncio.start_server(
        app.handle,
        os.environ.get("HOST", "127.0.0.1"),
        int(os.environ["PORT"]),
        reuse_address=True,
        backlog=1024,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"misbehaving app: serving on port {os.environ['PORT']}", flush=True)
    await stop.wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
