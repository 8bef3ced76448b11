"""The deployment card's version chooser, decided on plain data: the versions it lists and in
what words, the version it offers, whether Move is on and why, what the card says of a change
of version, the outcome's words; and the news that go with a move (a read of the deployment
from before the change ended, an artifact the workload switched to, the events that say the
deployment changed)."""

from __future__ import annotations

from typing import Any

import pytest
from test_panel_decisions import deployment, registered, state
from test_panel_state import at, workload

from workloadlab.client import ArtifactVersion
from workloadlab.models import ArtifactRef, Deployment, Rollout
from workloadlab.models.neutral import Artifact
from workloadlab.notebook.panel import decisions, versions
from workloadlab.notebook.panel.state import PanelState

DIGEST = "sha256:" + "9b1c2d3e4f5a" + "0" * 52


def version(number: int, **fields: Any) -> ArtifactVersion:
    """Registered version ``number`` of the collection (artifact id ``a<number>…``)."""
    made = registered().model_copy(
        update={
            "id": f"a{number}".ljust(24, "0"),
            "version": number,
            "created_at": at(number * 60),
            "spec_digest": DIGEST,
            **fields,
        }
    )
    return ArtifactVersion(made)


def rollout(
    status: str, from_: int = 1, to: int = 2, message: str | None = None, **fields: Any
) -> Rollout:
    return Rollout.model_validate(
        {
            "id": fields.pop("id", "r" * 24),
            "status": status,
            "fromArtifactId": version(from_).id,
            "toArtifactId": version(to).id,
            "fromVersion": from_,
            "toVersion": to,
            "message": message,
            "startedAt": fields.pop("started", at(100)),
            "finishedAt": None if status == "inProgress" else at(103),
        }
    )


def deployed(runs: int = 1, change: Rollout | None = None, **fields: Any) -> Deployment:
    """The card's deployment, running version ``runs``."""
    ref = ArtifactRef(id=version(runs).id, version=runs)
    return deployment().model_copy(
        update={"artifact_id": ref.id, "artifact": ref, "rollout": change, **fields}
    )


def card(runs: int = 1, listed: tuple[int, ...] = (3, 2, 1), **fields: Any) -> PanelState:
    """A panel whose card shows a deployment of version ``runs``, the versions ``listed`` read."""
    fields.setdefault("deployment", deployed(runs))
    fields.setdefault("versions", [version(n) for n in listed])
    return state(artifact=registered(), **fields)


def move(made: PanelState) -> versions.MoveControls:
    return versions.move_controls(made)


# -- what the chooser lists and offers ---------------------------------------------------------


def test_versions_are_labelled_with_created_short_digest_and_which_runs() -> None:
    made = card(runs=2)
    local = at(180).astimezone().strftime("%Y-%m-%d %H:%M")
    assert versions.version_choices(made) == [
        (f"v3 · {local} · sha256:9b1c2d3e4f5a", version(3).id),
        (
            f"v2 · {at(120).astimezone().strftime('%Y-%m-%d %H:%M')} · sha256:9b1c2d3e4f5a"
            " · deployed here",
            version(2).id,
        ),
        (
            f"v1 · {at(60).astimezone().strftime('%Y-%m-%d %H:%M')} · sha256:9b1c2d3e4f5a",
            version(1).id,
        ),
    ]
    assert versions.version_choices(state()) == []
    assert versions.deployed_version(made) == 2
    unlisted = card(runs=2, listed=())
    assert versions.deployed_version(unlisted) == 2, "the deployment's own summary says so"


def test_the_version_offered_first() -> None:
    listed = [version(n) for n in (3, 2, 1)]
    offered = versions.default_target
    assert offered(listed, deployed(1), None) == version(3).id, "the highest other version"
    assert offered(listed, deployed(3), None) == version(2).id
    assert offered(listed, deployed(1), version(2).id) == version(2).id, "the user's choice"
    assert offered(listed, deployed(2), version(2).id) == version(3).id, "runs it now: another"
    back = deployed(3, rollout("completed", from_=1, to=3))
    assert offered(listed, back, None) == version(1).id, "what %workload rollback goes back to"
    abandoned = deployed(1, rollout("abandoned", from_=1, to=3))
    assert offered(listed, abandoned, None) == version(3).id
    assert offered([version(1)], deployed(1), None) == version(1).id, "only the deployed one"
    assert offered([], deployed(1), None) is None
    assert offered(listed, None, None) == version(3).id


