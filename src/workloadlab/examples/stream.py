"""A streaming app for trying out the invoke proxy: ``python -m workloadlab.examples.stream``.

It answers like a chat model would, a token at a time, over server-sent events, and echoes
over a WebSocket. Standard library only (asyncio), so it runs as it is in ``python:3.12-slim``.

Environment:

- ``PORT`` (required): the port to serve; exit status 2 if it is missing or not a port.
- ``HOST``: the address to bind, default ``127.0.0.1`` (containers need ``0.0.0.0``).
- ``GREETING``: the first word of every answer, default ``Hello``.
- ``THINK_SECONDS``: the wait before the first token (a model reading its prompt), default 0.
- ``TOKEN_SECONDS``: the wait between two tokens, default 0.05.

Routes:

- ``GET /healthz``, ``GET /readyz``: ``200 ok`` (the probes).
- ``GET /tokens?prompt=TEXT``: ``text/event-stream``, one ``data: TOKEN`` event per word of
  ``GREETING! You said: TEXT`` (``n=N`` more words ``token1 token2 ...`` after it), then
  ``event: done`` with ``data: [DONE]``. With ``hold=1`` the answer waits after its first token
  until ``POST /release``: the first token is out before the answer is complete, which shows
  (and lets a test prove) that nothing between the app and the caller holds it back.
- ``POST /release``: lets every held answer go on.
- ``GET /chunked?n=N``: a chunked ``text/plain`` body of ``N`` lines (default 3), a chunk each.
- ``GET /headers``: ``{"headers": {...}}``, the request headers as received (lower-case).
- ``GET /closes``: ``{"closes": [[code, reason], ...]}``, the close frames callers sent
  (``[1006, ""]`` for a connection that ended without one).
- WebSocket ``/ws``: echoes every message (text as text, binary as binary). The text
  ``close CODE REASON`` (a code of 1000-4999) makes the app close the socket with that code and
  reason. A frame over 16 MiB is answered with a close frame, code 1009.
- WebSocket ``/ws/headers``: first sends the handshake's headers (one JSON text message), then
  echoes. A subprotocol the caller offers is accepted (the first one).

It prints ``stream: serving on HOST:PORT`` on start and one line per request to stdout, and
exits 0 on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import signal
import struct
import sys
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, unquote_plus

MAX_LINE = 65536
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024
MAX_MESSAGE = 16 * 1024 * 1024
HOLD_LIMIT = 60.0
"""Seconds a held answer waits for ``POST /release`` at most."""
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}

Headers = dict[str, str]
Writer = asyncio.StreamWriter


class BadRequest(Exception):
    """Not HTTP (or not a WebSocket) this app understands: answer 400 and close."""


class TooLarge(Exception):
    """A WebSocket frame over ``MAX_MESSAGE`` bytes; ``remaining``: its payload, unread."""

    def __init__(self, remaining: int) -> None:
        super().__init__(remaining)
        self.remaining = remaining


async def skip(reader: asyncio.StreamReader, count: int) -> None:
    """Read ``count`` bytes and drop them."""
    while count > 0:
        chunk = await reader.read(min(count, MAX_LINE))
        if not chunk:
            raise asyncio.IncompleteReadError(b"", count)
        count -= len(chunk)


def _log(message: str) -> None:
    sys.stdout.write(f"stream: {message}\n")
    sys.stdout.flush()


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        sys.stderr.write(f"stream: ${name} must be a number of seconds, got {raw!r}\n")
        sys.exit(2)


def answer_words(greeting: str, prompt: str, extra: int) -> list[str]:
    """The tokens of an answer to ``prompt``."""
    words = f"{greeting}! You said: {prompt}".split()
    return words + [f"token{i}" for i in range(1, extra + 1)]


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode() + WEBSOCKET_GUID).digest()).decode()


def unmask(mask: bytes, payload: bytes) -> bytes:
    """A client frame's payload, unmasked (one big-integer XOR: fast enough for echoes)."""
    size = len(payload)
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


