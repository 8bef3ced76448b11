"""A real kernel, driven over the kernel protocol (no browser): status updates reach the
panel's widget state while another cell blocks, because the watcher runs on the portal and
widget updates are comm messages sent from that thread; and the deployment card's version
chooser, driven with the messages a browser sends, moves a deployment to a new version and
back."""

from __future__ import annotations

import html
import os
import queue
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from rollouttools import collection_name, deploy, lock_version, register

from harness import LocalServer, free_port, hello_spec
from paneltools import Example

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

SLEEP = 5.0


@pytest.fixture
def kernel(server: LocalServer, tmp_path: Path) -> Iterator[BlockingKernelClient]:
    """An ipykernel of this venv that talks to the module's server."""
    env = {
        **os.environ,
        "DATAROBOT_ENDPOINT": server.endpoint,
        "DATAROBOT_API_TOKEN": server.token,
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(tmp_path))
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run(client: BlockingKernelClient, code: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Execute a cell; return its IOPub messages up to the kernel going idle."""
    msg_id = client.execute(code)
    messages = []
    deadline = time.monotonic() + timeout
    while True:
        msg = client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        messages.append(msg)
        if (
            msg["msg_type"] == "status"
            and msg["parent_header"].get("msg_id") == msg_id
            and msg["content"]["execution_state"] == "idle"
        ):
            break
    reply = client.get_shell_msg(timeout=timeout)
    assert reply["content"]["status"] == "ok", reply["content"]
    return messages


def widget_states(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each widget model's state, as a frontend would have it after these messages."""
    models: dict[str, dict[str, Any]] = {}
    for msg in messages:
        content = msg["content"]
        if msg["msg_type"] == "comm_open":
            models[content["comm_id"]] = dict(content["data"]["state"])
        elif msg["msg_type"] == "comm_msg" and content["comm_id"] in models:
            models[content["comm_id"]].update(content["data"].get("state", {}))
    return models


def test_status_reaches_the_widget_while_a_cell_blocks(
    kernel: BlockingKernelClient, example: Example
) -> None:
    shown = run(kernel, f"import workloadlab\np = workloadlab.panel({example.id!r})\np")
    models = widget_states(shown)
    badge_id = next(cid for cid, s in models.items() if "wl-status" in s.get("_dom_classes", ()))
    assert ">running</span>" in models[badge_id]["value"]
    (result,) = [m for m in shown if m["msg_type"] == "execute_result"]
    assert result["content"]["data"]["text/plain"] == "<WorkloadPanel>"
    assert "application/vnd.jupyter.widget-view+json" in result["content"]["data"]

    sleeping = kernel.execute(f"import time\ntime.sleep({SLEEP})")
    while True:  # the cell has started
        msg = kernel.get_iopub_msg(timeout=30)
        if msg["msg_type"] == "execute_input":
            break
    cell_started = time.monotonic()
    example.api.post(f"/console/workloads/{example.id}/stop")
    stopped_at = time.monotonic()

    arrivals: dict[str, float] = {}
    idle_at = None
    while idle_at is None:
        try:
            msg = kernel.get_iopub_msg(timeout=30)
        except queue.Empty:
            pytest.fail("the sleeping cell never finished")
        now = time.monotonic()
        content = msg["content"]
        if msg["msg_type"] == "comm_msg" and content["comm_id"] == badge_id:
            value = content["data"]["state"].get("value", "")
            for word in ("stopping", "stopped"):
                if f">{word}</span>" in value:
                    arrivals.setdefault(word, now)
        elif (
            msg["msg_type"] == "status"
            and msg["parent_header"].get("msg_id") == sleeping
            and content["execution_state"] == "idle"
        ):
            idle_at = now
    assert idle_at - cell_started >= SLEEP - 0.2, "the cell really blocked"
    assert "stopped" in arrivals, "the badge showed the new status"
    assert arrivals["stopped"] < idle_at - 1.0, "it arrived while the cell was still running"
    assert arrivals["stopped"] - stopped_at < 3.0


class Frontend:
    """What a frontend of the kernel knows of its widgets (their states, from IOPub), and the
    messages it sends them (a choice, a click), as the widget manager in the browser does."""

    def __init__(self, client: BlockingKernelClient, messages: list[dict[str, Any]]) -> None:
        self.client = client
        self.models = widget_states(messages)

    def find(self, css_class: str) -> str:
        """The comm id of the widget with this CSS class."""
        (found,) = [cid for cid, s in self.models.items() if css_class in s.get("_dom_classes", ())]
        return found

    def state(self, css_class: str) -> dict[str, Any]:
        return self.models[self.find(css_class)]

    def send(self, css_class: str, data: dict[str, Any]) -> None:
        message = self.client.session.msg(
            "comm_msg", {"comm_id": self.find(css_class), "data": data}
        )
        self.client.shell_channel.send(message)

    def click(self, css_class: str) -> None:
        self.send(css_class, {"method": "custom", "content": {"event": "click"}})

    def choose(self, css_class: str, index: int) -> None:
        self.send(css_class, {"method": "update", "state": {"index": index}, "buffer_paths": []})
        self.models[self.find(css_class)]["index"] = index

    def wait(self, predicate: Callable[[Frontend], Any], timeout: float = 30.0) -> Any:
        """Take the kernel's widget updates until ``predicate`` holds."""
        deadline = time.monotonic() + timeout
        while not (result := predicate(self)):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"the widgets never showed it within {timeout} s")
            try:
                msg = self.client.get_iopub_msg(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            content = msg["content"]
            if msg["msg_type"] == "comm_open":
                self.models[content["comm_id"]] = dict(content["data"]["state"])
            elif msg["msg_type"] == "comm_msg" and content["comm_id"] in self.models:
                self.models[content["comm_id"]].update(content["data"].get("state", {}))
        return result

    def text(self, css_class: str) -> str:
        """An HTML widget's text, as the page shows it."""
        return html.unescape(re.sub(r"<[^>]+>", "", str(self.state(css_class)["value"])))


def move_through_the_card(frontend: Frontend, version: int, was: int) -> None:
    """Choose version ``version`` in the card, press Move, confirm; wait for the outcome."""
    labels = frontend.state(CHOOSER)["_options_labels"]
    frontend.choose(CHOOSER, [label.split(" ")[0] for label in labels].index(f"v{version}"))
    move = f"Move deployment to v{version}…"
    frontend.wait(lambda f: f.state(MOVE)["description"] == move and not f.state(MOVE)["disabled"])
    frontend.click(MOVE)
    asked = f"from version {was} to version {version}?"
    frontend.wait(lambda f: asked in f.text("wl-version-question"))
    frontend.click("wl-version-confirm")
    said = f"runs version {version} (was version {was})"
    frontend.wait(lambda f: said in f.text("wl-message"), timeout=60)


CHOOSER = "wl-version-choice"
MOVE = "wl-version-move"


def test_the_panel_moves_a_deployment_to_a_new_version_and_back(
    kernel: BlockingKernelClient, api: httpx.Client
) -> None:
    name = collection_name()
    v1 = register(api, hello_spec(free_port(), "one"), name)["id"]
    workload_id, deployment_id = deploy(api, v1, name=name)
    v2 = lock_version(api, name, "two")
    try:
        shown = run(kernel, f"import workloadlab\nworkloadlab.panel({workload_id!r})")
        frontend = Frontend(kernel, shown)
        frontend.wait(lambda f: len(f.state(CHOOSER).get("_options_labels", ())) == 2)
        first, second = frontend.state(CHOOSER)["_options_labels"]
        assert first.startswith("v2 · ")
        assert second.startswith("v1 · ")
        assert second.endswith(" · deployed here")

        for target, version, was, greeting in ((v2, 2, 1, "two"), (v1, 1, 2, "one")):
            move_through_the_card(frontend, version, was)
            assert f"version {was} → {version}: done at" in frontend.text("wl-deployment")
            deployment = api.get(f"/console/deployments/{deployment_id}/").json()
            assert (deployment["artifactId"], deployment["artifact"]["version"]) == (
                target,
                version,
            )
            answer = api.get(f"/endpoints/deployments/{deployment_id}/").json()
            assert answer["greeting"] == greeting
            header = f"registered v{version}"
            frontend.wait(lambda f, header=header: header in f.text("wl-header"))

        trail = api.get(f"/console/deployments/{deployment_id}/events", params={"limit": 100})
        events = list(reversed(trail.json()["data"]))
        moves = [
            (e["eventType"], e["details"]["fromVersion"], e["details"]["toVersion"])
            for e in events
            if e["eventType"] in ("deployment.rolloutStarted", "deployment.artifactChanged")
        ]
        assert moves == [
            ("deployment.rolloutStarted", 1, 2),
            ("deployment.artifactChanged", 1, 2),
            ("deployment.rolloutStarted", 2, 1),
            ("deployment.artifactChanged", 2, 1),
        ]
        changed = [e for e in events if e["eventType"] == "deployment.artifactChanged"]
        assert [e["details"]["rolling"] for e in changed] == [True, True]
        assert [e["eventType"] for e in events].count("workload.rolledOut") == 2
    finally:
        api.delete(f"/console/deployments/{deployment_id}/")
        api.delete(f"/console/workloads/{workload_id}/")
