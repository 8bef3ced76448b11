"""Fixtures of the panel tests: widgets on a recording comm, a session on the module's server,
and a running example workload."""

from __future__ import annotations

from collections.abc import Iterator

import comm
import httpx
import pytest

import workloadlab.notebook.session as session_module
from currenttools import CURRENT
from workloadlab.notebook.panel import open_panels
from workloadlab.notebook.panel.watcher import active_watchers
from workloadlab.notebook.session import Session, get_session

from harness import LocalServer, free_port, hello_spec, kill_marked, running_server, wait_status
from paneltools import Example, Recorder


@pytest.fixture(scope="module")
def current_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A ``serve --api current`` server for the module (the current generation's panel tests
    make it their ``server``)."""
    data_dir = tmp_path_factory.mktemp("current")
    with running_server(data_dir, *CURRENT) as started:
        yield started
    kill_marked(data_dir)


@pytest.fixture(autouse=True)
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Widgets made in a test talk to a recording comm."""
    recording = Recorder()
    monkeypatch.setattr(comm, "create_comm", recording.create_comm)
    return recording


@pytest.fixture
def session(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """The kernel's session, on the module's server; panels closed afterwards."""
    monkeypatch.setenv("DATAROBOT_ENDPOINT", server.endpoint)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", server.token)
    monkeypatch.setattr(session_module, "_session", None)
    current = get_session()
    yield current
    watchers = [panel.watcher for panel in open_panels()]
    for panel in open_panels():
        panel.close()
    assert all(watcher.stopped.wait(5) for watcher in watchers)
    assert active_watchers() == []
    current.close()


@pytest.fixture
def example(api: httpx.Client, request: pytest.FixtureRequest) -> Iterator[Example]:
    """The example app, running, named after the test; deleted afterwards."""
    name = request.node.name.removeprefix("test_")[:40]
    spec = hello_spec(free_port(), "hello from the test")
    created = api.post("/console/workloads/", json={"name": name, "artifact": spec})
    assert created.status_code == 201, created.text
    workload = created.json()
    wait_status(api, workload["id"], "running")
    yield Example(workload["id"], workload["artifactId"], api)
    for deployment in api.get(
        "/console/deployments/", params={"workloadId": workload["id"]}
    ).json()["data"]:
        api.delete(f"/console/deployments/{deployment['id']}/")
    api.delete(f"/console/workloads/{workload['id']}/")
