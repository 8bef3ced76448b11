"""A tiny HTTP app for trying out workloads: ``python -m workloadlab.examples.hello``.

Environment:

- ``PORT`` (required): the port to serve; exit status 2 if it is missing or not a port.
- ``HOST``: the address to bind, default ``127.0.0.1`` (containers need ``0.0.0.0``).
- ``GREETING``: the ``greeting`` of the JSON answer, default ``hello``.
- ``WORKLOAD_ID``: echoed as ``workloadId`` (``null`` when unset).
- ``STARTUP_DELAY``: seconds (float) after start before ``/readyz`` answers 200; default 0.
- ``FAIL_HEALTH_AFTER``: seconds after start from which ``/healthz`` answers 500 (liveness
  tests); default never.

Routes:

- ``GET /healthz``: ``200 ok`` (``500`` once ``FAIL_HEALTH_AFTER`` has passed).
- ``GET /readyz``: ``503`` until ``STARTUP_DELAY`` has passed, then ``200 ready``.
- ``POST /echo``: answers with the request's body and ``Content-Type``.
- ``GET /headers``: ``{"headers": {...}}``, the request headers as received (lower-case names).
- ``GET /instance``: ``{"pid": ..., "port": "$PORT"}``: which instance answered (replicas).
- ``GET`` of any other path: ``{"greeting": ..., "workloadId": ..., "path": "<request target>"}``
  (the path as received, query included, so a proxy's prefix stripping can be checked).

It prints ``hello: serving on HOST:PORT`` on start and one line per request to stdout (flushed),
errors to stderr, and exits 0 on SIGTERM or SIGINT. It speaks HTTP/1.1 (keep-alive, chunked
request bodies) on top of :mod:`socketserver` rather than :mod:`http.server`, which would import
``http.client``, ``ssl`` and ``email`` and more than double the start-up time.
"""

from __future__ import annotations

import json
import os
import signal
import socketserver
import sys
import threading
import time
from types import FrameType

MAX_LINE = 65536
MAX_HEADERS = 100
MAX_BODY = 64 * 1024 * 1024
IDLE_TIMEOUT = 60.0

REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}

Response = tuple[int, str, bytes]


class BadRequest(Exception):
    """The client sent something that is not HTTP we understand; answer 400 and close."""


