"""A container engine that speaks the Docker Engine API (dockerd, or podman's compatible socket).

Two parts:

- **Discovery.** :func:`find_engine` returns the first engine that answers ``/_ping`` at
  ``$DOCKER_HOST``, the default Docker socket, the system podman socket or the user's podman
  socket; the ``auto`` runtime uses it to choose between containers and host processes.
- **A typed wrapper.** :class:`Engine` is the narrow, typed face of the ``docker`` SDK (which
  has no type hints) that the container runtime needs. Every method blocks: callers run them in
  a thread. Every failure is an :class:`EngineError` whose message is the engine's own words.

Two HTTP clients share one engine: one with a request timeout for ordinary calls, one without
for the calls that block by design (``wait``, followed logs), so a quiet container is not
mistaken for a broken connection.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workloadlab.models.local import LocalMount
from workloadlab.server.runtimes.container.hardening import Hardening

logger = logging.getLogger("workloadlab.server")

DEFAULT_DOCKER_SOCKET = "unix:///var/run/docker.sock"
SYSTEM_PODMAN_SOCKET = "unix:///run/podman/podman.sock"
REQUEST_TIMEOUT = 60.0
"""Seconds an ordinary engine call may take (a pull: between two progress messages)."""
PING_TIMEOUT = 1.0
INSPECT_ATTEMPTS = 4
MAX_POOL_SIZE = 64
"""Connections kept per client: each running container holds a few open (wait, logs)."""


class EngineError(Exception):
    """The engine refused or failed a call, or could not be reached; ``str()`` says why."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class NotFound(EngineError):
    """The container or image does not exist."""


def candidate_hosts(environ: Mapping[str, str] | None = None) -> list[str]:
    """Where an engine may listen, in order of preference (``DOCKER_HOST`` first)."""
    env = os.environ if environ is None else environ
    hosts: list[str] = []
    if env.get("DOCKER_HOST"):
        hosts.append(env["DOCKER_HOST"])
    hosts += [DEFAULT_DOCKER_SOCKET, SYSTEM_PODMAN_SOCKET]
    if env.get("XDG_RUNTIME_DIR"):
        hosts.append(f"unix://{env['XDG_RUNTIME_DIR']}/podman/podman.sock")
    return list(dict.fromkeys(hosts))


def find_engine(
    environ: Mapping[str, str] | None = None, timeout: float = PING_TIMEOUT
) -> str | None:
    """The first of :func:`candidate_hosts` where an engine answers a ping, else ``None``.

    Blocks for at most ``timeout`` seconds per candidate (a missing unix socket costs nothing).
    """
    for host in candidate_hosts(environ):
        if host.startswith("unix://") and not os.path.exists(host[len("unix://") :]):
            continue
        if ping(host, timeout):
            return host
    return None


