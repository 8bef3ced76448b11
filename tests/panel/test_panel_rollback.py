"""The deployment card's version chooser against the real local server (widgets on a recording
comm, clicks delivered as the browser sends them): the versions listed, a move to another
version and back, the card and the header following; a version locked elsewhere showing up; a
move refused by the server, and one abandoned, each said in one line; how a move under way
stands, on the card and in the message area."""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from rollouttools import collection_name, deploy, event_types, lock_version, register
from workloadlab.notebook.panel import WorkloadPanel, open_panel
from workloadlab.notebook.session import Session

from harness import free_port, hello_spec
from paneltools import eventually, frontend_click, frontend_set, portal_held

pytestmark = pytest.mark.slow  # ~30 s of waiting: handed out first, so it does not end last

CRASH = [sys.executable, "-c", "import sys; sys.exit(4)"]


@dataclass
class Versioned:
    """A collection's version 1, deployed (its workload and deployment), and version 2."""

    name: str
    workload_id: str
    deployment_id: str
    v1: str
    v2: str
    api: httpx.Client

    def deployment(self) -> dict[str, Any]:
        body: dict[str, Any] = self.api.get(f"/console/deployments/{self.deployment_id}/").json()
        return body

    def greeting(self) -> str:
        answer = self.api.get(f"/endpoints/deployments/{self.deployment_id}/")
        text: str = answer.json()["greeting"]
        return text


@pytest.fixture
def versioned(api: httpx.Client) -> Iterator[Versioned]:
    """Version 1 deployed; version 2 locked after it."""
    name = collection_name()
    v1 = register(api, hello_spec(free_port(), "one"), name)["id"]
    workload_id, deployment_id = deploy(api, v1, name=name)
    v2 = lock_version(api, name, "two")
    yield Versioned(name, workload_id, deployment_id, v1, v2, api)
    api.delete(f"/console/deployments/{deployment_id}/")
    api.delete(f"/console/workloads/{workload_id}/")


def text_of(value: str) -> str:
    """An HTML widget's text, as the browser shows it."""
    shown = re.sub(r"<style>.*?</style>", "", value)
    return html.unescape(re.sub(r"<[^>]+>", "", shown)).strip()


def message(panel: WorkloadPanel) -> str:
    return text_of(str(panel.status.message.value))


def move_to(panel: WorkloadPanel, artifact_id: str) -> None:
    """Choose the version in the card and move the deployment there (asked, then confirmed)."""
    chooser = panel.card.versions
    eventually(lambda: artifact_id in [value for _, value in chooser.choice.options])
    frontend_set(chooser.choice, index=[v for _, v in chooser.choice.options].index(artifact_id))
    assert panel.state.move_target == artifact_id
    eventually(lambda: not chooser.move.disabled)
    frontend_click(chooser.move)
    assert chooser.asking.layout.display is None, "Move asks first"
    assert chooser.move.disabled
    frontend_click(chooser.confirm)


def test_the_card_moves_the_deployment_to_another_version_and_back(
    session: Session, versioned: Versioned
) -> None:
    panel = open_panel(session, versioned.workload_id)
    chooser = panel.card.versions
    eventually(lambda: len(chooser.choice.options) == 2)
    labels = [label for label, _ in chooser.choice.options]
    assert re.fullmatch(r"v2 · \d{4}-\d\d-\d\d \d\d:\d\d · sha256:[0-9a-f]{12}", labels[0])
    assert re.fullmatch(r"v1 · .+ · sha256:[0-9a-f]{12} · deployed here", labels[1])
    assert chooser.choice.value == versioned.v2, "the other version is offered"
    assert chooser.move.description == "Move deployment to v2…"
    assert not chooser.move.disabled
    assert chooser.note.value == ""

    frontend_click(chooser.move)
    assert "Move deployment" in chooser.question.value
    assert "from version 1 to version 2?" in chooser.question.value
    frontend_click(chooser.cancel)
    assert chooser.asking.layout.display == "none"
    assert versioned.deployment()["rollout"] is None, "a cancelled move sends nothing"

    move_to(panel, versioned.v2)
    eventually(lambda: "runs version 2 (was version 1)" in message(panel), timeout=30)
    assert message(panel).startswith(f"✓ Deployment {versioned.name!r} runs version 2")
    assert versioned.deployment()["artifactId"] == versioned.v2
    assert versioned.greeting() == "two"
    card = html.unescape(panel.deployment_card.value)
    assert re.search(r"version 1 → 2: done at [\d:]{8}", card), card
    assert "version 2" in card
    eventually(lambda: "registered v2" in panel.status.header.value, timeout=10)
    assert panel.state.artifact.id == versioned.v2, "the panel follows the workload's artifact"
    eventually(lambda: chooser.choice.value == versioned.v1)
    assert [label.endswith("deployed here") for label, _ in chooser.choice.options] == [
        True,
        False,
    ]

    move_to(panel, versioned.v1)  # back: to an older version
    eventually(lambda: "runs version 1 (was version 2)" in message(panel), timeout=30)
    assert versioned.deployment()["artifactId"] == versioned.v1
    assert versioned.greeting() == "one"
    eventually(lambda: "registered v1" in panel.status.header.value, timeout=10)
    assert panel.state.artifact.id == versioned.v1
    trail = event_types(versioned.api, f"/console/deployments/{versioned.deployment_id}/events")
    moves = [t for t in trail if t in ("deployment.rolloutStarted", "deployment.artifactChanged")]
    assert moves == ["deployment.rolloutStarted", "deployment.artifactChanged"] * 2
    assert trail.count("workload.rolledOut") == 2


