"""The three-way merge of artifacts that the panel's Compare uses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from workloadlab.models import InputArtifact
from workloadlab.models.merge import Conflict, merge_artifacts


def _artifact(**primary: Any) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "primary",
        "imageUri": "python:3.12-slim",
        "primary": True,
        "port": 8080,
        "entrypoint": ["python", "-m", "app"],
        "environmentVars": [
            {"name": "GREETING", "value": "hello"},
            {"name": "MODEL", "value": "small"},
        ],
        "readinessProbe": {"path": "/readyz", "periodSeconds": 1},
    }
    container.update(primary)
    return {
        "name": "greeter",
        "description": "first words",
        "type": "generic",
        "spec": {"containerGroups": [{"containers": [container]}]},
    }


def _primary(data: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = data["spec"]["containerGroups"][0]["containers"][0]
    return container


def _env(data: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v["value"] for v in _primary(data)["environmentVars"]}


def test_their_description_and_probe_removal_meet_my_greeting() -> None:
    """Someone else changed the description and removed the readiness probe while I edited
    GREETING: the merge takes both of theirs, keeps mine, and has nothing to settle."""
    base = _artifact()
    theirs = copy.deepcopy(base)
    theirs["description"] = "changed in another cell"
    del _primary(theirs)["readinessProbe"]
    mine = copy.deepcopy(base)
    _primary(mine)["environmentVars"][0]["value"] = "hi"

    result = merge_artifacts(base, theirs, mine)

    merged = result.resolved({})
    assert merged["description"] == "changed in another cell"
    assert "readinessProbe" not in _primary(merged)
    assert _env(merged) == {"GREETING": "hi", "MODEL": "small"}
    assert merged["name"] == "greeter"
    assert _primary(merged)["entrypoint"] == ["python", "-m", "app"]
    assert result.conflicts == []
    assert "description" in result.theirs
    assert any("readinessProbe" in path for path in result.theirs)
    assert result.mine == ["spec.containerGroups[0].containers[primary].environmentVars"]
    InputArtifact.model_validate(merged)


def test_a_field_both_changed_is_a_conflict_until_chosen() -> None:
    base = _artifact()
    theirs, mine = copy.deepcopy(base), copy.deepcopy(base)
    _primary(theirs)["environmentVars"][0]["value"] = "bonjour"
    _primary(mine)["environmentVars"][0]["value"] = "hi"
    _primary(mine)["port"] = 9090

    result = merge_artifacts(base, theirs, mine)

    path = "spec.containerGroups[0].containers[primary].environmentVars[GREETING].value"
    assert result.conflicts == [Conflict(path, base="hello", mine="hi", theirs="bonjour")]
    with pytest.raises(ValueError, match="GREETING"):
        result.resolved({})
    assert _env(result.resolved({path: "theirs"}))["GREETING"] == "bonjour"
    chosen = result.resolved({path: "mine"})
    assert _env(chosen)["GREETING"] == "hi"
    assert _primary(chosen)["port"] == 9090
    assert _env(result.merged)["GREETING"] == "bonjour"  # resolved() copies


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    base = _artifact()
    theirs, mine = copy.deepcopy(base), copy.deepcopy(base)
    for side in (theirs, mine):
        side["description"] = "same words"
    result = merge_artifacts(base, theirs, mine)
    assert result.conflicts == []
    assert result.resolved({})["description"] == "same words"


def test_environment_variables_match_by_name_whatever_their_order() -> None:
    base = _artifact()
    theirs, mine = copy.deepcopy(base), copy.deepcopy(base)
    _primary(theirs)["environmentVars"].reverse()
    _primary(theirs)["environmentVars"].append({"name": "ADDED", "value": "by them"})
    _primary(mine)["environmentVars"] = [{"name": "GREETING", "value": "hello"}]  # MODEL gone

    merged = merge_artifacts(base, theirs, mine).resolved({})

    assert _env(merged) == {"GREETING": "hello", "ADDED": "by them"}


def test_removed_by_me_and_changed_by_them_is_a_conflict() -> None:
    base = _artifact()
    theirs, mine = copy.deepcopy(base), copy.deepcopy(base)
    _primary(theirs)["environmentVars"][1]["value"] = "large"
    del _primary(mine)["environmentVars"][1]

    result = merge_artifacts(base, theirs, mine)

    (conflict,) = result.conflicts
    assert conflict.path.endswith("environmentVars[MODEL]")
    assert conflict.mine is None
    assert conflict.theirs == {"name": "MODEL", "value": "large"}
    assert "MODEL" not in _env(result.resolved({conflict.path: "mine"}))
    assert _env(result.resolved({conflict.path: "theirs"}))["MODEL"] == "large"


def test_an_entrypoint_is_one_value_and_numbers_compare_as_numbers() -> None:
    base = _artifact()
    theirs, mine = copy.deepcopy(base), copy.deepcopy(base)
    _primary(theirs)["entrypoint"] = ["python", "-m", "app", "--fast"]
    _primary(theirs)["readinessProbe"]["periodSeconds"] = 1.0
    _primary(mine)["entrypoint"] = ["python", "app.py"]

    result = merge_artifacts(base, theirs, mine)

    (conflict,) = result.conflicts
    assert conflict.path == "spec.containerGroups[0].containers[primary].entrypoint"
    assert result.resolved({conflict.path: "mine"}) == {
        **mine,
        "spec": mine["spec"],
    }


def test_models_are_merged_as_their_wire_data() -> None:
    base = InputArtifact.model_validate(_artifact())
    theirs = InputArtifact.model_validate({**_artifact(), "description": "theirs"})
    mine = InputArtifact.model_validate(_artifact(port=9000))
    merged = merge_artifacts(base, theirs, mine).resolved({})
    assert merged["description"] == "theirs"
    assert _primary(merged)["port"] == 9000
