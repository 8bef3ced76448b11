"""Sandboxes: the containers that hold a workload's network namespace and published ports.

**One instance, one sandbox.** As in a Kubernetes pod, a *sandbox* container (the primary's
image running ``sleep``) holds the network namespace and publishes the primary's ``port`` and
every probe port on free ``127.0.0.1`` ports that the engine picks; the workload's containers
join it (they share ``localhost``). A stopped workload's sandbox is kept for
:data:`SANDBOX_LINGER` seconds, so a restart reuses it: setting up and tearing down a network is
most of what starting and stopping a container costs (on podman with CNI, about 0.3 s each
way). Images without ``sleep`` run without a sandbox: the primary publishes the ports and the
others join it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workloadlab.models import Container
from workloadlab.server.runtimes.container.engine import Engine, EngineError, PortBinding
from workloadlab.server.runtimes.container.removal import Removals

logger = logging.getLogger("workloadlab.server")

SANDBOX_COMMAND = ["sleep", "2147483647"]
"""What a sandbox runs: it only holds the network namespace and the published ports."""
SANDBOX_LINGER = 10.0
"""How long a stopped workload's sandbox is kept for a start that may follow (a restart)."""


@dataclass(eq=False)
class Sandbox:
    """The container that holds a workload's network namespace and published ports, so a
    restart keeps them (as a Kubernetes pod's sandbox does): creating and tearing down a
    network is most of what starting and removing a container costs."""

    container_id: str
    engine_name: str
    ports: dict[int, int]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.container_id, "name": self.engine_name}


def published_ports(container: Container) -> list[int]:
    """The primary's port and every other port its probes name, each once."""
    ports = [container.port] if container.port else []
    for probe in (container.readiness_probe, container.liveness_probe, container.startup_probe):
        if probe is not None and probe.port and probe.port not in ports:
            ports.append(probe.port)
    return ports


def host_ports(info: dict[str, Any], ports: Sequence[int]) -> dict[int, int]:
    """``{container port: host port}`` from an inspect document's ``NetworkSettings.Ports``."""
    published = ((info.get("NetworkSettings") or {}).get("Ports")) or {}
    found: dict[int, int] = {}
    for port in ports:
        for binding in published.get(f"{port}/tcp") or []:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                found[port] = int(binding["HostPort"])
                break
    return found


class Sandboxes:
    """A runtime's sandboxes: a new one for a start, or the one the workload's last instance
    left, which is kept for :data:`SANDBOX_LINGER` seconds for a restart."""

    def __init__(
        self, labels: Callable[[str, str, str], dict[str, str]], removals: Removals
    ) -> None:
        """``labels(workload_id, name, role)``: the labels of a container of this runtime."""
        self._labels = labels
        self._removals = removals
        self._lingering: dict[str, tuple[Sandbox, asyncio.Task[None], asyncio.Task[None]]] = {}
        """Sandboxes of stopped workloads, each with the task that removes it later and the
        one that removes the containers that used it (which must go first)."""
        self._no_sandbox_images: set[str] = set()
        """Images that cannot run :data:`SANDBOX_COMMAND`: their containers hold the network."""

    def lingering(self) -> set[str]:
        """Container ids of the sandboxes kept for a restart."""
        return {sandbox.container_id for sandbox, _, _ in self._lingering.values()}

    def clear(self) -> None:
        """Forget the kept sandboxes (the runtime closes; their removals have run)."""
        self._lingering.clear()

    async def take(
        self, engine: Engine, workload_id: str, image: str, ports: Sequence[int], suffix: str
    ) -> Sandbox | None:
        """The workload's lingering sandbox if it publishes the same ports, else a new one;
        ``None`` if the image cannot run one (the primary then publishes the ports)."""
        lingering = self._lingering.pop(workload_id, None)
        if lingering is not None:
            sandbox, remover, users_removed = lingering
            remover.cancel()
            if set(sandbox.ports) == set(ports):
                try:
                    info = await asyncio.to_thread(engine.inspect, sandbox.container_id)
                except EngineError:
                    info = None
                if ((info or {}).get("State") or {}).get("Running"):
                    return sandbox
            self._removals.schedule(workload_id, [sandbox.container_id], after=users_removed)
        if image in self._no_sandbox_images:
            return None
        name = f"workloadlab-{workload_id}-{suffix}-sandbox"
        container_id: str | None = None
        try:
            container_id = await asyncio.to_thread(
                lambda: engine.create(
                    image=image,
                    name=name,
                    labels=self._labels(workload_id, "sandbox", "sandbox"),
                    environment={},
                    entrypoint=SANDBOX_COMMAND,
                    ports=[PortBinding(p) for p in ports],
                )
            )
            await asyncio.to_thread(engine.start, container_id)
            info = await asyncio.to_thread(engine.inspect, container_id)
            found = host_ports(info or {}, ports)
            if len(found) != len(ports):
                raise EngineError(f"published {sorted(found)} of ports {sorted(ports)}")
        except EngineError as exc:
            logger.info(
                "running %s without a sandbox: %s cannot run %r (%s)",
                workload_id,
                image,
                " ".join(SANDBOX_COMMAND),
                exc,
            )
            self._no_sandbox_images.add(image)
            if container_id is not None:
                await asyncio.shield(self._removals.remove([container_id]))
            return None
        return Sandbox(container_id, name, found)

    def linger(self, workload_id: str, sandbox: Sandbox, users_removed: asyncio.Task[None]) -> None:
        """Keep a stopped workload's sandbox for :data:`SANDBOX_LINGER` seconds, then remove
        it (after the containers that used it: ``users_removed``)."""
        previous = self._lingering.pop(workload_id, None)
        if previous is not None and previous[0] is not sandbox:
            previous[1].cancel()
            self._removals.schedule(workload_id, [previous[0].container_id], after=previous[2])
        task = self._removals.schedule(
            workload_id, [sandbox.container_id], SANDBOX_LINGER, after=users_removed
        )

        def forget(_: asyncio.Task[None]) -> None:
            if self._lingering.get(workload_id, (None,))[0] is sandbox:
                del self._lingering[workload_id]

        task.add_done_callback(forget)
        self._lingering[workload_id] = (sandbox, task, users_removed)
