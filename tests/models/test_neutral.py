"""The neutral models: tolerant of either generation, lossless, strict only where a contract is;
the server's own request models stay strict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from workloadlab.models import ArtifactStatus, ArtifactType, WorkloadStatus
from workloadlab.models import InputArtifact as ServerInputArtifact
from workloadlab.models.generations import NotExpressibleError, for_v241
from workloadlab.models.neutral import (
    Artifact,
    ArtifactSpec,
    CreateWorkload,
    InputArtifact,
    Runtime,
    UpdateArtifact,
    Workload,
)
from workloadlab.models.units import memory_bytes

CURRENT = Path(__file__).resolve().parents[1] / "client" / "fixtures" / "current"


def current(name: str) -> Any:
    return json.loads((CURRENT / name).read_text())


def text(value: Any) -> str:
    return json.dumps(value)


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "main", "imageUri": "x", "primary": True, "port": 8080, **fields}


def spec(**fields: Any) -> dict[str, Any]:
    return {"containerGroups": [{"containers": [container(**fields)]}]}


@pytest.mark.parametrize("word", ["terminated", "provisioning", "launching", "suspended"])
def test_current_statuses_are_members(word: str) -> None:
    workload = Workload.model_validate({"id": "w", "name": "n", "status": word})
    assert workload.status is WorkloadStatus(word)
    assert workload.status.is_known


def test_a_status_word_nobody_knows_parses_and_counts_as_in_progress() -> None:
    workload = Workload.model_validate({"id": "w", "name": "n", "status": "rebooting"})
    assert workload.status == "rebooting"
    assert isinstance(workload.status, WorkloadStatus)
    assert not workload.status.is_known
    assert workload.status.is_transition
    assert workload.to_wire()["status"] == "rebooting"
    with pytest.raises(ValueError, match="runing"):
        WorkloadStatus("runing")  # a word people type is still checked


def test_stable_and_failed_as_the_contract_says() -> None:
    assert {s for s in WorkloadStatus if s.is_stable} == {"running", "stopped"}
    assert {s for s in WorkloadStatus if s.is_failure} == {"errored", "terminated", "failed"}
    assert not WorkloadStatus.UNKNOWN.is_transition
    assert WorkloadStatus.LAUNCHING.is_transition


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (512, 512),
        ("512MB", 512_000_000),
        ("1GB", 10**9),
        ("2KB", 2000),
        ("1TB", 10**12),
        ("1Ki", 1024),
        ("512Mi", 512 * 1024**2),
        ("1GiB", 1024**3),
        ("1TiB", 1024**4),
        ("1.5Gi", 3 * 1024**3 // 2),
        ("4096", 4096),
    ],
)
def test_memory_is_bytes_or_a_unit_string_echoed_as_sent(amount: Any, expected: int) -> None:
    assert memory_bytes(amount) == expected
    runtime = {"containerGroups": [{"containers": [{"resourceAllocation": {"memory": amount}}]}]}
    assert Runtime.model_validate(runtime).to_wire() == runtime
    artifact = InputArtifact.model_validate({"spec": spec(resourceRequest={"memory": amount})})
    assert artifact.to_wire()["spec"]["containerGroups"][0]["containers"][0]["resourceRequest"] == {
        "memory": amount
    }


@pytest.mark.parametrize("amount", ["512XB", "lots", "0MB", "-1Gi", 0])
def test_a_memory_amount_that_is_none_is_refused_without_echo(amount: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ArtifactSpec.model_validate(spec(resourceRequest={"memory": amount}))
    assert "resourceRequest.memory" in str(caught.value).replace("\n  ", ".")
    assert f"input_value={amount!r}" not in str(caught.value)


def test_registered_and_locked_are_locked_and_go_back_as_they_came() -> None:
    for word in ("registered", "locked"):
        body = {"id": "a", "status": word, "spec": spec()}
        artifact = Artifact.model_validate(body)
        assert artifact.status is ArtifactStatus.LOCKED
        assert artifact.is_locked
        assert artifact.is_registered
        assert artifact.status_word == word
        assert artifact.to_wire()["status"] == word
        assert artifact.to_input().to_wire()["status"] == word
    made = InputArtifact(spec=ArtifactSpec.model_validate(spec()), status=ArtifactStatus.LOCKED)
    assert made.to_wire()["status"] == "locked"
    assert for_v241(made.to_wire(), credentials=True)["status"] == "registered"


def test_types_of_both_generations_and_beyond() -> None:
    for word in ("generic", "service", "nim", "agent", "something-new"):
        artifact = Artifact.model_validate({"id": "a", "type": word, "spec": spec()})
        assert artifact.type == word
        assert isinstance(artifact.type, ArtifactType)
        assert artifact.to_input().to_wire()["type"] == word


def test_unknown_keys_nulls_key_order_and_numbers_are_kept_at_every_depth() -> None:
    body = {
        "zeta": {"nested": [1, {"deep": None}]},
        "spec": {
            "storage": {"mode": "nimCache"},
            "containerGroups": [
                {
                    "affinity": None,
                    "containers": [
                        container(
                            readinessProbe={"periodSeconds": 1, "path": "/r", "grpc": None},
                            resourceRequest={"cpu": 1, "memory": 10, "gpu": 0},
                            livenessProbe=None,
                            environmentVars=[{"value": "v", "name": "A", "extra": [None]}],
                        )
                    ],
                }
            ],
        },
        "name": "n",
        "type": "service",
    }
    artifact = InputArtifact.model_validate(body)
    assert text(artifact.to_wire()) == text(body)
    assert artifact.unknown == {"zeta": {"nested": [1, {"deep": None}]}}
    probe = artifact.spec.primary.readiness_probe
    assert probe is not None
    assert probe.timeout_seconds is None, "no default is injected"
    assert isinstance(artifact.spec.primary.resource_request.cpu, int)  # type: ignore[union-attr]


def test_the_current_generation_container_fields() -> None:
    body = current("artifact-draft.json")
    artifact = Artifact.model_validate(body)
    primary = artifact.spec.primary
    assert primary.security_context is not None
    assert primary.security_context.read_only_root_filesystem is True
    assert primary.security_context.seccomp_profile is not None
    assert primary.security_context.seccomp_profile.type == "RuntimeDefault"
    assert primary.build == body["spec"]["containerGroups"][0]["containers"][0]["build"]
    assert [v.source for v in primary.variables] == [
        "dr-credential",
        "string",
        None,
        "api-key",
        "future-source",
    ]
    assert text(artifact.to_wire()) == text(body)
    built = ArtifactSpec.model_validate(
        {
            "containerGroups": [
                {"containers": [{"primary": True, "port": 8080, "imageBuildConfig": {}}]}
            ]
        }
    )
    assert built.primary.image_uri is None, "imageUri may wait for a build"
    with pytest.raises(ValidationError, match="imageUri is required"):
        ArtifactSpec.model_validate(
            {"containerGroups": [{"containers": [{"primary": True, "port": 8080}]}]}
        )


def test_create_update_and_settings_bodies_of_the_walk_through() -> None:
    for name in ("create-workload.json", "create-production-workload.json"):
        body = current(name)
        assert text(CreateWorkload.model_validate(body).to_wire()) == text(body)
    patch = current("artifact-patch-spec.json")
    assert text(UpdateArtifact.model_validate(patch).to_wire()) == text(patch)
    settings = current("settings.json")
    runtime = Runtime.model_validate(settings["runtime"])
    assert runtime.container_groups is not None
    runtime.container_groups[0].replica_count = 2
    changed = json.loads(text(settings["runtime"]))
    changed["containerGroups"][0]["replicaCount"] = 2
    assert text(runtime.to_wire()) == text(changed)
    with pytest.raises(ValidationError, match="exactly one of artifact"):
        CreateWorkload.model_validate({"name": "x", "artifactId": None, "artifact": None})


def test_what_both_contracts_refuse_is_still_refused() -> None:
    for wrong, message in [
        ({"port": 80}, "greater than or equal to 1024"),
        ({"environmentVars": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}, "twice"),
        ({"environmentVars": [{"name": "1A", "value": "1"}]}, "pattern"),
        ({"readinessProbe": {"path": "no-slash"}}, "pattern"),
        ({"primary": False}, "exactly one container"),
    ]:
        with pytest.raises(ValidationError, match=message):
            ArtifactSpec.model_validate(spec(**wrong))


def test_v241_words_and_what_v241_cannot_say() -> None:
    body = current("create-workload.json")
    with pytest.raises(NotExpressibleError, match=r"containers\[0\]\.environmentVars\[0\]"):
        for_v241(body, credentials=False)
    assert for_v241(body, credentials=True)["artifact"]["spec"] == body["artifact"]["spec"]
    production = current("create-production-workload.json")
    production["runtime"]["containerGroups"][0]["containers"][0]["resourceAllocation"][
        "gpuMemory"
    ] = "16GB"
    with pytest.raises(NotExpressibleError, match="gpuMemory"):
        for_v241(production, credentials=True)
    nim = {"name": "n", "type": "nim", "spec": spec()}
    with pytest.raises(NotExpressibleError, match="'nim'"):
        for_v241(nim, credentials=True)
    service = {"name": "n", "type": "service", "spec": spec(resourceRequest={"memory": "1Ki"})}
    sent = for_v241(service, credentials=True)
    assert sent["type"] == "generic"
    assert sent["spec"]["containerGroups"][0]["containers"][0]["resourceRequest"]["memory"] == 1024
    assert service["type"] == "service", "the body given is not changed"


def test_the_server_s_own_request_model_stays_strict() -> None:
    for extra in ({"securityContext": {}}, {"imageBuildConfig": {}}, {"unknown": 1}):
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            ServerInputArtifact.model_validate({"name": "a", "spec": spec(**extra)})
    with pytest.raises(ValidationError):
        ServerInputArtifact.model_validate({"name": "a", "type": "service", "spec": spec()})


def test_an_artifact_written_back_by_patch_drops_only_spec_type() -> None:
    body = current("artifact-draft.json")
    artifact = Artifact.model_validate(body)
    artifact.spec.primary.image_uri = "ghcr.io/org/hello:2"
    patch = artifact.to_update().to_wire()
    expected_spec = {k: v for k, v in body["spec"].items() if k != "type"}
    expected_spec["containerGroups"][0]["containers"][0]["imageUri"] = "ghcr.io/org/hello:2"
    assert text(patch) == text(
        {"name": body["name"], "description": body["description"], "spec": expected_spec}
    )