# -- Move: on or off, and why ------------------------------------------------------------------


def test_move_is_on_for_another_version_and_asks_first() -> None:
    made = card(runs=1, move_target=version(2).id)
    controls = move(made)
    assert controls.move.enabled
    assert controls.move.description == "Move deployment to v2…"
    assert controls.move.tooltip.startswith("Move the deployment to version 2 as a rolling change")
    assert (controls.asking, controls.note) == (False, "")
    made.confirm_move = True
    asking = move(made)
    assert (asking.move.enabled, asking.asking, asking.note) == (False, True, "")
    assert asking.move.tooltip == "confirm or cancel below"
    assert versions.move_question(deployed(1), 1, 2) == (
        "Move deployment hello-prod from version 1 to version 2? A new instance starts beside the"
        " one serving; the endpoint switches to it once it is ready."
    )


OFF = [
    (
        {"deployment_deleted": True, "move_target": "a2".ljust(24, "0")},
        "the deployment was deleted",
    ),
    (
        {
            "deployment": deployed(1, rollout("inProgress", 1, 3)),
            "move_target": "a2".ljust(24, "0"),
        },
        "a change to version 3 is under way: wait for its outcome",
    ),
    (
        {"busy": "Moving hello-prod to version 2", "move_target": "a2".ljust(24, "0")},
        "Moving hello-prod to version 2…",
    ),
    (
        {"workload": workload("stopping"), "move_target": "a2".ljust(24, "0")},
        "wait: the workload is stopping",
    ),
    ({"gone": True}, "the workload was deleted"),
    ({"versions": None}, "reading the versions…"),
    (
        {"versions": None, "versions_problem": "boom (500 from GET /registry/artifacts/)"},
        "the versions could not be read: boom (500 from GET /registry/artifacts/)",
    ),
    (
        {"versions": [version(1)]},
        "nothing to move to: version 1 is the only registered version (lock a new version of the"
        " artifact first)",
    ),
    ({"move_target": "a1".ljust(24, "0")}, "the deployment runs version 1: choose another version"),
    ({"move_target": None}, "the deployment runs version 1: choose another version"),
    (
        {"deployment": deployed(1, artifact_id=None), "move_target": "a2".ljust(24, "0")},
        "the server names no artifact for the deployment",
    ),
]


@pytest.mark.parametrize(("fields", "why"), OFF, ids=[why[:30] for _, why in OFF])
def test_move_is_off_with_its_reason_shown(fields: dict[str, Any], why: str) -> None:
    controls = move(card(runs=1, **fields))
    assert not controls.move.enabled
    assert controls.move.tooltip == why
    assert controls.note == why, "the reason is shown, not only a tooltip"
    assert not controls.asking


def test_an_under_way_change_is_shown_before_the_panel_s_own_busy_label() -> None:
    busy = card(
        runs=1,
        busy="Moving hello-prod to version 2",
        deployment=deployed(1, rollout("inProgress", 1, 2)),
        move_target=version(2).id,
    )
    assert move(busy).note == "a change to version 2 is under way: wait for its outcome"
    assert move(busy).move.description == "Move deployment to v2…"
    assert move(card(runs=2, move_target=version(2).id)).move.description == "Move deployment…"


# -- the card's line and the outcome -----------------------------------------------------------


