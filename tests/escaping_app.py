"""A workload whose descendants leave its process group: the example app, plus what ``$ESCAPE``
asks for (comma-separated), each writing ``<pid>`` to a file named after it in ``$PIDS_DIR``:

- ``daemon``: a classic double-fork daemon (fork, ``setsid``, fork, the middle one exits) that
  listens on ``$DAEMON_PORT``;
- ``bare-daemon``: the same, but it ``exec``\\ s with an empty environment (no marker) and
  listens on ``$BARE_DAEMON_PORT``;
- ``pgid-child``: a child in a process group of its own (``setpgid``), sleeping;
- ``brief-daemon``: a double-fork daemon that exits at once (its zombie must be reaped).

With ``$IGNORE_TERM`` set, the app (and so its children) ignores SIGTERM: only the SIGKILL at the
end of the grace period stops it.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

LISTEN = (
    "import socket, sys, time\n"
    "s = socket.socket()\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
    "s.listen()\n"
    "open(sys.argv[2], 'w').write(str(__import__('os').getpid()))\n"
    "time.sleep(600)\n"
)
"""The daemon of ``bare-daemon``: run with an empty environment, so told everything in argv."""


def _record(name: str, pid: int) -> None:
    path = Path(os.environ["PIDS_DIR"]) / name
    path.with_suffix(".tmp").write_text(str(pid))
    path.with_suffix(".tmp").rename(path)


def _listen(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def _double_fork(then: str) -> None:
    """Start a daemon the classic way and return once the middle process has exited."""
    middle = os.fork()
    if middle == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                _daemon(then)
        finally:
            os._exit(0)
    os.waitpid(middle, 0)


def _daemon(kind: str) -> None:
    if kind == "daemon":
        sock = _listen(int(os.environ["DAEMON_PORT"]))
        _record("daemon", os.getpid())
        time.sleep(600)
        sock.close()
    elif kind == "bare-daemon":
        target = str(Path(os.environ["PIDS_DIR"]) / "bare-daemon")
        port = os.environ["BARE_DAEMON_PORT"]
        os.execve(sys.executable, [sys.executable, "-c", LISTEN, port, target], {})
    # brief-daemon: just exit


def _pgid_child() -> None:
    child = os.fork()
    if child == 0:
        try:
            os.setpgid(0, 0)
            _record("pgid-child", os.getpid())
            time.sleep(600)
        finally:
            os._exit(0)


def main() -> None:
    """Escape as asked, then serve the example app."""
    if os.environ.get("IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for kind in filter(None, os.environ.get("ESCAPE", "").split(",")):
        if kind == "pgid-child":
            _pgid_child()
        else:
            _double_fork(kind)
    _record("leader", os.getpid())
    if os.environ.get("IGNORE_TERM"):
        signal.signal = lambda *_: None  # type: ignore[assignment]  # keep hello's hands off
    from workloadlab.examples.hello import main as serve

    serve()


if __name__ == "__main__":
    main()
