"""Helpers of the panel tests: a recording comm, frontend stand-ins, the example workload,
a counting watch listener."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from comm.base_comm import BaseComm

from workloadlab.models import Deployment, Event, LogRecord
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.portal import Portal

from harness import wait_until


@dataclass(frozen=True)
class Sent:
    """One message a widget sent to the (absent) frontend."""

    at: float
    comm_id: str
    msg_type: str
    data: dict[str, Any]

    @property
    def state(self) -> dict[str, Any]:
        """The state it carries (an update's changed traits, or an open's full state)."""
        state: dict[str, Any] = self.data.get("state", {})
        return state


class RecordingComm(BaseComm):
    """A comm that records what widgets send, and lets a test deliver frontend messages."""

    def __init__(self, log: list[Sent], **kwargs: Any) -> None:
        self._log = log
        self._callback: Callable[[dict[str, Any]], None] | None = None
        kwargs.setdefault("comm_id", uuid.uuid4().hex)
        super().__init__(**kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        self._log.append(Sent(time.monotonic(), self.comm_id, msg_type, dict(data or {})))

    def on_msg(self, callback: Callable[[dict[str, Any]], None] | None) -> None:
        self._callback = callback

    def deliver(self, data: dict[str, Any]) -> None:
        """A message from the frontend (as ipykernel would hand it over)."""
        assert self._callback is not None
        self._callback({"content": {"data": data}, "buffers": []})


class Recorder:
    """Every message widgets sent since the fixture started."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def create_comm(self, **kwargs: Any) -> RecordingComm:
        return RecordingComm(self.sent, **kwargs)

    def updates(self, widget: Any, since: float = 0.0) -> list[Sent]:
        """The update messages one widget sent (after ``since``)."""
        return [
            sent
            for sent in list(self.sent)
            if sent.comm_id == widget.model_id
            and sent.msg_type == "comm_msg"
            and sent.data.get("method") == "update"
            and sent.at >= since
        ]


def frontend_set(widget: Any, **state: Any) -> None:
    """Change a widget's value as the browser does (a comm message, then the observers)."""
    widget.comm.deliver({"method": "update", "state": state, "buffer_paths": []})


def frontend_click(button: Any) -> None:
    """Click a button as the browser does."""
    button.comm.deliver({"method": "custom", "content": {"event": "click"}})


@contextlib.contextmanager
def portal_held(portal: Portal) -> Iterator[None]:
    """Keep the portal's thread busy for the block: nothing submitted to it runs meanwhile, and
    whatever waits for it (``Portal.run``) waits until the block ends."""
    held, release = threading.Event(), threading.Event()

    async def hold() -> None:
        held.set()
        release.wait(60)  # blocks the portal's loop on purpose

    portal.submit(hold())
    assert held.wait(10), "the portal did not take the holding task"
    try:
        yield
    finally:
        release.set()


def eventually(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Wait (bounded) until the panel's state says so."""
    return wait_until(predicate, timeout=timeout, interval=0.01)


@dataclass
class Example:
    """A running example workload."""

    id: str
    artifact_id: str
    api: httpx.Client

    def invoke(self) -> dict[str, Any]:
        """What the app answers on ``/``."""
        answer: dict[str, Any] = self.api.get(f"/endpoints/workloads/{self.id}/").json()
        return answer

    def artifact(self) -> dict[str, Any]:
        """The artifact as the server has it."""
        body: dict[str, Any] = self.api.get(f"/registry/artifacts/{self.artifact_id}").json()
        return body

    def get(self) -> dict[str, Any]:
        """The workload as the server has it."""
        body: dict[str, Any] = self.api.get(f"/console/workloads/{self.id}/").json()
        return body


class Counter:
    """A second listener on the panel's watcher: how much news there was."""

    def __init__(self) -> None:
        self.workloads = 0
        self.log_lines = 0

    def workload_changed(self, workload: Workload) -> None:
        self.workloads += 1

    def logs_added(self, records: Sequence[LogRecord]) -> None:
        self.log_lines += len(records)

    def events_changed(self, events: Sequence[Event]) -> None:
        pass

    def artifact_changed(self, artifact: Artifact) -> None:
        pass

    def connection_changed(self, problem: str | None) -> None:
        pass

    def workload_gone(self) -> None:
        pass

    def deployment_made(self, deployment: Deployment) -> None:
        pass
