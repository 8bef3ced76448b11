"""The ``container`` runtime: a workload's containers run through the Docker Engine API.

It drives dockerd or podman's Docker-compatible socket with the ``docker`` SDK (through the
typed :class:`~workloadlab.server.runtimes.container.engine.Engine`). Every SDK call blocks, so
short calls run in the default thread pool (``asyncio.to_thread``) and the calls that block by
design (``wait``, followed logs) run in daemon threads that report back to the event loop. The
instance (exit, stop) is in :mod:`.instance`, its logs in :mod:`.logs`, the sandbox that holds
its network in :mod:`.sandbox`. Design notes:

- **Spec mapping.** ``entrypoint`` replaces the image's entrypoint *and* command;
  ``environmentVars`` plus ``PORT`` (the container port) and ``WORKLOAD_ID``;
  ``resourceRequest.cpu`` becomes ``NanoCpus``, ``memory`` the memory limit (swap capped at the
  same size), ``gpu`` a device request; the workload runtime's ``resourceAllocation`` (current
  generation) overrides cpu and memory (:mod:`workloadlab.server.supervisor.sizing`); a
  container's ``securityContext`` (current generation) becomes its security options
  (:mod:`.hardening`; the sandbox gets none); its ``localMounts`` (a local-server extension:
  :mod:`workloadlab.models.local`) are bind mounts. A missing image is pulled; if that fails, the
  start fails at once with the registry's answer.
- **Labels, not names, own containers.** Each container is labelled with its workload and a
  hash of the server's data dir (:func:`~workloadlab.server.runtimes.base.data_dir_id`), so
  :meth:`ContainerRuntime.sweep` removes this server's orphans and never another server's. The
  instance's state holds the container ids, which :meth:`ContainerRuntime.adopt` checks.
- **Removal off the restart's path.** Removing ended containers waits :data:`REMOVE_DELAY`
  seconds (:mod:`.removal`), off the path of the start that usually follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from workloadlab.models import ArtifactSpec, Container
from workloadlab.models.preflight import Finding, containers_of
from workloadlab.server.runtimes.base import (
    STREAMS,
    WORKLOAD_ID,
    LogSink,
    StartFailed,
    data_dir_id,
)
from workloadlab.server.runtimes.container.engine import (
    Engine,
    EngineError,
    PortBinding,
    find_engine,
)
from workloadlab.server.runtimes.container.hardening import hardening
from workloadlab.server.runtimes.container.instance import RUNTIME_NAME, ContainerInstance, Member
from workloadlab.server.runtimes.container.logs import LogCursor, LogPosition
from workloadlab.server.runtimes.container.removal import Removals
from workloadlab.server.runtimes.container.sandbox import (
    Sandbox,
    Sandboxes,
    host_ports,
    published_ports,
)
from workloadlab.server.runtimes.preflight import image_finding, resource_findings
from workloadlab.server.runtimes.security import security_context
from workloadlab.server.settings import ServerSettings

if TYPE_CHECKING:
    from workloadlab.server.runtimes.base import Instance, Runtime

logger = logging.getLogger("workloadlab.server")

LABEL_WORKLOAD = "workloadlab.workload"
LABEL_DATA_DIR = "workloadlab.datadir"
LABEL_CONTAINER = "workloadlab.container"
"""The container's name in the spec (``primary`` unless it says otherwise)."""
LABEL_ROLE = "workloadlab.role"
"""``primary``, ``sidecar``, or ``sandbox`` (the container that holds the network and ports)."""
REMOVE_DELAY = 2.0
"""Ended containers are removed this much later, not to slow down the restart that usually
follows (the engine's removal and the new container's creation contend for its locks)."""
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class ContainerRuntime:
    """Runs each workload's container group through a Docker Engine API."""

    name: str = RUNTIME_NAME

    def __init__(self, settings: ServerSettings, host: str | None = None) -> None:
        """``host``: the engine's address; by default ``$DOCKER_HOST``, else the first socket
        where an engine answers (:func:`~.engine.find_engine`)."""
        try:
            import docker  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "the container runtime needs the docker SDK: pip install 'workloadlab[container]'"
            ) from None
        self.settings = settings
        self.data_dir_id = data_dir_id(settings.data_dir)
        self._host = host
        self._engine: Engine | None = None
        self._connecting = asyncio.Lock()
        self._instances: set[ContainerInstance] = set()
        self._removals = Removals(lambda: self._engine)
        self._sandboxes = Sandboxes(self.labels, self._removals)

    async def engine(self) -> Engine:
        """The engine client, connected on first use; :class:`EngineError` if none answers."""
        async with self._connecting:
            if self._engine is None:
                self._engine = await asyncio.to_thread(self._connect)
                logger.info(
                    "container runtime: engine at %s (API %s)",
                    self._engine.host,
                    self._engine.api_version,
                )
            return self._engine

    def _connect(self) -> Engine:
        host = self._host or find_engine()
        return Engine(host)

    def labels(self, workload_id: str, name: str, role: str) -> dict[str, str]:
        """The labels that mark a container as this data dir's, for ``workload_id``."""
        return {
            LABEL_WORKLOAD: workload_id,
            LABEL_DATA_DIR: self.data_dir_id,
            LABEL_CONTAINER: name,
            LABEL_ROLE: role,
        }

    async def start(
        self, workload_id: str, spec: ArtifactSpec, on_logs: LogSink
    ) -> ContainerInstance:
        """Create and start the spec's containers; StartFailed says why it could not."""
        if not WORKLOAD_ID.match(workload_id):
            raise ValueError(f"not a workload id: {workload_id!r}")
        primary = spec.primary
        if primary.port is None:
            raise StartFailed("the primary container has no port")
        containers = [primary, *(c for c in spec.containers if not c.primary)]
        try:
            engine = await self.engine()
        except EngineError as exc:
            raise StartFailed(
                f"{exc} (start dockerd or `podman system service`, set DOCKER_HOST, or run"
                " the server with --runtime process)"
            ) from None
        loop = asyncio.get_running_loop()
        began = loop.time()
        for image in dict.fromkeys(c.image_uri for c in containers):
            await self._ensure_image(engine, image)
        times = {"image": loop.time()}

        published = published_ports(primary)
        suffix = secrets.token_hex(3)
        sandbox = await self._sandboxes.take(
            engine, workload_id, primary.image_uri, published, suffix
        )
        times["sandbox"] = loop.time()
        created: list[Member] = []
        try:
            for container in containers:
                created.append(
                    await self._create(engine, workload_id, suffix, container, sandbox, created)
                )
            times["create"] = loop.time()
            for member in created:
                try:
                    await asyncio.to_thread(engine.start, member.container_id)
                except EngineError as exc:
                    raise StartFailed(
                        f"cannot start container {member.spec_name!r}: {exc}"
                    ) from None
            times["start"] = loop.time()
            ports = (
                sandbox.ports
                if sandbox
                else await self._primary_ports(engine, created[0], published)
            )
        except BaseException:
            ids = [m.container_id for m in reversed(created)]
            removed = self._removals.schedule(workload_id, ids)
            if sandbox is not None:
                self._sandboxes.linger(workload_id, sandbox, removed)
            raise
        instance = ContainerInstance(
            workload_id=workload_id,
            engine=engine,
            members=created,
            sandbox=sandbox,
            port=primary.port,
            ports=ports,
            on_logs=on_logs,
            on_done=self._done,
        )
        self._instances.add(instance)
        logger.info("started %s from %s on %s", instance, primary.image_uri, instance.target)
        if logger.isEnabledFor(logging.DEBUG):
            steps, last = [], began
            for step, at in times.items():
                steps.append(f"{step} {(at - last) * 1000:.0f} ms")
                last = at
            logger.debug("starting %s took %s", instance, ", ".join(steps))
        return instance

    async def _ensure_image(self, engine: Engine, image: str) -> None:
        try:
            if await asyncio.to_thread(engine.has_image, image):
                return
            logger.info("pulling image %s", image)
            await asyncio.to_thread(engine.pull, image)
        except EngineError as exc:
            raise StartFailed(
                f"image {image!r} is not available locally and could not be pulled: {exc}"
            ) from None

    async def _primary_ports(
        self, engine: Engine, primary: Member, published: Sequence[int]
    ) -> dict[int, int]:
        """The host ports a primary without a sandbox published."""
        try:
            info = await asyncio.to_thread(engine.inspect, primary.container_id)
        except EngineError as exc:
            raise StartFailed(f"cannot inspect the started container: {exc}") from None
        ports = host_ports(info or {}, published)
        missing = sorted(set(published) - set(ports))
        if missing and ((info or {}).get("State") or {}).get("Running"):
            raise StartFailed(f"the engine did not publish port(s) {missing} of the primary")
        # An ended container publishes nothing (it exited at once): its watcher says why.
        return ports | dict.fromkeys(missing, 0)

    async def _create(
        self,
        engine: Engine,
        workload_id: str,
        suffix: str,
        container: Container,
        sandbox: Sandbox | None,
        created: Sequence[Member],
    ) -> Member:
        spec_name = container.name or "primary"
        engine_name = f"workloadlab-{workload_id}-{suffix}"
        if not container.primary:
            engine_name += "-" + (_NAME_UNSAFE.sub("-", spec_name).strip("-.")[:40] or "sidecar")
        environment = container.env()
        if container.port is not None:
            environment["PORT"] = str(container.port)
        environment["WORKLOAD_ID"] = workload_id
        resources = container.resource_request  # a runtime's allocation may give only one
        memory = (resources.memory or None) if resources else None
        cpus = (resources.cpu or None) if resources else None
        # Every container joins the sandbox's network; without one, the primary has it.
        publishes = sandbox is None and container.primary
        network_of = sandbox.container_id if sandbox else None
        if sandbox is None and not container.primary:
            network_of = created[0].container_id
        try:
            container_id = await asyncio.to_thread(
                lambda: engine.create(
                    image=container.image_uri,
                    name=engine_name,
                    labels=self.labels(
                        workload_id, spec_name, "primary" if container.primary else "sidecar"
                    ),
                    environment=environment,
                    entrypoint=container.entrypoint,
                    ports=[PortBinding(p) for p in published_ports(container)] if publishes else (),
                    nano_cpus=round(cpus * 1e9) if cpus else None,
                    memory=memory,
                    gpus=resources.gpu if resources else 0,
                    network_of=network_of,
                    hardening=hardening(security_context(container), spec_name),
                    mounts=container.local_mounts or (),
                )
            )
        except EngineError as exc:
            raise StartFailed(f"cannot create container {spec_name!r}: {exc}") from None
        return Member(
            container_id=container_id,
            engine_name=engine_name,
            spec_name=spec_name,
            primary=container.primary,
            memory=memory,
            cursors={s: LogCursor(s, LogPosition()) for s in STREAMS},
        )

    async def preflight(self, data: Any) -> list[Finding]:
        """The machine-bound pre-flight findings of a spec (as written): images the engine has
        not got and cannot pull, and requests larger than the machine."""
        found = resource_findings(data, runtime=self.name, enforced=frozenset({"cpu", "gpu"}))
        engine = await self.engine()
        for where, container in containers_of(data):
            image = container.get("imageUri")
            if isinstance(image, str) and image:
                problem = await asyncio.to_thread(engine.image_problem, image)
                if problem is not None:
                    found.append(image_finding(where, image, problem))
        return found

    async def adopt(
        self, workload_id: str, state: dict[str, Any], on_logs: LogSink
    ) -> ContainerInstance | None:
        """Take over the containers in ``state`` if they all still run and are labelled as
        this data dir's containers of ``workload_id``."""
        if state.get("runtime") != RUNTIME_NAME or not WORKLOAD_ID.match(workload_id):
            return None
        try:
            port = int(state["port"])
            ports = {int(k): int(v) for k, v in dict(state["ports"]).items()}
            members = [
                Member(
                    container_id=str(raw["id"]),
                    engine_name=str(raw["name"]),
                    spec_name=str(raw.get("containerName") or "primary"),
                    primary=bool(raw.get("primary")),
                    memory=int(raw["memory"]) if raw.get("memory") else None,
                    cursors={
                        s: LogCursor(s, LogPosition.from_json((raw.get("logs") or {}).get(s)))
                        for s in STREAMS
                    },
                )
                for raw in list(state["containers"])
            ]
            raw_sandbox = state.get("sandbox")
            sandbox = (
                Sandbox(str(raw_sandbox["id"]), str(raw_sandbox["name"]), ports)
                if raw_sandbox
                else None
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            logger.warning("cannot adopt %s: malformed state %r", workload_id, state)
            return None
        if not members or not members[0].primary or port not in ports:
            return None
        ids = [m.container_id for m in members] + ([sandbox.container_id] if sandbox else [])
        names = [m.engine_name for m in members] + ([sandbox.engine_name] if sandbox else [])
        try:
            engine = await self.engine()
            infos = await asyncio.gather(*(asyncio.to_thread(engine.inspect, i) for i in ids))
        except EngineError as exc:
            logger.warning("cannot adopt %s: %s", workload_id, exc)
            return None
        for name, info in zip(names, infos, strict=True):
            labels = ((info or {}).get("Config") or {}).get("Labels") or {}
            running = bool(((info or {}).get("State") or {}).get("Running"))
            if (
                not running
                or labels.get(LABEL_WORKLOAD) != workload_id
                or labels.get(LABEL_DATA_DIR) != self.data_dir_id
            ):
                logger.info("cannot adopt %s: container %s no longer runs", workload_id, name)
                return None
        ports = host_ports((infos[-1] if sandbox else infos[0]) or {}, list(ports)) or ports
        if sandbox is not None:
            sandbox.ports = ports
        instance = ContainerInstance(
            workload_id=workload_id,
            engine=engine,
            members=members,
            sandbox=sandbox,
            port=port,
            ports=ports,
            on_logs=on_logs,
            on_done=self._done,
        )
        self._instances.add(instance)
        logger.info("adopted %s", instance)
        return instance

    async def sweep(self, keep: Sequence[Instance]) -> list[str]:
        """Remove this data dir's containers (running or not) that ``keep`` does not own."""
        kept: set[str] = set()
        for instance in keep:
            with contextlib.suppress(KeyError, TypeError):
                state = instance.state
                kept.update(str(c["id"]) for c in state["containers"])
                if state.get("sandbox"):
                    kept.add(str(state["sandbox"]["id"]))
        kept.update(self._sandboxes.lingering())
        try:
            engine = await self.engine()
            found = await asyncio.to_thread(
                engine.containers, f"{LABEL_DATA_DIR}={self.data_dir_id}"
            )
        except EngineError as exc:
            logger.warning("cannot look for orphan containers: %s", exc)
            return []
        victims = [c for c in found if str(c.get("Id")) not in kept]
        # Containers that use another's network go first, or that one cannot go.
        order = {"sidecar": 0, "primary": 1, "sandbox": 2}
        victims.sort(key=lambda c: order.get((c.get("Labels") or {}).get(LABEL_ROLE, ""), 0))
        removed: list[str] = []
        for victim in victims:
            container_id = str(victim.get("Id"))
            names = victim.get("Names") or [container_id[:12]]
            name = str(names[0]).lstrip("/")
            workload = (victim.get("Labels") or {}).get(LABEL_WORKLOAD, "?")
            try:
                await asyncio.to_thread(engine.kill, container_id, "SIGKILL")
                await asyncio.to_thread(engine.remove, container_id)
            except EngineError as exc:
                logger.warning("cannot remove orphan container %s: %s", name, exc)
                continue
            removed.append(f"removed orphan container {name} of workload {workload}")
        return removed

    def forget(self, workload_id: str) -> None:
        """Nothing to do: the engine's log files go with the containers."""

    def forget_others(self, workload_ids: Collection[str]) -> list[str]:
        """Nothing to do: :meth:`sweep` removes containers nobody owns."""
        return []

    def _done(self, instance: ContainerInstance) -> None:
        """An instance stopped being watched: if its containers have ended, remove them (a
        little later) and keep its sandbox for a while."""
        self._instances.discard(instance)
        if instance.ended:
            ids = [m.container_id for m in reversed(instance.members)]
            removed = self._removals.schedule(instance.workload_id, ids, REMOVE_DELAY)
            if instance.sandbox is not None:
                self._sandboxes.linger(instance.workload_id, instance.sandbox, removed)

    async def close(self) -> None:
        """Stop watching and following; running containers keep running (a new server adopts
        them). Ended containers and kept sandboxes are removed first."""
        self._removals.hurry()
        tasks: list[asyncio.Task[Any]] = []
        for instance in list(self._instances):
            tasks.extend(instance.abandon())
        self._instances.clear()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._removals.drain()
        self._sandboxes.clear()
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await asyncio.to_thread(engine.close)


if TYPE_CHECKING:

    def _conforms(
        runtime: ContainerRuntime, instance: ContainerInstance
    ) -> tuple[Runtime, Instance]:
        """Static check that the classes implement the runtime protocols."""
        return runtime, instance
