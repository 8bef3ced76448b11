"""Environment variables in DataRobot's three shapes: string, dr-credential, api-key."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from workloadlab.models import (
    ApiKeyEnvironmentVar,
    Artifact,
    Container,
    CredentialEnvironmentVar,
    EnvironmentVar,
    InputArtifact,
    UnresolvedVariableError,
    parse_response,
)
from workloadlab.models.diff import diff_artifacts

SECRET = "sk-live-TESTSECRET-0123456789abcdef"
CREDENTIAL_ID = "65f0c1d2e3f4a5b6c7d8e9f0"
REFERENCE = {
    "source": "dr-credential",
    "name": "GH_TOKEN",
    "drCredentialId": CREDENTIAL_ID,
    "key": "apiToken",
}


def artifact(*variables: dict[str, Any]) -> dict[str, Any]:
    container = {
        "name": "primary",
        "imageUri": "python:3.12-slim",
        "primary": True,
        "port": 8080,
        "environmentVars": list(variables),
    }
    return {"name": "a", "spec": {"containerGroups": [{"containers": [container]}]}}


def variables_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    spec: dict[str, Any] = body["spec"]
    return list(spec["containerGroups"][0]["containers"][0]["environmentVars"])


def variables_container(*variables: dict[str, Any]) -> dict[str, Any]:
    return {"imageUri": "x", "primary": True, "port": 8080, "environmentVars": list(variables)}


def problems(body: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        InputArtifact.model_validate(body)
    assert SECRET not in str(caught.value), "a validation error echoed a value"
    return [
        {"loc": list(e["loc"]), "msg": e["msg"]}
        for e in caught.value.errors(include_url=False, include_input=False)
    ]


def test_each_shape_parses_to_its_own_model() -> None:
    body = artifact(
        {"name": "PLAIN", "value": "v"},
        {"source": "string", "name": "EXPLICIT", "value": "w"},
        REFERENCE,
        {"source": "api-key"},
        {"source": "api-key", "name": "MY_TOKEN"},
    )
    parsed = InputArtifact.model_validate(body).spec.primary.environment_vars
    assert [type(v) for v in parsed] == [
        EnvironmentVar,
        EnvironmentVar,
        CredentialEnvironmentVar,
        ApiKeyEnvironmentVar,
        ApiKeyEnvironmentVar,
    ]
    assert [v.env_name for v in parsed] == [
        "PLAIN",
        "EXPLICIT",
        "GH_TOKEN",
        "DATAROBOT_API_TOKEN",
        "MY_TOKEN",
    ]


def test_every_shape_dumps_as_it_was_written() -> None:
    """What a server stores (``model_dump``) and a client sends back is what was written: a
    ``source`` or ``name`` left out stays out, nothing is added."""
    written = [
        {"name": "PLAIN", "value": "v"},
        {"source": "string", "name": "EXPLICIT", "value": "w"},
        REFERENCE,
        {"source": "api-key"},
        {"source": "api-key", "name": "MY_TOKEN"},
    ]
    model = InputArtifact.model_validate(artifact(*written))
    stored = model.model_dump(mode="json", by_alias=True)
    assert variables_of(stored) == written
    assert variables_of(model.to_wire()) == written


def test_a_credential_reference_round_trips_through_a_response_unchanged() -> None:
    """GET (a tolerant read, as the client does) then PUT (``to_input``) sends the reference
    verbatim."""
    body = artifact(REFERENCE, {"source": "api-key"})
    response = {**body, "id": "a" * 24, "status": "draft", "extraField": 1}
    read = parse_response(Artifact, response)
    sent = read.to_input().to_wire()
    assert variables_of(sent) == [REFERENCE, {"source": "api-key"}]


def test_problems_are_reported_at_the_variables_own_fields() -> None:
    env = ["spec", "containerGroups", 0, "containers", 0, "environmentVars"]
    assert problems(artifact({"name": "1BAD", "value": SECRET})) == [
        {"loc": [*env, 0, "name"], "msg": "String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'"}
    ]
    assert problems(artifact({**REFERENCE, "value": SECRET})) == [
        {"loc": [*env, 0, "value"], "msg": "Extra inputs are not permitted"}
    ]
    assert problems(artifact({"source": "dr-credential", "name": "X"})) == [
        {"loc": [*env, 0, "drCredentialId"], "msg": "Field required"},
        {"loc": [*env, 0, "key"], "msg": "Field required"},
    ]
    assert problems(artifact({"source": "api-key", "value": SECRET})) == [
        {"loc": [*env, 0, "value"], "msg": "Extra inputs are not permitted"}
    ]
    assert problems(artifact({"source": "vault", "name": "X", "value": SECRET})) == [
        {
            "loc": [*env, 0],
            "msg": "Value error, source must be one of 'string', 'dr-credential', 'api-key'",
        }
    ]
    assert problems(artifact({"name": "X", "value": SECRET + "\0"}))[0]["loc"] == [
        *env,
        0,
        "value",
    ]


def test_names_are_unique_across_the_three_shapes() -> None:
    env = ["spec", "containerGroups", 0, "containers", 0, "environmentVars"]
    twice = artifact({"source": "api-key"}, {"name": "DATAROBOT_API_TOKEN", "value": SECRET})
    assert problems(twice) == [
        {
            "loc": env,
            "msg": "Value error, environment variable 'DATAROBOT_API_TOKEN' is defined twice",
        }
    ]
    assert problems(artifact(REFERENCE, {"name": "GH_TOKEN", "value": "x"}))[0]["msg"].endswith(
        "'GH_TOKEN' is defined twice"
    )


def test_env_gives_plain_values_and_refuses_references() -> None:
    plain = Container.model_validate(variables_container({"name": "A", "value": "1"}))
    assert plain.env() == {"A": "1"}
    with pytest.raises(UnresolvedVariableError, match="'GH_TOKEN' is a dr-credential reference"):
        Container.model_validate(variables_container(REFERENCE)).env()


def test_values_stay_out_of_reprs() -> None:
    container = Container.model_validate(variables_container({"name": "KEY", "value": SECRET}))
    assert SECRET not in repr(container)
    assert SECRET not in str(container)


def test_diff_tells_a_value_from_a_reference_and_ignores_an_explicit_string_source() -> None:
    old = artifact({"name": "GH_TOKEN", "value": SECRET}, {"name": "MODE", "value": "a"})
    new = artifact(REFERENCE, {"source": "string", "name": "MODE", "value": "a"})
    prefix = "spec.containerGroups[0].containers[0].environmentVars"
    changes = {(c.path, c.kind) for c in diff_artifacts(old, new)}
    assert changes == {
        (f"{prefix}[GH_TOKEN].value", "removed"),
        (f"{prefix}[GH_TOKEN].source", "added"),
        (f"{prefix}[GH_TOKEN].drCredentialId", "added"),
        (f"{prefix}[GH_TOKEN].key", "added"),
    }
    other_key = copy.deepcopy(new)
    variables_of(other_key)[0]["key"] = "token"
    assert [c.path for c in diff_artifacts(new, other_key)] == [f"{prefix}[GH_TOKEN].key"]
    plain = {"name": "MODE", "value": "a"}
    api_key = artifact(plain, {"source": "api-key"})
    assert [c.path for c in diff_artifacts(artifact(plain), api_key)] == [
        f"{prefix}[DATAROBOT_API_TOKEN].source"
    ]