def ping(host: str, timeout: float = PING_TIMEOUT) -> bool:
    """Whether an engine answers ``/_ping`` at ``host``."""
    import docker  # type: ignore[import-untyped]

    try:
        # "auto" asks the unversioned /version first: engines refuse API versions below their
        # minimum, which a fixed version for the ping could be.
        client = docker.APIClient(base_url=host, version="auto", timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception as exc:  # the SDK raises many kinds (connection, TLS, URL parsing)
        logger.debug("no container engine answers at %s: %s", host, exc)
        return False


@dataclass(frozen=True)
class PortBinding:
    """A container port published on a host address (``host_port`` 0: the engine picks)."""

    container_port: int
    host_ip: str = "127.0.0.1"
    host_port: int = 0


class LogStream:
    """A followed log stream of one container and one output stream: raw chunks as they come.

    :meth:`close` may be called from another thread; it ends the iteration there.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._stream:
                if isinstance(chunk, bytes):
                    yield chunk
        except Exception as exc:  # a closed socket, an engine that went away
            if not self._closed:
                logger.debug("log stream ended: %s", exc)

    def close(self) -> None:
        """Shut the connection down (idempotent, thread-safe)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._stream.close()
        except Exception as exc:
            logger.debug("closing a log stream: %s", exc)


class Engine:
    """The calls the container runtime makes, typed; each blocks until the engine answers."""

    def __init__(self, host: str | None = None, timeout: float = REQUEST_TIMEOUT) -> None:
        """Connect to ``host`` (else ``$DOCKER_HOST`` and the other ``DOCKER_*`` variables,
        else the default socket) and negotiate the API version; raises :class:`EngineError`."""
        import docker
        from docker.utils import kwargs_from_env  # type: ignore[import-untyped]

        settings: dict[str, Any] = kwargs_from_env()
        if host:
            settings["base_url"] = host
        self.host: str = settings.get("base_url") or DEFAULT_DOCKER_SOCKET
        try:
            self._api = docker.APIClient(
                **settings, version="auto", timeout=timeout, max_pool_size=MAX_POOL_SIZE
            )
            version = self._api.api_version
            components = self._api.version().get("Components") or []
            self._streams = docker.APIClient(
                **settings, version=version, timeout=None, max_pool_size=MAX_POOL_SIZE
            )
        except Exception as exc:
            raise EngineError(f"no container engine answers at {self.host}: {exc}") from None
        self.api_version: str = str(version)
        self.is_podman: bool = any(
            "podman" in str(c.get("Name", "")).lower() for c in components if isinstance(c, dict)
        )
        """Whether the engine is podman (whose API differs from dockerd's in small ways)."""

    def close(self) -> None:
        """Close both clients' connections (ends the streams still open on them)."""
        for client in (self._api, self._streams):
            try:
                client.close()
            except Exception as exc:
                logger.debug("closing the engine client: %s", exc)

    # -- images ------------------------------------------------------------------------------

    def has_image(self, reference: str) -> bool:
        """Whether the image is present locally."""
        try:
            self._call(self._api.inspect_image, reference)
        except NotFound:
            return False
        return True

    def image_problem(self, reference: str) -> str | None:
        """``None`` if the image is local or its registry has it (asked without pulling),
        else why it cannot be had."""
        if self.has_image(reference):
            return None
        try:
            self._call(self._api.inspect_distribution, reference)
        except EngineError as exc:
            return str(exc) or "the registry does not have it"
        return None

    def pull(self, reference: str) -> None:
        """Pull an image; :class:`EngineError` with the registry's answer if that fails.

        The engine streams progress and reports a failure in the stream (still HTTP 200), so
        the stream is read to its end; the request timeout bounds each wait for a message.
        """
        from docker.utils import parse_repository_tag

        repository, tag = parse_repository_tag(reference)
        if tag is None and "@" not in reference:
            tag = "latest"

        def consume() -> None:
            for message in self._api.pull(repository, tag=tag, stream=True, decode=True):
                if isinstance(message, dict) and message.get("error"):
                    detail = message.get("errorDetail") or {}
                    raise EngineError(str(detail.get("message") or message["error"]))

        self._call(consume)  # (an error while streaming is the SDK's too)
        if not self.has_image(reference):
            raise EngineError("the engine reported no error, but the image is still missing")

    # -- containers --------------------------------------------------------------------------

    def create(
        self,
        *,
        image: str,
        name: str,
        labels: Mapping[str, str],
        environment: Mapping[str, str],
        entrypoint: Sequence[str] | None,
        ports: Sequence[PortBinding] = (),
        nano_cpus: int | None = None,
        memory: int | None = None,
        gpus: int = 0,
        network_of: str | None = None,
        hardening: Hardening | None = None,
        mounts: Sequence[LocalMount] = (),
    ) -> str:
        """Create (not start) a container; returns its id.

        ``entrypoint`` replaces the image's entrypoint *and* command; ``memory`` also caps
        swap at the same size (no swap, as in Kubernetes); ``network_of`` joins another
        container's network namespace (a sidecar shares the primary's ``localhost``);
        ``hardening``: its security settings (:mod:`.hardening`); ``mounts``: host
        directories bind-mounted into it (``localMounts``).
        """
        secure = hardening or Hardening()
        from docker.types import DeviceRequest, Mount  # type: ignore[import-untyped]

        host_config = self._api.create_host_config(
            port_bindings={p.container_port: (p.host_ip, p.host_port or None) for p in ports}
            or None,
            nano_cpus=nano_cpus,
            mem_limit=memory,
            memswap_limit=memory,
            network_mode=f"container:{network_of}" if network_of else None,
            device_requests=[DeviceRequest(count=gpus, capabilities=[["gpu"]])] if gpus else None,
            security_opt=secure.security_opt or None,
            cap_add=secure.cap_add or None,
            cap_drop=secure.cap_drop or None,
            read_only=secure.read_only or None,
            mounts=[Mount(m.target, m.source, type="bind", read_only=m.read_only) for m in mounts]
            or None,
        )
        created = self._call(
            self._api.create_container,
            image,
            command=[] if entrypoint else None,
            entrypoint=list(entrypoint) if entrypoint else None,
            environment=dict(environment),
            ports=[p.container_port for p in ports] or None,
            labels=dict(labels),
            name=name,
            host_config=host_config,
        )
        return str(created["Id"])

    def start(self, container_id: str) -> None:
        """Start a created container."""
        self._call(self._api.start, container_id)

    def inspect(self, container_id: str) -> dict[str, Any] | None:
        """The container's inspect document, or ``None`` if it does not exist.

        A container that ends while it is inspected can make podman fail the call ("read
        /proc/<pid>/cgroup: no such process"): a server error is retried a few times.
        """
        for attempt in range(INSPECT_ATTEMPTS):
            try:
                info: dict[str, Any] = self._call(self._api.inspect_container, container_id)
            except NotFound:
                return None
            except EngineError as exc:
                if exc.status_code != 500 or attempt == INSPECT_ATTEMPTS - 1:
                    raise
                logger.debug("inspecting %s failed (%s); trying again", container_id[:12], exc)
                time.sleep(0.01 * (attempt + 1))
                continue
            return info
        raise AssertionError("unreachable")

    def kill(self, container_id: str, signal: str | int) -> bool:
        """Send ``signal`` to the container's PID 1; ``False`` if it is not running (or gone)."""
        try:
            self._call(self._api.kill, container_id, signal=signal)
        except EngineError as exc:
            if isinstance(exc, NotFound) or exc.status_code in (409, 500):
                return False  # not running (podman says 500 "container state improper")
            raise
        return True

    def remove(self, container_id: str) -> None:
        """Remove the container (killed first if it still runs); a missing one is fine."""
        with contextlib.suppress(NotFound):
            self._call(self._api.remove_container, container_id, force=True)

    def wait(self, container_id: str) -> int | None:
        """Block until the container is not running; its exit status (``None``: unknown)."""
        result = self._call(self._streams.wait, container_id, timeout=None)
        code = result.get("StatusCode") if isinstance(result, dict) else None
        return code if isinstance(code, int) else None

    def follow_logs(self, container_id: str, stream: str, since: int | None) -> LogStream:
        """Follow one output stream (``stdout``/``stderr``), lines prefixed with timestamps,
        from ``since`` (whole POSIX seconds) or the start; it ends when the container does."""
        return LogStream(
            self._call(
                self._streams.logs,
                container_id,
                stdout=stream == "stdout",
                stderr=stream == "stderr",
                stream=True,
                follow=True,
                timestamps=True,
                since=since if since and since > 0 else None,
            )
        )

    def logs(
        self, container_id: str, stream: str, since: int | None, tail: int | None = None
    ) -> bytes:
        """What one output stream holds now, from ``since`` (as :meth:`follow_logs`), at most
        its last ``tail`` lines."""
        data = self._call(
            self._api.logs,
            container_id,
            stdout=stream == "stdout",
            stderr=stream == "stderr",
            stream=False,
            follow=False,
            timestamps=True,
            since=since if since and since > 0 else None,
            tail="all" if tail is None else tail,
        )
        return data if isinstance(data, bytes) else b""

    def containers(self, label: str) -> list[dict[str, Any]]:
        """Every container (running or not) with ``label`` (``key=value``)."""
        found = self._call(self._api.containers, all=True, filters={"label": label})
        return [c for c in found if isinstance(c, dict)]

    # -- errors ------------------------------------------------------------------------------

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """Call an SDK method, turning its exceptions into :class:`EngineError`."""
        import docker
        import requests

        try:
            return method(*args, **kwargs)
        except docker.errors.NotFound as exc:
            raise NotFound(_explain(exc), 404) from None
        except docker.errors.APIError as exc:
            raise EngineError(_explain(exc), exc.status_code) from None
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise EngineError(f"the container engine at {self.host} failed: {exc}") from None


def _explain(exc: Any) -> str:
    """The engine's own message of an SDK APIError (without the SDK's URL noise)."""
    explanation = getattr(exc, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc).strip()
