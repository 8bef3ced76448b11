"""The interface every runtime implements, and the helpers both runtimes share.

A runtime knows how to run a spec (host processes, or containers through the Docker Engine API)
and nothing about the database or the API: the supervisor drives it. An :class:`Instance` is one
started copy of a workload; its ``state`` is JSON that the supervisor stores, so that a restarted
server can :meth:`Runtime.adopt` what is still running, and :meth:`Runtime.sweep` removes what is
running but should not be (orphans after a crash).

Both runtimes mark what they run with :func:`data_dir_id` (the process runtime in an
environment variable, the container runtime in a label), so a server only ever sweeps its own.
"""

from __future__ import annotations

import hashlib
import re
import signal
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from workloadlab.models import ArtifactSpec
from workloadlab.models.preflight import Finding
from workloadlab.server.store import LogLine

STREAMS = ("stdout", "stderr")
"""The output streams of a workload's container, in the order they are read."""
WORKLOAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
"""What a workload id must look like before a runtime puts it in a file name or a label."""
UNKNOWN_STATUS = "exited (status unknown: adopted after a server restart)"

LogSink = Callable[[Sequence[LogLine], dict[str, Any]], Awaitable[None]]
"""Receives new log lines and the instance's state after reading them (offsets included), so
both can be stored in one transaction."""


class StartFailed(Exception):
    """The runtime could not start the spec; the message says why in a user's words."""


@dataclass(frozen=True)
class Exit:
    """How an instance ended."""

    exit_code: int | None
    """The process's exit status; negative for a signal; ``None`` when unknown (adopted)."""
    message: str
    """A sentence for ``statusDetails.message``: "exited with status 3", "killed (OOM)"."""
    oom_killed: bool = False


class Instance(Protocol):
    """One running copy of a workload."""

    @property
    def state(self) -> dict[str, Any]:
        """JSON-able facts enough to adopt this instance after a server restart."""

    @property
    def target(self) -> str:
        """Base URL (``http://127.0.0.1:PORT``) of the primary port, for probes and invoke."""

    def port_for(self, container_port: int) -> int:
        """The host port that reaches ``container_port`` (a probe may name another port)."""

    async def wait(self) -> Exit:
        """Return once the instance has ended (for any reason)."""

    def terminate(self) -> None:
        """Send the stop signal now, without waiting; a :meth:`stop` that follows does not
        signal again and counts its grace period from here. (A runtime whose signals take a
        round trip may leave it all to :meth:`stop`.)"""

    async def stop(self, grace_period: float) -> Exit:
        """SIGTERM, wait up to ``grace_period`` seconds, then SIGKILL; return how it ended."""


class Runtime(Protocol):
    """Runs workload specs."""

    name: str

    async def start(self, workload_id: str, spec: ArtifactSpec, on_logs: LogSink) -> Instance:
        """Start the spec's containers; raise :class:`StartFailed` with the reason if it can't."""

    async def adopt(
        self, workload_id: str, state: dict[str, Any], on_logs: LogSink
    ) -> Instance | None:
        """Take over an instance a previous server started, or ``None`` if it is gone."""

    async def preflight(self, data: Any) -> list[Finding]:
        """The pre-flight findings only this runtime's machine can give for a spec as written
        (:mod:`.preflight`); never raises on odd shapes."""

    async def sweep(self, keep: Sequence[Instance]) -> list[str]:
        """Kill everything this runtime runs for this data dir except the instances in ``keep``
        (orphans of a crashed server); return a description of each thing removed."""

    def forget(self, workload_id: str) -> None:
        """Remove what the runtime keeps of a deleted workload (the process runtime: its log
        files), once its instance has stopped."""

    def forget_others(self, workload_ids: Collection[str]) -> list[str]:
        """Remove what the runtime keeps of workloads not in ``workload_ids`` (deleted while
        no server ran, or before this server removed such things); describe each removal."""

    async def close(self) -> None:
        """Release the runtime's own resources (not the instances)."""


def data_dir_id(data_dir: Path) -> str:
    """A short, stable id of a data dir (its resolved path, hashed) that marks what the
    server of that data dir runs (a process's environment, a container's labels)."""
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]


def describe_exit(exit_code: int | None) -> str:
    """The :attr:`Exit.message` for an exit status (negative: killed by that signal)."""
    if exit_code is None:
        return UNKNOWN_STATUS
    if exit_code == 0:
        return "exited (status 0)"
    if exit_code > 0:
        return f"exited with status {exit_code}"
    number = -exit_code
    try:
        return f"killed by signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"killed by signal {number}"