def frame(opcode: int, payload: bytes) -> bytes:
    """One unfragmented, unmasked frame (servers do not mask)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


class App:
    """The routes, and what they share (the release of held answers, the closes seen)."""

    def __init__(self) -> None:
        self.greeting = os.environ.get("GREETING", "Hello")
        self.think = _seconds("THINK_SECONDS", 0.0)
        self.gap = _seconds("TOKEN_SECONDS", 0.05)
        self.release = asyncio.Event()
        self.closes: list[tuple[int, str]] = []

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Requests in a row until the client closes, or one upgrade to a WebSocket."""
        peer = writer.get_extra_info("peername", ("?", 0))[0]
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    break
                method, target, headers, _body = request
                _log(f'{peer} "{method} {target}"')
                if headers.get("upgrade", "").lower() == "websocket":
                    await self.websocket(target, headers, reader, writer)
                    break
                if not await self.http(method, target, headers, writer):
                    break
        except BadRequest as exc:
            respond(writer, 400, "text/plain", str(exc).encode(), keep_alive=False)
        except ValueError:
            respond(writer, 400, "text/plain", b"bad request", keep_alive=False)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass  # the client went away, or a held answer was never released
        finally:
            writer.close()

    async def http(self, method: str, target: str, headers: Headers, writer: Writer) -> bool:
        """Answer one request; whether the connection stays open."""
        path, _, query = target.partition("?")
        params = {name: values[-1] for name, values in parse_qs(query).items()}
        if method == "POST" and path == "/release":
            self.release.set()
            self.release = asyncio.Event()
            return respond(writer, 200, "text/plain", b"released")
        if method != "GET":
            return respond(writer, 405, "application/json", b'{"detail": "method not allowed"}')
        if path in ("/healthz", "/readyz"):
            return respond(writer, 200, "text/plain", b"ok")
        if path == "/headers":
            return respond(writer, 200, "application/json", json.dumps({"headers": headers}))
        if path == "/closes":
            return respond(writer, 200, "application/json", json.dumps({"closes": self.closes}))
        if path == "/tokens":
            prompt = unquote_plus(params.get("prompt", "nothing"))
            words = answer_words(self.greeting, prompt, int(params.get("n", "0")))
            return await self.tokens(words, params.get("hold") == "1", writer)
        if path == "/chunked":
            lines = [f"line {i}\n" for i in range(1, int(params.get("n", "3")) + 1)]
            return await stream(writer, "text/plain", lines, self.gap)
        return respond(writer, 404, "application/json", b'{"detail": "no such route"}')

    async def tokens(self, words: list[str], hold: bool, writer: Writer) -> bool:
        """The answer's tokens as server-sent events."""
        release = self.release
        events = [f"data: {word}\n\n" for word in words] + ["event: done\ndata: [DONE]\n\n"]
        await asyncio.sleep(self.think)

        async def pause(index: int) -> None:
            if hold and index == 1:
                await asyncio.wait_for(release.wait(), HOLD_LIMIT)

        return await stream(writer, "text/event-stream", events, self.gap, pause)

    async def websocket(
        self, target: str, headers: Headers, reader: asyncio.StreamReader, writer: Writer
    ) -> None:
        """Accept the upgrade, then echo until a close."""
        path = target.partition("?")[0]
        key = headers.get("sec-websocket-key")
        if path not in ("/ws", "/ws/headers") or key is None:
            respond(writer, 404, "text/plain", b"no WebSocket here", keep_alive=False)
            return
        offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
        chosen = f"Sec-WebSocket-Protocol: {offered[0]}\r\n" if offered[0] else ""
        writer.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept_key(key)}\r\n{chosen}\r\n"
            ).encode()
        )
        if path == "/ws/headers":
            writer.write(frame(TEXT, json.dumps({"headers": headers}).encode()))
        await self.echo(reader, writer)

    async def echo(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        """Send every message back; answer pings; close as asked or as the caller does."""
        parts: list[bytes] = []
        kind = TEXT
        while True:
            try:
                opcode, fin, payload = await read_frame(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.closes.append((1006, ""))  # the connection ended without a close frame
                return
            except TooLarge as exc:  # a close frame says so, once the frame is read past
                await skip(reader, exc.remaining)
                writer.write(frame(CLOSE, struct.pack("!H", 1009) + b"message too large"))
                await writer.drain()
                with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                    await asyncio.wait_for(read_frame(reader), 10)  # the caller's close
                return
            if opcode == PING:
                writer.write(frame(PONG, payload))
            elif opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.closes.append((code, payload[2:].decode(errors="replace")))
                writer.write(frame(CLOSE, payload[:2]))
                await writer.drain()
                return
            elif opcode in (TEXT, BINARY, 0x0):
                kind = opcode or kind
                parts.append(payload)
                if fin:
                    message, parts = b"".join(parts), []
                    code, reason = close_asked(message) if kind == TEXT else (None, b"")
                    if code is not None:
                        writer.write(frame(CLOSE, struct.pack("!H", code) + reason))
                        await writer.drain()
                        return
                    writer.write(frame(kind, message))
            await writer.drain()


def close_asked(message: bytes) -> tuple[int | None, bytes]:
    """The code and reason of a ``close CODE REASON`` message (a code a close frame may carry,
    1000-4999); ``None`` for any other message, which is echoed like the rest."""
    if not message.startswith(b"close "):
        return None, b""
    code, _, reason = message[6:].partition(b" ")
    if not code.isdigit() or not 1000 <= int(code) <= 4999:
        return None, b""
    return int(code), reason


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, Headers, bytes] | None:
    """One request (method, target, headers with lower-case names, body), or ``None`` at the
    end of the connection."""
    line = await reader.readline()
    while line in (b"\r\n", b"\n"):
        line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise BadRequest(f"bad request line {line[:80]!r}")
    headers: Headers = {}
    for _ in range(MAX_HEADERS):
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest(f"bad header line {line[:80]!r}")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    else:
        raise BadRequest("too many headers")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest("chunked request bodies are not taken here")
    size = int(headers.get("content-length") or 0)
    if not 0 <= size <= MAX_BODY:
        raise BadRequest("bad or too large Content-Length")
    return parts[0], parts[1], headers, await reader.readexactly(size)


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """One frame from the client: opcode, whether it ends its message, payload (unmasked)."""
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", await reader.readexactly(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", await reader.readexactly(8))[0]
    mask = await reader.readexactly(4) if second & 0x80 else b""
    if size > MAX_MESSAGE:
        raise TooLarge(size)
    payload = await reader.readexactly(size)
    return first & 0x0F, bool(first & 0x80), unmask(mask, payload) if mask else payload


