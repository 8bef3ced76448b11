"""The ``workloadlab`` command line: ``serve`` runs the local Workload API server here; the
other subcommands live in their own modules (:data:`SUBCOMMANDS`), each adding its parser
with a ``register(commands)`` function and naming what runs it with ``set_defaults(run=...)``.
A group whose subcommands another layer parses (``workload``, ``artifact``, ``server``) also
sets ``rest_of_line=True`` and gets the arguments after its name as ``args.rest``.

Exit codes: 0 ok, 1 failed, 2 usage (argparse's own).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import gc
import logging
import math
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from workloadlab._version import __version__
from workloadlab.connection import (
    DATA_DIR_ENV,
    SERVER_LOCK,
    ServerConnection,
    default_data_dir,
    make_private_dir,
    open_private,
    read_connection,
    remove_connection,
    write_connection,
)
from workloadlab.shell.output import run_writing_stdout

logger = logging.getLogger("workloadlab.server")


def _duration(text: str) -> float:
    from workloadlab.server.settings import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_duration(text: str) -> float:
    seconds = _duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return seconds


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


MIN_LOG_CAP_BYTES = 1024 * 1024


def _log_cap_bytes(text: str) -> int:
    from workloadlab.server.settings import parse_size

    try:
        size = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if size < MIN_LOG_CAP_BYTES:
        raise argparse.ArgumentTypeError("must be at least 1MiB")
    return size


SUBCOMMANDS = ("workloadlab.shell.groups", "workloadlab.shell.server", "workloadlab.lint")
"""The modules whose ``register(commands)`` adds their subcommands, in ``--help``'s order."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="workloadlab",
        description="Iterate on containerized workloads, then lock and deploy them: DataRobot's"
        " Workload API (DATAROBOT_ENDPOINT, DATAROBOT_API_TOKEN or drconfig.yaml), or the local"
        " server (started in the background when none runs).",
        epilog="workloadlab COMMAND --help says more. Exit codes: 0 ok, 1 failed, 2 usage.",
    )
    parser.add_argument("--version", action="version", version=f"workloadlab {__version__}")
    parser.add_argument(
        "--output",
        "-o",
        default="text",
        choices=["text", "json"],
        help="text for people (default), json for scripts (also after the subcommand)",
    )
    parser.add_argument("--yes", action="store_true", help="answer yes to every question")
    parser.add_argument(
        "--data-dir",
        dest="global_data_dir",
        type=Path,
        metavar="DIR",
        help="the local server's data dir ($WORKLOADLAB_DATA_DIR, else the user data dir)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(commands)
    for module in SUBCOMMANDS:
        importlib.import_module(module).register(commands)
    return parser


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the local Workload API server",
        description=(
            "Serve DataRobot's Workload API on this machine: SQLite in the data dir, workloads "
            "run as local processes. Writes <data-dir>/server.json (endpoint, token, pid)."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port, 0 for any free one (8080)")
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where data lives ($WORKLOADLAB_DATA_DIR, else the user data dir)",
    )
    serve.add_argument(
        "--runtime",
        default="process",
        choices=["process", "container", "auto"],
        help=(
            "how workloads run: host processes, containers through the Docker Engine API"
            " ($DOCKER_HOST, dockerd or podman), or auto (container when an engine answers)"
            " (process)"
        ),
    )
    serve.add_argument(
        "--api",
        default="v2.41",
        choices=["v2.41", "current"],
        help=(
            "the Workload API generation served: v2.41 (/console/workloads, /registry/artifacts,"
            " deployments) or current (/workloads, /artifacts, locked, promote, replacement);"
            " the other's paths answer 404 (v2.41)"
        ),
    )
    serve.add_argument(
        "--token",
        default=None,
        help="API token ($WORKLOADLAB_TOKEN, else generated once and kept in the data dir)",
    )
    timing = serve.add_argument_group("timings (durations like 250ms, 30s, 5m, 8h)")
    timing.add_argument("--draft-ttl", type=_duration, default=None, help="draft lifetime (8h)")
    timing.add_argument(
        "--grace-period", type=_duration, default=None, help="SIGTERM to SIGKILL (30s)"
    )
    timing.add_argument(
        "--stop-answer-wait",
        type=_duration,
        default=None,
        help="POST stop answers once stopped, or after this long (2s)",
    )
    timing.add_argument(
        "--probe-first-gap",
        type=_duration,
        default=None,
        help="gap of the quick startup/readiness probing right after a start (2ms)",
    )
    timing.add_argument(
        "--backoff-base", type=_duration, default=None, help="first crash restart delay (10s)"
    )
    timing.add_argument("--backoff-cap", type=_duration, default=None, help="at most (5m)")
    timing.add_argument(
        "--backoff-reset", type=_duration, default=None, help="healthy this long resets (10m)"
    )
    timing.add_argument(
        "--crash-limit", type=int, default=None, help="restarts without getting healthy (5)"
    )
    timing.add_argument(
        "--ttl-check-interval", type=_duration, default=None, help="draft expiry check (30s)"
    )
    timing.add_argument(
        "--rollout-timeout",
        type=_duration,
        default=None,
        help="a deployment's move to another version is abandoned unless its new instance is"
        " ready within this long (5m)",
    )
    invoke = serve.add_argument_group("invoke proxy (per workload)")
    invoke.add_argument(
        "--invoke-connect-timeout",
        type=_positive_duration,
        default=None,
        help="to get a connection to the app: a free one, then the connect (5s)",
    )
    invoke.add_argument(
        "--invoke-read-timeout",
        type=_positive_duration,
        default=None,
        help="longest silence of the app before and within its answer (5m)",
    )
    invoke.add_argument(
        "--invoke-max-connections",
        type=_positive_int,
        default=None,
        help="calls at a time to one workload's app; more wait, then 503 (100)",
    )
    serve.add_argument(
        "--log-cap", type=int, default=10_000, help="log records kept per workload (10000)"
    )
    serve.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=None,
        help="largest request body of an API route, 413 past it; not the invoke proxy (1048576)",
    )
    timing.add_argument(
        "--replacement-linger",
        type=_duration,
        default=None,
        help="how long a completed replacement stays at GET …/replacement (--api current) (5s)",
    )
    timing.add_argument(
        "--keep-alive-timeout",
        type=_duration,
        default=None,
        help="close a connection without a complete request within this long (15s)",
    )
    serve.add_argument(
        "--log-cap-bytes",
        type=_log_cap_bytes,
        default=32 * 1024 * 1024,
        metavar="SIZE",
        help=(
            "raw output kept on disk per workload (its log files); output written faster than"
            " the server reads it is skipped (32MiB)"
        ),
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(run=serve_command)


@contextlib.contextmanager
def _exclusive(data_dir: Path) -> Iterator[IO[str]]:
    make_private_dir(data_dir)
    handle = os.fdopen(open_private(data_dir / SERVER_LOCK, os.O_RDWR | os.O_APPEND), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        running = read_connection(data_dir)
        where = f" at {running.endpoint} (pid {running.pid})" if running else ""
        raise SystemExit(
            f"workloadlab serve: another server already uses {data_dir}{where}"
        ) from None
    try:
        yield handle
    finally:
        handle.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets it knows are TCP, and
    # without it every response's body waits ~40 ms for the delayed ACK of its headers.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(
                f"workloadlab serve: port {port} on {host} is in use; "
                "pick another with --port (0 picks a free one)"
            ) from None
        raise SystemExit(f"workloadlab serve: cannot bind {host}:{port}: {exc}") from None
    sock.listen(512)
    sock.set_inheritable(False)
    return sock


def _quiet_exit_server() -> type[Any]:
    import uvicorn

    from workloadlab.server.app import begin_shutdown

    class Server(uvicorn.Server):
        """uvicorn's server, except that a shutdown asked for with SIGTERM or Ctrl-C exits with
        status 0 once it is done (it is the normal way to stop this server), where uvicorn
        would raise the signal again and die of it; and that requests waiting for a change
        are answered at once when it begins (uvicorn waits for open requests)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            begin_shutdown(self.config.app)  # the app as given, not uvicorn's wrapping
            await super().shutdown(sockets)

    return Server


def serve_command(args: argparse.Namespace) -> int:
    """Run the server until SIGTERM or Ctrl-C, then stop every workload gracefully."""
    import uvicorn

    from workloadlab.server.app import create_app
    from workloadlab.server.limits import RequestHeadDeadline
    from workloadlab.server.proxy_tunnel import TunnelingWebSocketProtocol
    from workloadlab.server.runtimes.process.reaping import become_subreaper
    from workloadlab.server.settings import InvokeLimits, ServerSettings, Timings

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per probe otherwise
    timings = Timings()
    for name in (
        "draft_ttl",
        "grace_period",
        "stop_answer_wait",
        "probe_first_gap",
        "backoff_base",
        "backoff_cap",
        "backoff_reset",
        "crash_limit",
        "ttl_check_interval",
        "rollout_timeout",
        "replacement_linger",
    ):
        value = getattr(args, name)
        if value is not None:
            setattr(timings, name, value)
    invoke = InvokeLimits()
    for name in ("connect_timeout", "read_timeout", "max_connections"):
        value = getattr(args, f"invoke_{name}")
        if value is not None:
            setattr(invoke, name, value)
    settings = ServerSettings(
        data_dir=(args.data_dir or default_data_dir()).expanduser().resolve(),
        host=args.host,
        port=args.port,
        token=args.token,
        runtime=args.runtime,
        api=args.api,
        timings=timings,
        invoke=invoke,
        log_cap=args.log_cap,
        log_cap_bytes=args.log_cap_bytes,
    )
    if args.max_body_bytes is not None:
        settings.max_body_bytes = args.max_body_bytes
    if args.keep_alive_timeout is not None:
        settings.keep_alive_timeout = args.keep_alive_timeout
    with _exclusive(settings.data_dir):
        # This process is the server's alone: orphaned descendants of workloads (daemons) come
        # to it instead of init, where the process runtime finds, kills and reaps them.
        become_subreaper()
        token = settings.resolve_token()
        sock = _bind(settings.host, settings.port)
        host, port = sock.getsockname()[:2]
        settings.port = port  # the one bound (--port 0 picks one): workloads' api-key endpoint
        shown_host = f"[{host}]" if ":" in host else host
        endpoint = f"http://{shown_host}:{port}/api/v2"

        def started() -> None:
            # What importing and starting made lives as long as the process: keep the cyclic
            # collector from walking it again and again (a full collection of those ~60,000
            # objects takes ~30 ms here, a pause for whatever request or probe meets it).
            gc.freeze()
            write_connection(settings.data_dir, ServerConnection(endpoint, token, os.getpid()))
            logger.info(
                "workloadlab local server ready at %s (data dir %s; token in %s/server.json)",
                endpoint,
                settings.data_dir,
                settings.data_dir,
            )

        def stopped() -> None:
            remove_connection(settings.data_dir, os.getpid())
            logger.info("workloadlab local server stopped")

        app = create_app(settings, token, on_started=started, on_stopped=stopped)
        config = uvicorn.Config(
            app,
            http=RequestHeadDeadline,
            timeout_keep_alive=max(1, math.ceil(settings.keep_alive_timeout)),
            log_level=args.log_level,
            access_log=args.access_log,
            lifespan="on",
            timeout_graceful_shutdown=3,
            ws=TunnelingWebSocketProtocol,  # the invoke proxy's WebSockets (byte tunnels)
            log_config=None,
        )
        try:
            _quiet_exit_server()(config).run(sockets=[sock])
        finally:
            remove_connection(settings.data_dir, os.getpid())
            sock.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workloadlab`` command."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(words)
    if getattr(args, "rest_of_line", False):
        args.rest = _after_command(words, args.command)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.global_data_dir is not None:
        os.environ[DATA_DIR_ENV] = str(args.global_data_dir)  # for every layer, serve's too
    return run_writing_stdout(args.run, args)


def _after_command(words: list[str], command: str) -> list[str]:
    """The words after the subcommand's name (the global options' values skipped)."""
    valued = {"--output", "-o", "--data-dir"}
    for index, word in enumerate(words):
        if word == command and (index == 0 or words[index - 1] not in valued):
            return words[index + 1 :]
    return []