class Stop(BaseException):
    """Raised by the signal handler to leave ``serve_forever``.

    A BaseException, like KeyboardInterrupt, so that socketserver's ``except Exception`` around
    request handling cannot swallow it when the signal arrives there.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_output_lock = threading.Lock()


def _log(message: str) -> None:
    with _output_lock:  # whole lines, even when handler threads log at once
        sys.stdout.write(f"hello: {message}\n")
        sys.stdout.flush()


def _error(message: str) -> None:
    with _output_lock:
        sys.stderr.write(f"hello: {message}\n")
        sys.stderr.flush()


def _float_env(name: str) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        _error(f"${name} must be a number of seconds, got {raw!r}")
        sys.exit(2)


class App:
    """The routes, with the clock they depend on."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.greeting = os.environ.get("GREETING", "hello")
        self.workload_id = os.environ.get("WORKLOAD_ID") or None
        self.startup_delay = _float_env("STARTUP_DELAY") or 0.0
        self.fail_health_after = _float_env("FAIL_HEALTH_AFTER")

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one request."""
        path = target.split("?", 1)[0]
        elapsed = time.monotonic() - self.started
        if method == "POST":
            if path == "/echo":
                return 200, headers.get("content-type", "application/octet-stream"), body
            return 404, "application/json", b'{"detail": "not found (POST goes to /echo)"}'
        if method not in ("GET", "HEAD"):
            return 405, "application/json", b'{"detail": "method not allowed"}'
        if path == "/healthz":
            if self.fail_health_after is not None and elapsed >= self.fail_health_after:
                return 500, "text/plain", b"failing (FAIL_HEALTH_AFTER)"
            return 200, "text/plain", b"ok"
        if path == "/readyz":
            if elapsed < self.startup_delay:
                return 503, "text/plain", b"starting"
            return 200, "text/plain", b"ready"
        if path == "/headers":
            return 200, "application/json", json.dumps({"headers": headers}).encode()
        if path == "/instance":
            who = {"pid": os.getpid(), "port": os.environ.get("PORT")}
            return 200, "application/json", json.dumps(who).encode()
        payload = {"greeting": self.greeting, "workloadId": self.workload_id, "path": target}
        return 200, "application/json", json.dumps(payload).encode()


class Handler(socketserver.StreamRequestHandler):
    """One connection: requests in a row until the client closes or asks to."""

    timeout = IDLE_TIMEOUT
    server: Server

    def handle(self) -> None:
        try:
            while self._one_request():
                pass
        except BadRequest as exc:
            self._respond("HTTP/1.1", 400, "text/plain", str(exc).encode(), keep_alive=False)
        except (OSError, TimeoutError):
            pass  # the client went away or idled out

    def _one_request(self) -> bool:
        line = self.rfile.readline(MAX_LINE + 1)
        while line in (b"\r\n", b"\n"):
            line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return False
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise BadRequest(f"bad request line {line[:80]!r}")
        method, target, version = parts
        headers = self._headers()
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._body(headers)
        connection = headers.get("connection", "").lower()
        # HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless told not to.
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        try:
            status, content_type, payload = self.server.app.handle(method, target, headers, body)
        except Exception as exc:  # a bug here must not kill the connection thread silently
            _error(f"error handling {method} {target}: {exc!r}")
            status, content_type, payload = 500, "text/plain", b"internal error"
        # Log first: a client that has its answer may stop the app at once.
        _log(f'{self.client_address[0]} "{method} {target} {version}" {status} {len(payload)}')
        if method == "HEAD":
            self._respond(version, status, content_type, b"", keep_alive, len(payload))
        else:
            self._respond(version, status, content_type, payload, keep_alive)
        return keep_alive

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = self.rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return headers
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise BadRequest(f"bad header line {line[:80]!r}")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        raise BadRequest("too many headers")

    def _body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(MAX_LINE + 1)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise BadRequest(f"bad chunk size {size_line[:40]!r}") from None
                if size == 0:
                    while self.rfile.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise BadRequest("request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(MAX_LINE + 1)  # the CRLF after the chunk
        length = headers.get("content-length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise BadRequest(f"bad Content-Length {length!r}") from None
        if size < 0 or size > MAX_BODY:
            raise BadRequest("bad or too large Content-Length")
        return self.rfile.read(size)

    def _respond(
        self,
        version: str,
        status: int,
        content_type: str,
        payload: bytes,
        keep_alive: bool,
        length: int | None = None,
    ) -> None:
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(payload) if length is None else length}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        )
        self.wfile.write(head.encode("latin-1") + payload)


class Server(socketserver.ThreadingTCPServer):
    """A threading TCP server that reuses its address and never waits for handler threads."""

    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, Handler)
        self.app = app

    def handle_error(self, request: object, client_address: object) -> None:
        _error(f"error serving {client_address}: {sys.exc_info()[1]!r}")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signum)


def main() -> int:
    """Serve until SIGTERM or SIGINT; return the exit status."""
    raw_port = os.environ.get("PORT", "").strip()
    if not raw_port:
        _error("$PORT is required (the port to serve, e.g. PORT=8080)")
        return 2
    try:
        port = int(raw_port)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        _error(f"$PORT must be a port number (0-65535), got {raw_port!r}")
        return 2
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    app = App()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        server = Server((host, port), app)
    except OSError as exc:
        _error(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return 1
    with server:
        bound_host, bound_port = server.socket.getsockname()[:2]
        _log(f"serving on {bound_host}:{bound_port}")
        try:
            server.serve_forever(poll_interval=0.5)
        except Stop as stop:
            _log(f"stopping ({signal.Signals(stop.signum).name})")
    return 0


if __name__ == "__main__":
    status = main()
    # Leave without the interpreter's teardown (collecting every module: ~8 ms, most of the
    # time from SIGTERM to exit, and so of every restart). Nothing needs it: the socket is
    # closed, output is flushed, and handler threads are daemons that would be dropped anyway.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
