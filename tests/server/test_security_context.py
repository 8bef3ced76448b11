"""A container's ``securityContext``: carried from the spec as written onto the containers a
start runs (nothing stored changes), and put in the Docker Engine API's words."""

from __future__ import annotations

from typing import Any

import pytest

from workloadlab.models import ArtifactSpec
from workloadlab.models.current import SecurityContext
from workloadlab.server.runtimes.container.hardening import Hardening, hardening
from workloadlab.server.runtimes.security import security_context
from workloadlab.server.supervisor.launch import secured
from workloadlab.server.supervisor.sizing import sized

SPEC = {
    "containerGroups": [
        {
            "containers": [
                {"name": "main", "imageUri": "app:1", "primary": True, "port": 8080},
                {"name": "helper", "imageUri": "helper:1"},
            ]
        }
    ]
}


def wire(**contexts: dict[str, Any]) -> dict[str, Any]:
    """:data:`SPEC` as written in the current generation, with these containers' contexts."""
    containers = [
        {**container, **({"securityContext": contexts[name]} if name in contexts else {})}
        for container in SPEC["containerGroups"][0]["containers"]
        for name in [container["name"]]
    ]
    return {"containerGroups": [{"name": "default", "containers": containers}]}


def test_a_spec_without_security_contexts_runs_as_it_is() -> None:
    spec = ArtifactSpec.model_validate(SPEC)
    assert secured(spec, None) is spec  # a v2.41 artifact: nothing written beside it
    assert secured(spec, wire()) is spec


def test_each_container_gets_its_own_context_and_the_spec_dumps_as_before() -> None:
    spec = sized(
        ArtifactSpec.model_validate(SPEC),
        {"containerGroups": [{"containers": [{"name": "main", "resourceAllocation": {"cpu": 1}}]}]},
    )
    started = secured(spec, wire(helper={"readOnlyRootFilesystem": True}))
    main, helper = started.containers
    assert security_context(main) is None
    assert security_context(helper) == SecurityContext(read_only_root_filesystem=True)
    assert main.resource_request is not None
    assert main.resource_request.cpu == 1
    assert started.model_dump(mode="json") == spec.model_dump(mode="json")


@pytest.mark.parametrize(
    ("written", "asked"),
    [
        (None, Hardening()),
        ({}, Hardening()),
        ({"allowPrivilegeEscalation": True}, Hardening()),
        ({"allowPrivilegeEscalation": False}, Hardening(security_opt=["no-new-privileges"])),
        (
            {"capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}},
            Hardening(cap_add=["NET_ADMIN"], cap_drop=["ALL"]),
        ),
        ({"readOnlyRootFilesystem": True}, Hardening(read_only=True)),
        ({"readOnlyRootFilesystem": False}, Hardening()),
        (
            {"seccompProfile": {"type": "Unconfined"}},
            Hardening(security_opt=["seccomp=unconfined"]),
        ),
        ({"seccompProfile": {"type": "RuntimeDefault"}}, Hardening()),
        ({"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}, Hardening()),
    ],
)
def test_what_the_engine_is_asked(written: dict[str, Any] | None, asked: Hardening) -> None:
    context = SecurityContext.model_validate(written) if written is not None else None
    assert hardening(context, "main") == asked


def test_a_localhost_profile_not_applied_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    profile = {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}
    hardening(SecurityContext.model_validate(profile), "helper")
    assert "'helper': seccompProfile Localhost is not applied" in caplog.text
