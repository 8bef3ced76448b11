"""``workloadlab server status|start|stop``: the local server of the data dir, through
:mod:`workloadlab.launcher` (the same find, start and stop as the client and JupyterLab)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from workloadlab import launcher
from workloadlab.connection import CONNECTION_FILE, ServerConnection, default_data_dir
from workloadlab.errors import WorkloadlabError
from workloadlab.labusers import live_users
from workloadlab.shell import FAILED, INTERRUPTED, OK, USAGE
from workloadlab.shell.groups import OptionError, split_options

SUBCOMMANDS = {
    "status": "Show the local server: endpoint, pid, uptime, data dir, who started it, "
    "workloads running. Exit code 1 when none runs.",
    "start": "Start the local server in the background (if none runs).",
    "stop": "Stop the local server gracefully: its workloads stop, and come back when a server "
    "next starts on this data dir.",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workloadlab server",
        description="The local Workload API server of the data dir ($WORKLOADLAB_DATA_DIR, "
        "else the user data dir; or workloadlab --data-dir DIR server ...).",
        epilog="--output text|json may come anywhere.",
    )
    subcommands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in SUBCOMMANDS.items():
        subcommands.add_parser(name, help=text.split(":")[0].split(".")[0], description=text)
    return parser


def _uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = (
        [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"] * bool(minutes)
    )
    return " ".join([*parts, f"{secs}s"])


async def _workload_counts(connection: ServerConnection) -> dict[str, int]:
    from workloadlab.client import AsyncClient

    async with AsyncClient(connection.endpoint, connection.token) as client:
        statuses = [w.status.value async for w in client.workloads.list()]
    return {"running": statuses.count("running"), "total": len(statuses)}


def _camel(data: dict[str, Any]) -> dict[str, Any]:
    def camel(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(word.title() for word in rest)

    return {camel(key): value for key, value in data.items()}


def status(data_dir: Path) -> tuple[dict[str, Any], str, int]:
    """What ``server status`` says: as data, as text, and the exit code."""
    connection = asyncio.run(launcher.running_server(data_dir))
    if connection is None:
        silent = launcher.silent_server(data_dir)
        if silent is not None:
            said = launcher.silent_message(silent, data_dir)
            data: dict[str, Any] = {"running": True, "answering": False, "pid": silent.pid}
            data["dataDir"] = str(data_dir)
            return data, f"T{said[1:]}.", FAILED
        data = {"running": False, "dataDir": str(data_dir)}
        return data, f"No local server is running (data dir {data_dir}).", FAILED
    uptime = time.time() - (data_dir / CONNECTION_FILE).stat().st_mtime
    starter = launcher.read_starter(data_dir, connection.pid)
    labs = live_users(data_dir)
    counts = asyncio.run(_workload_counts(connection))
    data = {
        "running": True,
        "endpoint": connection.endpoint,
        "pid": connection.pid,
        "uptimeSeconds": round(uptime, 1),
        "dataDir": str(data_dir),
        "startedBy": _camel(asdict(starter)) if starter else None,
        "jupyterlabs": labs,
        "workloads": counts,
    }
    who = starter.describe() if starter else "by hand (workloadlab serve)"
    text = "\n".join(
        [
            f"endpoint     {connection.endpoint}",
            f"pid          {connection.pid}",
            f"uptime       {_uptime(uptime)}",
            f"data dir     {data_dir}",
            f"started by   {who}",
            f"used by      {', '.join(f'JupyterLab (pid {p})' for p in labs) or 'no JupyterLab'}",
            f"workloads    {counts['running']} running of {counts['total']}",
        ]
    )
    return data, text, OK


def start(data_dir: Path) -> tuple[dict[str, Any], str, int]:
    """``server start``: the running server, or a new one started detached."""
    found = asyncio.run(launcher.ensure_server(data_dir, by="cli"))
    connection = found.connection
    data = {"endpoint": connection.endpoint, "pid": connection.pid, "started": bool(found.process)}
    said = "Started" if found.process else "Already running:"
    return data, f"{said} the local server at {connection.endpoint} (pid {connection.pid}).", OK


def stop(data_dir: Path) -> tuple[dict[str, Any], str, int]:
    """``server stop``: SIGTERM, and wait until it has stopped its workloads."""
    # A data dir that is not there has no server (and a stop makes none).
    stopped = asyncio.run(launcher.stop_server(data_dir)) if data_dir.is_dir() else None
    if stopped is None:
        data: dict[str, Any] = {"stopped": None, "dataDir": str(data_dir)}
        return data, f"No local server is running (data dir {data_dir}).", OK
    data = {"stopped": stopped.pid, "dataDir": str(data_dir)}
    text = (
        f"Stopped the local server (pid {stopped.pid}); its workloads come back when a server"
        " next starts on this data dir."
    )
    return data, text, OK


ACTIONS = {"status": status, "start": start, "stop": stop}


def run(args: argparse.Namespace) -> int:
    """``workloadlab server ACTION``."""
    try:
        argv, options = split_options(args.rest, args.output, args.yes)
        action = _parser().parse_args(argv).action
    except SystemExit as exc:  # --help, or argparse's usage error
        return int(exc.code or 0)
    except OptionError as exc:
        print(exc, file=sys.stderr)
        return USAGE
    data_dir = default_data_dir().expanduser().resolve()
    try:
        data, text, code = ACTIONS[action](data_dir)
    except WorkloadlabError as exc:
        print(f"workloadlab server {action}: {exc}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:  # a stop already asked for goes on; a server started runs
        print(f"workloadlab server {action}: interrupted", file=sys.stderr)
        return INTERRUPTED
    if options.output == "json":
        print(json.dumps(data, indent=2))
    else:
        print(text, file=sys.stdout if code == OK else sys.stderr)
    return code


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``workloadlab server``."""
    parser = commands.add_parser(
        "server", help="status, start or stop the local server", add_help=False
    )
    parser.set_defaults(run=run, rest_of_line=True)