def test_a_version_locked_elsewhere_shows_up_and_only_one_version_moves_nowhere(
    session: Session, api: httpx.Client
) -> None:
    name = collection_name()
    v1 = register(api, hello_spec(free_port(), "one"), name)["id"]
    workload_id, deployment_id = deploy(api, v1, name=name)
    try:
        panel = open_panel(session, workload_id)
        chooser = panel.card.versions
        eventually(lambda: len(chooser.choice.options) == 1)
        assert chooser.move.disabled
        why = (
            "nothing to move to: version 1 is the only registered version (lock a new version"
            " of the artifact first)"
        )
        assert chooser.move.tooltip == why
        assert why in html.unescape(chooser.note.value), "shown, not only a tooltip"

        v2 = lock_version(api, name, "two")  # in another cell
        eventually(lambda: len(chooser.choice.options) == 2, timeout=30)
        assert chooser.choice.value == v2
        assert not chooser.move.disabled
        assert chooser.note.value == ""
    finally:
        api.delete(f"/console/deployments/{deployment_id}/")
        api.delete(f"/console/workloads/{workload_id}/")


def test_an_abandoned_move_and_a_refused_one_are_said_in_one_line(
    session: Session, versioned: Versioned
) -> None:
    broken = lock_version(versioned.api, versioned.name, "broken", entrypoint=CRASH)
    slow = lock_version(versioned.api, versioned.name, "slow", env={"STARTUP_DELAY": "3"})
    slower = lock_version(versioned.api, versioned.name, "slower", env={"STARTUP_DELAY": "2"})
    panel = open_panel(session, versioned.workload_id)
    move_to(panel, broken)
    eventually(lambda: "Not moved:" in message(panel), timeout=60)
    text = message(panel)
    assert re.fullmatch(
        rf"✗ Not moved: the change of deployment {versioned.name!r} to version 3 was abandoned"
        r" \(.+\); it still runs version 1\.",
        text,
    ), text
    assert "\n" not in text
    assert "Traceback" not in text
    card = html.unescape(panel.deployment_card.value)
    assert re.search(r"version 1 → 3: abandoned at [\d:]{8}: .+; version 1 still serves", card)
    assert versioned.deployment()["artifactId"] == versioned.v1
    assert versioned.greeting() == "one"

    # A move confirmed while one started in a cell runs: the server refuses it, in one line.
    chooser = panel.card.versions
    assert len(chooser.choice.options) == 5
    frontend_set(chooser.choice, index=1)
    assert panel.state.move_target == slow
    frontend_click(chooser.move)
    with portal_held(session.portal):  # the panel hears nothing of the cell's change
        started = versioned.api.patch(
            f"/console/deployments/{versioned.deployment_id}", json={"artifactId": slow}
        )
        assert started.status_code == 200, started.text
        frontend_click(chooser.confirm)
    eventually(lambda: "failed:" in message(panel), timeout=30)
    text = message(panel)
    assert text.startswith(f"✗ Moving {versioned.name} to version 4 failed: "), text
    assert "(409 from PATCH /console/deployments/" in text, text
    assert "\n" not in text
    assert "Traceback" not in text

    # The cell's change shows on the card while it runs, and Move waits for its outcome.
    eventually(lambda: "is under way" in html.unescape(chooser.note.value), timeout=10)
    assert chooser.move.disabled
    assert chooser.move.tooltip == "a change to version 4 is under way: wait for its outcome"
    assert "version 1 → 4: in progress since" in html.unescape(panel.deployment_card.value)
    eventually(
        lambda: "version 1 → 4: done at" in html.unescape(panel.deployment_card.value), timeout=30
    )
    eventually(lambda: not chooser.move.disabled, timeout=10)
    assert chooser.choice.value == versioned.v1, "back to where it was, offered"
    assert versioned.greeting() == "slow"

    # The panel's own move, while it runs: the message area and the card say how it stands.
    move_to(panel, slower)
    eventually(lambda: "the new instance is getting ready" in message(panel), timeout=10)
    assert message(panel).startswith(f"Moving {versioned.name} to version 5: ")
    assert "version 4 → 5: in progress since" in text_of(panel.deployment_card.value)
    assert chooser.move.disabled
    assert panel.card.delete.disabled
    eventually(lambda: "runs version 5 (was version 4)" in message(panel), timeout=30)
    assert "version 4 → 5: done at" in text_of(panel.deployment_card.value)
    assert versioned.greeting() == "slower"


def test_the_panel_follows_moves_made_in_a_cell_back_to_an_older_version(
    session: Session, versioned: Versioned
) -> None:
    panel = open_panel(session, versioned.workload_id)
    api, path = versioned.api, f"/console/deployments/{versioned.deployment_id}"
    for target, version in ((versioned.v2, 2), (versioned.v1, 1)):  # as %workload rollback does
        assert api.patch(path, json={"artifactId": target}).status_code == 200
        eventually(lambda v=version: f"registered v{v}" in panel.status.header.value, timeout=20)
        assert panel.state.artifact.id == target, "the form shows what the workload runs"
        done = f"→ {version}: done at"
        eventually(lambda done=done: done in text_of(panel.deployment_card.value), timeout=20)