def respond(
    writer: Writer, status: int, content_type: str, body: bytes | str, keep_alive: bool = True
) -> bool:
    """Write a whole answer; whether the connection stays open."""
    payload = body.encode() if isinstance(body, str) else body
    writer.write(
        (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        ).encode()
        + payload
    )
    return keep_alive


async def stream(
    writer: Writer,
    content_type: str,
    pieces: list[str],
    gap: float,
    pause: Callable[[int], Awaitable[None]] | None = None,
) -> bool:
    """A chunked answer, one chunk per piece, each written out at once, ``gap`` s apart;
    ``pause(i)`` is awaited before piece ``i``."""
    writer.write(
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    for index, piece in enumerate(pieces):
        if pause is not None:
            await pause(index)
        if index and gap:
            await asyncio.sleep(gap)
        data = piece.encode()
        writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


async def serve(host: str, port: int) -> int:
    """Serve until SIGTERM or SIGINT."""
    app = App()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        server = await asyncio.start_server(app.connection, host, port, reuse_address=True)
    except OSError as exc:
        sys.stderr.write(f"stream: cannot listen on {host}:{port}: {exc.strerror or exc}\n")
        return 1
    bound_host, bound_port = server.sockets[0].getsockname()[:2]
    _log(f"serving on {bound_host}:{bound_port}")
    await stop.wait()
    _log("stopping")
    server.close()
    return 0


def main() -> int:
    """Serve until SIGTERM or SIGINT; return the exit status."""
    raw_port = os.environ.get("PORT", "").strip()
    try:
        port = int(raw_port)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        sys.stderr.write(f"stream: $PORT must be a port number (0-65535), got {raw_port!r}\n")
        return 2
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    return asyncio.run(serve(host, port))


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # open connections are dropped, not waited for
