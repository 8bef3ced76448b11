"""A real kernel, driven over the kernel protocol (no browser): status updates reach the
panel's widget state while another cell blocks, because the watcher runs on the portal and
widget updates are comm messages sent from that thread."""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from harness import LocalServer
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