def test_the_card_s_line_about_a_change_of_version() -> None:
    def clock(seconds: float) -> str:
        return at(seconds).astimezone().strftime("%H:%M:%S")

    assert versions.rollout_text(rollout("inProgress")) == (
        f"version 1 → 2: in progress since {clock(100)}"
    )
    assert versions.rollout_text(rollout("completed")) == f"version 1 → 2: done at {clock(103)}"
    assert versions.rollout_text(rollout("abandoned", message="not ready within 5m")) == (
        f"version 1 → 2: abandoned at {clock(103)}: not ready within 5m; version 1 still serves"
    )
    assert versions.rollout_progress(rollout("inProgress")) == "the new instance is getting ready"
    assert versions.moving_label(deployed(1), 2) == "Moving hello-prod to version 2"


def test_the_outcome_s_words() -> None:
    done = versions.moved_message(deployed(1), rollout("completed"), "1.50 s")
    assert (done.level, done.text) == (
        "success",
        "Deployment 'hello-prod' runs version 2 (was version 1) after 1.50 s.",
    )
    why = "the new instance exited (code 4)"
    abandoned = versions.moved_message(deployed(1), rollout("abandoned", message=why), "2.00 s")
    assert (abandoned.level, abandoned.text) == (
        "error",
        "Not moved: the change of deployment 'hello-prod' to version 2 was abandoned (the new"
        " instance exited (code 4)); it still runs version 1.",
    )


def test_versions_are_read_for_the_artifact_deployed_and_again_after_a_while() -> None:
    due = versions.versions_due
    assert not due(state(), 100.0, 10.0), "no deployment: nothing to read"
    fresh = card(runs=1, versions_for=version(1).id, versions_read_at=95.0)
    assert not due(fresh, 100.0, 10.0)
    assert due(fresh, 105.0, 10.0), "a version locked elsewhere shows up"
    moved = card(runs=2, versions_for=version(1).id, versions_read_at=99.0)
    assert due(moved, 100.0, 10.0), "the deployment runs another artifact"
    gone = card(runs=1, versions_for=None, deployment_deleted=True)
    assert not due(gone, 100.0, 10.0)


# -- the news that go with a move --------------------------------------------------------------


def test_a_read_from_before_the_change_ended_does_not_undo_it() -> None:
    over = deployed(2, rollout("completed"))
    before = deployed(1, rollout("inProgress"))
    older = decisions.older_read
    assert older(over, before), "the change was over: a read saying in progress is older"
    assert older(over, deployed(1)), "a change never disappears"
    assert not older(before, over)
    assert not older(deployed(1), before), "the first change"
    earlier = deployed(1, rollout("completed", 2, 1, id="q" * 24, started=at(50)))
    later = deployed(1, rollout("inProgress", 1, 3, id="s" * 24, started=at(200)))
    assert older(later, earlier)
    assert not older(earlier, later), "a new change"
    assert not older(over, deployment("other", id="e" * 24)), "another deployment"
    view = decisions.deployment_news(state(deployment=over), before)
    assert view == decisions.DeploymentView(over, False)


def test_an_artifact_the_workload_switched_to_is_taken_even_when_older() -> None:
    news = decisions.artifact_news
    known = registered().model_copy(update={"version": 2, "updated_at": at(200)})
    older = version(1).artifact.model_copy(update={"updated_at": at(10)})
    assert isinstance(older, Artifact)
    assert news(state(artifact=known), older, newer=False, edited=False) == "switched"
    assert news(state(artifact=known, busy="Moving"), older, newer=False, edited=False) == "later"
    assert "switched" not in decisions.NEWS_MESSAGES, "the card and the header say it"
    same = known.model_copy(update={"updated_at": at(100)})
    assert news(state(artifact=known), same, newer=False, edited=False) == "ignore"


def test_events_that_say_the_deployment_changed() -> None:
    tells = decisions.tells_of_deployment
    for kind in (
        "deployment.created",
        "deployment.deleted",
        "deployment.rolloutStarted",
        "deployment.artifactChanged",
        "workload.rolledOut",
        "workload.rolloutAbandoned",
    ):
        assert tells(kind), kind
    for kind in ("workload.statusChanged", "artifact.updated", "workload.restarted"):
        assert not tells(kind), kind
