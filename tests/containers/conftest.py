"""Fixtures of the container tests: a real engine (rootful podman from ``make containers``, or
any Docker Engine API at ``$WORKLOADLAB_TEST_DOCKER_HOST``), the busybox test image, and local
servers that run workloads with ``--runtime container``.

The tests skip only when no engine answers or the test image is missing; with ``CI``,
``WORKLOADLAB_TEST_DOCKER_HOST`` or ``WORKLOADLAB_REQUIRE_CONTAINERS`` set they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from workloadlab.server.runtimes.container.engine import Engine, EngineError, ping

from containertools import (
    REQUIRED_ENV,
    engine_candidates,
    image_ref,
    remove_containers,
    setup_env,
)
from harness import LocalServer, running_server

CONTAINER_ARGS = ("--runtime", "container")


def _unavailable(reason: str) -> None:
    required = [name for name in REQUIRED_ENV if os.environ.get(name)]
    hint = " (run `make containers`, i.e. scripts/podman-setup.sh, as root)"
    if required:
        pytest.fail(f"{reason}{hint}; required because {', '.join(required)} is set")
    pytest.skip(f"{reason}{hint}")


@pytest.fixture(scope="session")
def engine_host() -> Iterator[str]:
    """The engine's address, also exported as ``DOCKER_HOST`` (and the podman settings of the
    setup script) for the servers the tests start."""
    candidates = engine_candidates()
    # A generous timeout: an absent engine refuses at once, a busy machine's answers late.
    host = next((h for h in candidates if ping(h, timeout=10)), None)
    if host is None:
        _unavailable(f"no container engine answers at {', '.join(candidates) or '(none known)'}")
    assert host is not None
    saved = {name: os.environ.get(name) for name in ("DOCKER_HOST", *setup_env())}
    os.environ.update(setup_env())
    os.environ["DOCKER_HOST"] = host
    yield host
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def engine(engine_host: str) -> Iterator[Engine]:
    """A client of the test engine, for looking at what the servers did."""
    client = Engine(engine_host)
    try:
        if not client.has_image(image_ref()):
            _unavailable(f"the test image {image_ref()} is missing at {engine_host}")
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Iterator[LocalServer]:
    """One container-runtime server per test module; no container of it survives the module."""
    data_dir = tmp_path_factory.mktemp("container-server")
    with running_server(data_dir, *CONTAINER_ARGS) as started:
        yield started
    remove_containers(engine, data_dir)


@pytest.fixture
def data_dir(tmp_path: Path, engine: Engine) -> Iterator[Path]:
    """A data dir for a test that starts its own server(s); its containers are removed after."""
    path = tmp_path / "data"
    yield path
    try:
        remove_containers(engine, path)
    except EngineError as exc:  # the test's own assertions matter more than the clean-up
        print(f"cleaning up containers failed: {exc}")
