"""The spec form without a server: loading, parsing, validation messages beside the fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from workloadlab.models.neutral import Artifact
from workloadlab.notebook.panel.fields import (
    FieldProblem,
    format_memory,
    parse_cpu,
    parse_entrypoint,
    parse_memory,
)
from workloadlab.notebook.panel.form import SpecForm

from harness import hello_spec
from paneltools import Recorder, frontend_set


def artifact(port: int = 8080, **container: Any) -> Artifact:
    """A draft artifact of the example app, as the server would send it."""
    body = hello_spec(port, "hi", env={"MODE": "test"}, **container)
    now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    return Artifact.model_validate(
        {**body, "id": "a" * 24, "status": "draft", "createdAt": now, "updatedAt": now}
    )


class Form:
    """A form with a change counter."""

    def __init__(self, loaded: Artifact) -> None:
        self.changes = 0
        self.form = SpecForm(self._changed)
        self.form.load(loaded)
        self.primary = self.form.containers[0]

    def _changed(self) -> None:
        self.changes += 1

    def problems(self) -> dict[str, str]:
        reading = self.form.read()
        self.form.show(reading)
        return reading.problems


def test_load_shows_the_spec() -> None:
    form = Form(artifact(resourceRequest={"cpu": 0.5, "memory": 512 * 1024**2}))
    primary = form.primary
    assert form.changes == 0, "loading is not an edit"
    assert primary.image.value == "python:3.12-slim"
    assert primary.port.value == "8080"
    assert primary.entrypoint.value.endswith("-m workloadlab.examples.hello")
    assert [(r.name.value, r.value.value) for r in primary.env.rows] == [
        ("GREETING", "hi"),
        ("MODE", "test"),
    ]
    readiness, liveness, _ = primary.probes
    assert readiness.enabled.value
    assert readiness.path.value == "/readyz"
    assert readiness.numbers["periodSeconds"].value == "1"
    assert not liveness.enabled.value
    assert liveness.path.disabled
    assert (primary.resources.cpu.value, primary.resources.memory.value) == ("0.5", "512Mi")
    reading = form.form.read()
    assert reading.valid, reading.problems
    assert (
        reading.artifact
        == artifact(resourceRequest={"cpu": 0.5, "memory": 512 * 1024**2}).to_input()
    )


def test_css_classes_are_on_the_inputs() -> None:
    primary = Form(artifact()).primary
    assert "wl-field-image" in primary.image.input._dom_classes
    assert "wl-field-port" in primary.port.input._dom_classes
    row = primary.env.rows[0]
    assert "wl-env-row" in row.box._dom_classes
    assert "wl-env-name" in row.name._dom_classes
    assert "wl-env-value" in row.value._dom_classes
    assert "wl-env-add" in primary.env.add._dom_classes
    assert all(w.continuous_update is False for w in (primary.image.input, row.name, row.value))


def test_a_wrong_port_gets_a_message_beside_it_until_fixed() -> None:
    form = Form(artifact())
    port = form.primary.port
    frontend_set(port.input, value="80a")
    assert form.changes == 1
    assert form.problems() == {"c0.port": "'80a' is not a port number"}
    assert "is not a port number" in port.message.value
    frontend_set(port.input, value="80")
    problems = form.problems()
    assert list(problems) == ["c0.port"]
    assert "greater than or equal to 1024" in problems["c0.port"]
    frontend_set(port.input, value="")
    assert form.problems() == {"c0.port": "the primary container needs a port"}
    frontend_set(port.input, value="9090")
    assert form.problems() == {}
    assert port.message.value == ""
    reading = form.form.read()
    assert reading.artifact is not None
    assert reading.artifact.spec.primary.port == 9090


def test_environment_rows_are_validated_by_the_models() -> None:
    form = Form(artifact())
    env = form.primary.env
    frontend_set(env.rows[1].name, value="1BAD")
    problems = form.problems()
    assert list(problems) == ["c0.env.1"]
    assert "should match pattern" in problems["c0.env.1"]
    assert "should match pattern" in env.rows[1].message.value
    assert env.rows[0].message.value == ""
    frontend_set(env.rows[1].name, value="GREETING")
    assert form.problems() == {"c0.env": "environment variable 'GREETING' is defined twice"}
    assert "defined twice" in env.message.value


def test_rows_can_be_added_and_removed_and_blank_rows_are_ignored() -> None:
    form = Form(artifact())
    env = form.primary.env
    env.add.click()
    assert len(env.rows) == 3
    assert form.changes == 1
    assert form.problems() == {}, "a blank new row is not an error"
    frontend_set(env.rows[2].name, value="EXTRA")
    frontend_set(env.rows[2].value, value="1")
    env.rows[0].remove.click()
    assert len(env.rows) == 2
    reading = form.form.read()
    assert reading.artifact is not None
    assert reading.artifact.spec.primary.env() == {"MODE": "test", "EXTRA": "1"}


def test_probe_and_resource_problems_are_shown_per_block() -> None:
    form = Form(artifact())
    readiness, liveness, _ = form.primary.probes
    frontend_set(readiness.path, value="readyz")
    frontend_set(liveness.enabled, value=True)
    assert not liveness.path.disabled, "checking a probe enables its fields"
    frontend_set(liveness.path, value="/healthz")
    frontend_set(liveness.numbers["failureThreshold"], value="0")
    frontend_set(form.primary.resources.memory, value="lots")
    problems = form.problems()
    assert problems["c0.readinessProbe"].startswith("path: String should match pattern")
    assert problems["c0.livenessProbe"].startswith("failureThreshold: Input should be greater")
    assert problems["c0.resources"] == ("memory: 'lots' is not a size (e.g. 512Mi, 1Gi or bytes)")
    assert "⚠" in readiness.message.value
    assert "⚠" in form.primary.resources.message.value


def test_fields_the_form_does_not_show_are_kept() -> None:
    probe = {"path": "/readyz", "httpHeaders": {"X-Probe": "1"}, "host": "localhost"}
    form = Form(artifact(readinessProbe=probe))
    frontend_set(form.primary.probes[0].path, value="/ready2")
    reading = form.form.read()
    assert reading.artifact is not None
    kept = reading.artifact.spec.primary.readiness_probe
    assert kept is not None
    assert kept.path == "/ready2"
    assert (kept.http_headers, kept.host) == ({"X-Probe": "1"}, "localhost")


def test_rebase_keeps_what_is_typed() -> None:
    form = Form(artifact())
    frontend_set(form.primary.image.input, value="python:3.13-slim")
    newer = artifact(8081)
    form.form.rebase(newer)
    assert form.primary.image.value == "python:3.13-slim"
    assert form.primary.port.value == "8080", "a rebase changes the base, not the fields"


def test_read_only_disables_every_input() -> None:
    form = Form(artifact())
    form.form.set_disabled(True)
    primary = form.primary
    assert primary.image.input.disabled
    assert primary.port.input.disabled
    assert all(row.name.disabled and row.value.disabled for row in primary.env.rows)
    assert primary.env.add.disabled
    assert all(p.enabled.disabled and p.path.disabled for p in primary.probes)


def test_several_containers_primary_first() -> None:
    body = hello_spec(8080)
    sidecar = {"name": "sidecar", "imageUri": "busybox", "primary": False}
    body["spec"]["containerGroups"][0]["containers"].insert(0, sidecar)
    loaded = Artifact.model_validate({**body, "id": "b" * 24, "status": "draft"})
    form = Form(loaded)
    assert [c.primary for c in form.form.containers] == [True, False]
    assert [c.index for c in form.form.containers] == [1, 0]
    frontend_set(form.form.containers[1].image.input, value="")
    assert list(form.problems()) == ["c0.imageUri"]
    assert "at least 1 character" in form.form.containers[1].image.message.value


def test_form_messages_do_not_leak_values(recorder: Recorder) -> None:
    form = Form(artifact())
    assert repr(form.form) == "<workloadlab SpecForm>"
    assert "hi" not in repr(form.primary)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("536870912", 536870912),
        ("512Mi", 512 * 1024**2),
        ("1Gi", 1024**3),
        ("500M", 500 * 10**6),
        ("1.5Gi", int(1.5 * 1024**3)),
        ("", None),
    ],
)
def test_parse_memory(text: str, expected: int | None) -> None:
    assert parse_memory(text) == expected


def test_parsers() -> None:
    assert parse_cpu("500m") == 0.5
    assert parse_cpu("2") == 2.0
    assert format_memory(3 * 1024**3) == "3Gi"
    assert format_memory(1000) == "1000"
    assert parse_entrypoint("python -m 'my app'") == ["python", "-m", "my app"]
    assert parse_entrypoint("  ") is None
    with pytest.raises(FieldProblem, match="cannot split"):
        parse_entrypoint("python 'unclosed")
    with pytest.raises(FieldProblem, match="not a size"):
        parse_memory("12 apples")


def test_references_are_shown_read_only_and_written_back_as_they_were() -> None:
    """A credential's or the API key's variable shows what it refers to (never a value), its
    value field cannot be edited, and saving the form sends the reference unchanged."""
    reference = {
        "source": "dr-credential",
        "name": "GH_TOKEN",
        "drCredentialId": "65f0c1d2e3f4a5b6c7d8e9f0",
        "key": "apiToken",
    }
    loaded = artifact()
    form = Form(loaded)
    with_references = hello_spec(8080, "hi", env={"MODE": "test"})
    container = with_references["spec"]["containerGroups"][0]["containers"][0]
    container["environmentVars"] = [reference, {"source": "api-key"}, *container["environmentVars"]]
    form.form.load(Artifact.model_validate({**with_references, "id": "a" * 24, "status": "draft"}))
    rows = form.primary.env.rows
    assert form.changes == 0
    assert [(r.name.value, r.value.value, r.value.disabled) for r in rows[:2]] == [
        ("GH_TOKEN", "credential 65f0c1d2e3f4a5b6c7d8e9f0, key apiToken", True),
        ("", "api-key (set by the server at each start)", True),
    ]
    reading = form.form.read()
    assert reading.artifact is not None
    sent = reading.artifact.to_wire()["spec"]["containerGroups"][0]["containers"][0]
    assert sent["environmentVars"][:2] == [reference, {"source": "api-key"}]
    frontend_set(rows[0].name, value="GITHUB_TOKEN")
    renamed = form.form.read().wire["spec"]["containerGroups"][0]["containers"][0]
    assert renamed["environmentVars"][0] == {**reference, "name": "GITHUB_TOKEN"}
    form.form.load(loaded)  # the rows are reused for plain variables: editable again
    assert [(r.name.value, r.value.value, r.value.disabled) for r in form.primary.env.rows] == [
        ("GREETING", "hi", False),
        ("MODE", "test", False),
    ]
