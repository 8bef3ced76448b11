"""The neutral container spec: the union of what v2.41 and the current generation document.

Everything here is a :class:`~workloadlab.models.lossless.LosslessModel`, so a spec read from
either generation and sent back is unchanged (unknown keys, nulls, numbers as sent). Beyond the
v2.41 fields a container has ``securityContext``, ``imageBuildConfig`` (any object: the build
input) and the read-only ``build``; ``imageUri`` may be absent when ``imageBuildConfig`` is
there; a spec may have several container groups and ``storage``, ``templateId``, ``a2aEnabled``
(kept as they came). Environment variables are the three kinds of
``workload-api-current.md`` §4 (a ``source`` this package does not know is kept as it is), and
``resourceRequest.memory`` is bytes or a unit string (:func:`memory_bytes`).

Probes carry no defaults: the generations differ (Kubernetes' 10 s period on v2.41, 30 s on the
current one), and the server applies its own when probing; a field left out stays out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictBool, StrictInt, Tag, field_validator

from workloadlab.models.digest import spec_digest
from workloadlab.models.lossless import LosslessModel, Number, PositiveNumber
from workloadlab.models.rules import (
    check_group,
    check_headers,
    check_unique_names,
    plain_env,
    primary_first,
)
from workloadlab.models.spec import (
    DEFAULT_API_KEY_NAME,
    ENV_NAME_PATTERN,
    MAX_PORT,
    MIN_CONTAINER_PORT,
)
from workloadlab.models.units import Memory

EnvName = Annotated[str, Field(pattern=ENV_NAME_PATTERN)]


class StringVariable(LosslessModel):
    """``{name, value}`` (``source: "string"``, often left out): the value is in the spec."""

    source: Literal["string"] | None = None
    name: EnvName
    value: str = Field(default="", repr=False)

    @property
    def env_name(self) -> str:
        """The variable it sets."""
        return self.name


class CredentialVariable(LosslessModel):
    """``{source: "dr-credential", name, drCredentialId, key}``: one key of a stored credential,
    put into the environment by the server at each start; the spec holds the reference."""

    source: Literal["dr-credential"]
    name: EnvName
    dr_credential_id: str = Field(min_length=1)
    key: str = Field(min_length=1)

    @property
    def env_name(self) -> str:
        """The variable it sets."""
        return self.name


class ApiKeyVariable(LosslessModel):
    """``{source: "api-key", name?}``: a token the serving endpoint accepts, in ``name``
    (default ``DATAROBOT_API_TOKEN``)."""

    source: Literal["api-key"]
    name: EnvName | None = None

    @property
    def env_name(self) -> str:
        """The variable it sets."""
        return self.name or DEFAULT_API_KEY_NAME


class OtherVariable(LosslessModel):
    """A variable of a ``source`` this package does not know: kept and sent back as it came."""

    source: str
    name: str | None = None

    @property
    def env_name(self) -> str:
        """The variable it sets (as far as can be told)."""
        return self.name or ""


def _kind(value: Any) -> str:
    source = value.get("source") if isinstance(value, dict) else getattr(value, "source", None)
    if source is None or source == "string":
        return "string"
    return source if source in ("dr-credential", "api-key") else "other"


Variable = Annotated[
    Annotated[StringVariable, Tag("string")]
    | Annotated[CredentialVariable, Tag("dr-credential")]
    | Annotated[ApiKeyVariable, Tag("api-key")]
    | Annotated[OtherVariable, Tag("other")],
    Discriminator(_kind),
]
"""One environment variable, of the kind its ``source`` says."""


class Probe(LosslessModel):
    """An HTTP probe; what is left out stays out (the server has the defaults)."""

    path: str = Field(pattern=r"^/")
    port: StrictInt | None = Field(default=None, ge=1, le=MAX_PORT)
    scheme: str | None = None
    host: str | None = None
    http_headers: dict[str, str] | None = None
    initial_delay_seconds: Number | None = Field(default=None, ge=0)
    period_seconds: Number | None = Field(default=None, gt=0)
    timeout_seconds: Number | None = Field(default=None, gt=0)
    failure_threshold: StrictInt | None = Field(default=None, ge=1)
    success_threshold: StrictInt | None = Field(default=None, ge=1)

    @field_validator("http_headers")
    @classmethod
    def _headers_are_http(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        check_headers(value)
        return value


class ResourceRequest(LosslessModel):
    """v2.41's per-container resources: cores, memory (bytes or a unit string), GPUs."""

    cpu: PositiveNumber | None = None
    memory: Memory | None = None
    gpu: StrictInt | None = Field(default=None, ge=0)
    gpu_type: str | None = None


class Capabilities(LosslessModel):
    """Linux capabilities added to or dropped from the container."""

    add: list[str] | None = None
    drop: list[str] | None = None


class SeccompProfile(LosslessModel):
    """The container's seccomp profile."""

    type: str
    localhost_profile: str | None = None


class SecurityContext(LosslessModel):
    """The container's security settings (current generation; kept on v2.41 reads)."""

    allow_privilege_escalation: StrictBool | None = None
    capabilities: Capabilities | None = None
    read_only_root_filesystem: StrictBool | None = None
    seccomp_profile: SeccompProfile | None = None


class Container(LosslessModel):
    """One container: its image (or how to build it), port, environment, probes, resources."""

    name: str | None = Field(default=None, min_length=1)
    description: str | None = None
    image_uri: str | None = Field(default=None, min_length=1)
    primary: StrictBool = False
    port: StrictInt | None = Field(default=None, ge=MIN_CONTAINER_PORT, le=MAX_PORT)
    entrypoint: list[str] | None = None
    environment_vars: list[Variable] | None = None
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    startup_probe: Probe | None = None
    resource_request: ResourceRequest | None = None
    security_context: SecurityContext | None = None
    image_build_config: dict[str, Any] | None = None
    build: dict[str, Any] | None = Field(default=None, description="Read-only build status.")

    @field_validator("environment_vars")
    @classmethod
    def _env_names_unique(cls, value: list[Variable] | None) -> list[Variable] | None:
        check_unique_names(var.env_name for var in value or () if var.env_name)
        return value

    @property
    def variables(self) -> list[Variable]:
        """The environment variables (``[]`` when there are none)."""
        return list(self.environment_vars or ())

    def env(self) -> dict[str, str]:
        """The plain variables as a dict; :class:`UnresolvedVariableError` if one is a
        reference (a credential, the API key), which only the server resolves."""
        return plain_env(self.variables, StringVariable)


class ContainerGroup(LosslessModel):
    """Containers that run together; exactly one is the primary."""

    name: str | None = None
    containers: list[Container] = Field(min_length=1)

    @field_validator("containers")
    @classmethod
    def _one_primary(cls, value: list[Container]) -> list[Container]:
        check_group(value, default_name="primary")
        for index, container in enumerate(value):
            if container.image_uri is None and container.image_build_config is None:
                raise ValueError(f"containers[{index}].imageUri is required")
        return value


class ArtifactSpec(LosslessModel):
    """An artifact's container spec: its container groups (the first is the one that runs
    locally), and whatever else the server keeps there (``storage``, ``templateId``...)."""

    container_groups: list[ContainerGroup] = Field(min_length=1)

    @property
    def containers(self) -> list[Container]:
        """The first group's containers, the primary first."""
        return primary_first(self.container_groups[0].containers)

    @property
    def primary(self) -> Container:
        """The primary container (the one that serves the port)."""
        return self.containers[0]

    def digest(self) -> str:
        """The digest of the spec as it is on the wire (what a server computes too)."""
        return spec_digest(self.to_wire())
