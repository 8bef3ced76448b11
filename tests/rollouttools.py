"""Helpers for the tests of rolling changes: registered versions, a deployment, and a loop of
invoke calls that runs while a deployment moves from one version to another."""

from __future__ import annotations

import itertools
import secrets
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

from harness import (
    LocalServer,
    free_port,
    hello_spec,
    processes_marked,
    wait_status,
    wait_until,
)


def collection_name() -> str:
    """A fresh artifact name: its registered versions form a collection of their own."""
    return f"rollout-{secrets.token_hex(4)}"


def register(api: httpx.Client, artifact: dict[str, Any], name: str) -> dict[str, Any]:
    """Create ``artifact`` registered at once, as the next version of collection ``name``."""
    answer = api.post(
        "/registry/artifacts/", json={**artifact, "name": name, "status": "registered"}
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def lock_version(api: httpx.Client, name: str, greeting: str, **container: Any) -> str:
    """The example app saying ``greeting`` as a draft of collection ``name``, then locked
    (registered): the collection's next version. Its id."""
    body = {**hello_spec(free_port(), greeting, **container), "name": name}
    draft = api.post("/registry/artifacts/", json=body)
    assert draft.status_code == 201, draft.text
    locked = api.patch(f"/registry/artifacts/{draft.json()['id']}", json={"status": "registered"})
    assert locked.status_code == 200, locked.text
    artifact_id: str = locked.json()["id"]
    return artifact_id


def deploy(api: httpx.Client, artifact_id: str, name: str = "prod") -> tuple[str, str]:
    """A workload running ``artifact_id`` (running asserted) and a deployment of it: their ids."""
    answer = api.post("/console/workloads/", json={"name": name, "artifactId": artifact_id})
    assert answer.status_code == 201, answer.text
    workload_id: str = answer.json()["id"]
    wait_status(api, workload_id, "running")
    answer = api.post("/console/deployments/", json={"workloadId": workload_id, "name": name})
    assert answer.status_code == 201, answer.text
    deployment_id: str = answer.json()["id"]
    return workload_id, deployment_id


def move(api: httpx.Client, deployment_id: str, artifact_id: str) -> dict[str, Any]:
    """PATCH the deployment to ``artifact_id`` (``200`` asserted); the deployment."""
    answer = api.patch(f"/console/deployments/{deployment_id}", json={"artifactId": artifact_id})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def finished_rollout(
    api: httpx.Client, deployment_id: str, timeout: float = 30.0
) -> dict[str, Any]:
    """Poll the deployment until its latest change is over; that change."""

    def over() -> dict[str, Any] | None:
        rollout: dict[str, Any] | None = api.get(f"/console/deployments/{deployment_id}/").json()[
            "rollout"
        ]
        return rollout if rollout is not None and rollout["status"] != "inProgress" else None

    result: dict[str, Any] = wait_until(over, timeout=timeout)
    return result


def event_types(api: httpx.Client, path: str) -> list[str]:
    """The event types of a trail (``/console/.../events``), oldest first."""
    events = api.get(path, params={"limit": 100}).json()["data"]
    return [event["eventType"] for event in reversed(events)]


def events_of(api: httpx.Client, path: str, event_type: str) -> list[dict[str, Any]]:
    """The events of one type in a trail, oldest first."""
    events = api.get(path, params={"limit": 100}).json()["data"]
    return [event for event in reversed(events) if event["eventType"] == event_type]


def runs(changes: list[Any]) -> list[Any]:
    """``changes`` with consecutive repeats collapsed: ``[a, a, b, b, a] -> [a, b, a]``."""
    return [key for key, _ in itertools.groupby(changes)]


@dataclass
class Answer:
    status: int
    greeting: str | None
    text: str


@dataclass
class InvokeLoop:
    """Calls ``path`` of a deployment's endpoint as fast as one connection allows, in a thread,
    from entering the ``with`` block until leaving it; :attr:`answers` in order."""

    server: LocalServer
    path: str
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _error: BaseException | None = None

    def __enter__(self) -> InvokeLoop:
        self._thread = threading.Thread(target=self._run, name="invoke-loop", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=30)
        if self._error is not None and kind is None:
            raise self._error

    def _run(self) -> None:
        try:
            with self.server.client() as api:
                while not self._stop.is_set():
                    answer = api.get(self.path)
                    greeting = None
                    if answer.status_code == 200:
                        greeting = answer.json().get("greeting")
                    self.answers.append(Answer(answer.status_code, greeting, answer.text))
        except BaseException as exc:  # reported by __exit__
            self._error = exc

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        """Return once ``count`` more answers have come."""
        goal = len(self.answers) + count
        wait_until(lambda: len(self.answers) >= goal or self._error, timeout=timeout)
        if self._error is not None:
            raise self._error

    def failures(self) -> list[Answer]:
        """The answers that were not ``200``."""
        return [answer for answer in self.answers if answer.status != 200]

    def greetings(self) -> list[str | None]:
        return [answer.greeting for answer in self.answers]


def wait_marked(server: LocalServer, count: int, timeout: float = 20.0) -> list[int]:
    """Wait until exactly ``count`` marked processes of the server's data dir are alive; their
    pids."""

    def settled() -> tuple[list[int]] | None:
        pids = processes_marked(server.data_dir)
        return (pids,) if len(pids) == count else None

    found: tuple[list[int]] = wait_until(settled, timeout=timeout)
    return found[0]
