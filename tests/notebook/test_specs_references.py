"""``%workload spec`` YAML and ``%%artifact`` reading keep references as they are."""

from __future__ import annotations

from workloadlab.commands import render
from workloadlab.commands.specs import parse_text, to_input_artifact, to_yaml
from workloadlab.models.neutral import Artifact, InputArtifact

VARIABLES = [
    {"name": "MODE", "value": "test"},
    {"source": "dr-credential", "name": "GH_TOKEN", "drCredentialId": "a" * 24, "key": "apiToken"},
    {"source": "api-key"},
]


def artifact() -> InputArtifact:
    container = {"imageUri": "x", "primary": True, "port": 8080, "environmentVars": VARIABLES}
    return InputArtifact.model_validate(
        {"name": "a", "spec": {"containerGroups": [{"containers": [container]}]}}
    )


def test_references_survive_the_yaml_round_trip() -> None:
    text = to_yaml(artifact())
    assert "drCredentialId: " + "a" * 24 in text
    read = to_input_artifact(parse_text(text))
    assert read.spec == artifact().spec
    container = read.to_wire()["spec"]["containerGroups"][0]["containers"][0]
    assert container["environmentVars"] == VARIABLES


def test_the_artifact_card_says_where_values_come_from() -> None:
    stored = Artifact.model_validate({**artifact().to_wire(), "id": "b" * 24, "status": "draft"})
    card = render.artifact_text(stored)
    assert "MODE, GH_TOKEN (credential), DATAROBOT_API_TOKEN (API key)" in card
