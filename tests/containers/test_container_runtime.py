"""ContainerRuntime against a real engine: exits, OOM kills, stops, missing images, adoption with
resumed logs, and sweeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from logsink import Sink
from workloadlab.models import ArtifactSpec
from workloadlab.server.runtimes import StartFailed, data_dir_id, make_runtime
from workloadlab.server.runtimes.container import runtime as container_runtime
from workloadlab.server.runtimes.container import sandbox as container_sandbox
from workloadlab.server.runtimes.container.engine import Engine, find_engine
from workloadlab.server.runtimes.container.runtime import (
    LABEL_DATA_DIR,
    LABEL_ROLE,
    LABEL_WORKLOAD,
    ContainerInstance,
    ContainerRuntime,
)
from workloadlab.server.settings import ServerSettings

from containertools import containers_of, image_ref, remove_containers
from harness import wait_until

WL = "0123456789abcdef01234567"


def make_spec(*args: str, memory: int | None = None, image: str | None = None) -> ArtifactSpec:
    """The test image running ``/entrypoint.sh ARGS`` (``serve`` without any) on port 8080."""
    container: dict[str, Any] = {
        "name": "primary",
        "imageUri": image or image_ref(),
        "primary": True,
        "port": 8080,
    }
    if args:
        container["entrypoint"] = ["/bin/sh", "/entrypoint.sh", *args]
    if memory is not None:
        container["resourceRequest"] = {"cpu": 1, "memory": memory}
    return ArtifactSpec.model_validate({"containerGroups": [{"containers": [container]}]})


async def get(url: str, within: float = 10.0) -> httpx.Response:
    """GET ``url``, retrying connection errors until the app listens."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        while True:
            try:
                return await client.get(url)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.02)


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    return ServerSettings(data_dir=tmp_path / "data")


@pytest.fixture
async def runtime(
    settings: ServerSettings, engine_host: str, engine: Engine
) -> AsyncIterator[ContainerRuntime]:
    runtime = ContainerRuntime(settings, host=engine_host)
    yield runtime
    await runtime.sweep([])  # leave no container of this data dir behind
    await runtime.close()
    remove_containers(engine, settings.data_dir)


async def test_a_container_that_exits_at_once(runtime: ContainerRuntime, engine: Engine) -> None:
    sink = Sink()
    instance = await runtime.start(WL, make_spec("exit", "3"), sink)
    ended = await asyncio.wait_for(instance.wait(), 10)
    assert (ended.exit_code, ended.message, ended.oom_killed) == (3, "exited with status 3", False)
    # Its output is stored before wait() returns, each line with its stream and level (the
    # two streams are read apart, so their relative order is not kept).
    assert sorted((x.message, x.stream, x.level, x.container_name) for x in sink.lines) == [
        ("ERROR: no model file", "stderr", "error", "primary"),
        ("exiting at once", "stdout", "info", "primary"),
    ]
    (primary,) = sink.states[-1]["containers"]
    assert primary["logs"]["stdout"]["count"] == 1
    await runtime.close()  # which waits for the removal of what has ended
    assert containers_of(engine, runtime.settings.data_dir) == []


async def test_oom_kill_is_reported_with_the_limit(runtime: ContainerRuntime) -> None:
    sink = Sink()
    instance = await runtime.start(WL, make_spec("hog", "64", memory=16 * 1024 * 1024), sink)
    ended = await asyncio.wait_for(instance.wait(), 20)
    assert ended.exit_code == 137
    assert "out of memory" in ended.message
    assert "limit 16 MiB" in ended.message
    assert "allocating 64 MiB" in sink.messages


async def test_stop_is_sigterm_then_the_app_exits(runtime: ContainerRuntime) -> None:
    sink = Sink()
    instance = await runtime.start(WL, make_spec(), sink)
    assert (await get(instance.target + "/readyz")).status_code == 200
    began = time.monotonic()
    ended = await instance.stop(grace := 5)
    assert time.monotonic() - began < grace, "it exited on SIGTERM, before any SIGKILL"
    assert (ended.exit_code, ended.message) == (0, "exited (status 0)")
    assert "got SIGTERM, exiting" in sink.messages


async def test_stop_sigkills_a_container_that_ignores_sigterm_after_the_grace(
    runtime: ContainerRuntime,
) -> None:
    sink = Sink()
    instance = await runtime.start(WL, make_spec("ignore-term"), sink)
    await sink.wait_for(lambda: "ignoring SIGTERM" in sink.messages)
    began = time.monotonic()
    ended = await instance.stop(1)
    took = time.monotonic() - began
    assert 1 <= took < 1 + 3, took
    assert ended.exit_code == 137
    assert ended.message == (
        "was killed by signal 9 (SIGKILL; exit status 137) after the 1 s grace period"
    )


async def test_a_missing_image_fails_the_start_at_once(
    runtime: ContainerRuntime, engine: Engine
) -> None:
    image = "registry.invalid/workloadlab/missing:1"
    began = time.monotonic()
    with pytest.raises(StartFailed) as failed:
        await runtime.start(WL, make_spec(image=image), Sink())
    assert time.monotonic() - began < 10
    assert str(failed.value).startswith(
        f"image '{image}' is not available locally and could not be pulled: "
    )
    assert containers_of(engine, runtime.settings.data_dir) == []


async def test_adoption_resumes_logs_without_repeating_lines(
    settings: ServerSettings, engine_host: str, engine: Engine
) -> None:
    first_runtime = ContainerRuntime(settings, host=engine_host)
    first = Sink()
    instance = await first_runtime.start(WL, make_spec("log", "before the crash"), first)
    for _ in range(3):
        assert (await get(instance.target + "/")).status_code == 200
    await first.wait_for(lambda: sum("response:200" in m for m in first.messages) == 3)
    state = first.states[-1]
    await first_runtime.close()  # as if the server died: the container runs on

    second_runtime = ContainerRuntime(settings, host=engine_host)
    second = Sink()
    try:
        adopted = await second_runtime.adopt(WL, state, second)
        assert isinstance(adopted, ContainerInstance)
        assert adopted.state["containers"] == state["containers"]
        assert (await get(adopted.target + "/after-adoption")).status_code == 404
        await second.wait_for(lambda: any("response:404" in m for m in second.messages))
        # Engines stamp lines to the second (podman) or nanosecond (dockerd); either way the
        # adopted instance starts after the last stored line, not at the start of its second.
        assert not set(first.messages) & set(second.messages), second.messages
        ended = await adopted.stop(5)
        assert ended.exit_code == 0
        assert "got SIGTERM, exiting" in second.messages
    finally:
        await second_runtime.sweep([])
        await second_runtime.close()


async def test_adopt_refuses_what_is_not_this_workloads_running_container(
    runtime: ContainerRuntime,
) -> None:
    instance = await runtime.start(WL, make_spec(), Sink())
    state = instance.state
    assert await runtime.adopt("f" * 24, state, Sink()) is None, "another workload's"
    assert await runtime.adopt(WL, {**state, "runtime": "process"}, Sink()) is None
    assert await runtime.adopt(WL, {"runtime": "container"}, Sink()) is None, "malformed"
    await instance.stop(5)
    assert await runtime.adopt(WL, state, Sink()) is None, "gone"


async def test_sweep_removes_only_this_data_dirs_unkept_containers(
    runtime: ContainerRuntime, engine: Engine, tmp_path: Path
) -> None:
    kept = await runtime.start(WL, make_spec(), Sink())
    other_dir = tmp_path / "other"
    labels = {LABEL_WORKLOAD: "e" * 24, LABEL_ROLE: "primary"}
    created = {
        directory: engine.create(
            image=image_ref(),
            name=f"workloadlab-test-sweep-{index}-{time.monotonic_ns()}",
            labels={**labels, LABEL_DATA_DIR: data_dir_id(directory)},
            environment={"PORT": "8080"},
            entrypoint=None,
        )
        for index, directory in enumerate((runtime.settings.data_dir, other_dir))
    }
    try:
        for container_id in created.values():
            engine.start(container_id)
        removed = await runtime.sweep([kept])
        assert len(removed) == 1
        assert removed[0].startswith("removed orphan container workloadlab-test-sweep-0-")
        assert removed[0].endswith(f" of workload {'e' * 24}")
        assert containers_of(engine, runtime.settings.data_dir) == sorted(
            [*(c["id"] for c in kept.state["containers"]), kept.state["sandbox"]["id"]]
        )
        assert containers_of(engine, other_dir) == [created[other_dir]]
        assert (await get(kept.target + "/readyz")).status_code == 200
    finally:
        remove_containers(engine, other_dir)


def test_auto_picks_containers_when_an_engine_answers(
    engine_host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", engine_host)
    settings = ServerSettings(data_dir=tmp_path / "data", runtime="auto")
    # auto pings with a 1 s timeout: a busy machine's podman can answer later, and auto then
    # picks processes. Once the engine answers in time, auto picks containers.
    wait_until(lambda: find_engine() == engine_host, timeout=30, interval=0.2)
    wait_until(lambda: isinstance(make_runtime(settings), ContainerRuntime), timeout=30)


async def test_a_restart_reuses_the_sandbox_and_its_port(
    runtime: ContainerRuntime, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container_sandbox, "SANDBOX_LINGER", 1.0)
    monkeypatch.setattr(container_runtime, "REMOVE_DELAY", 0.1)
    first = await runtime.start(WL, make_spec(), Sink())
    assert first.sandbox is not None
    await first.stop(5)
    second = await runtime.start(WL, make_spec(), Sink())
    assert second.sandbox is first.sandbox, "reused within SANDBOX_LINGER"
    assert second.target == first.target
    assert (await get(second.target + "/readyz")).status_code == 200
    await second.stop(5)
    sandbox_id = first.sandbox.container_id
    for _ in range(100):  # then removed, after the containers that used it
        if await asyncio.to_thread(engine.inspect, sandbox_id) is None:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the sandbox was not removed after SANDBOX_LINGER")
    assert await asyncio.to_thread(containers_of, engine, runtime.settings.data_dir) == []


async def test_an_image_that_cannot_run_a_sandbox_runs_without_one(
    runtime: ContainerRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container_sandbox, "SANDBOX_COMMAND", ["/no/such/sleep"])
    instance = await runtime.start(WL, make_spec(), Sink())
    assert instance.sandbox is None
    assert instance.state["sandbox"] is None
    assert (await get(instance.target + "/readyz")).status_code == 200, "the primary publishes"
    assert (await instance.stop(5)).exit_code == 0
