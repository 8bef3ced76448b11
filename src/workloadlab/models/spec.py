"""The artifact's container spec: containers, probes, environment, resources.

These are request models (unknown keys are errors) because the spec is what users write; the
rules of `workload-api.md` §3 live here so that the server, the client and the panel's form all
reject the same mistakes with the same field paths.

Every number has both bounds (they are in the OpenAPI schema too):

| field | range |
|---|---|
| ``port`` (primary container) | 1024 … 65535 |
| probe ``port`` | 1 … 65535 |
| probe ``initialDelaySeconds`` | 0 … 86400 (one day) |
| probe ``periodSeconds``, ``timeoutSeconds`` | 0.01 … 86400 |
| probe ``failureThreshold``, ``successThreshold`` | 1 … 1000 |
| ``resourceRequest.cpu`` (cores) | > 0 … 1024 |
| ``resourceRequest.memory`` (bytes) | 1 … 2**44 (16 TiB) |
| ``resourceRequest.gpu`` | 0 … 64 |

**Environment variables** come in DataRobot's three shapes, told apart by ``source``:
``{name, value}`` (``source: "string"``, which may be left out), ``{source: "dr-credential",
name, drCredentialId, key}`` (a key of a stored credential, resolved by the server at each start
and never returned) and ``{source: "api-key", name?}`` (a token the serving endpoint accepts, in
``name``, default ``DATAROBOT_API_TOKEN``, and its base URL in ``DATAROBOT_ENDPOINT``). Names are
unique across the three. A variable dumps as it was written (a ``source`` or ``name`` left out
stays out), so a spec read from the API and sent back is unchanged. Values are kept out of
reprs and validation errors (they may be secrets).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)

from workloadlab.models.base import Number, RequestModel, Text
from workloadlab.models.digest import spec_digest
from workloadlab.models.local import LocalMount, local_mounts_field
from workloadlab.models.rules import UnresolvedVariableError as UnresolvedVariableError
from workloadlab.models.rules import (
    check_group,
    check_headers,
    check_unique_names,
    plain_env,
    primary_first,
)

MAX_PORT = 65535
MIN_CONTAINER_PORT = 1024
"""The primary container's port is unprivileged (1024 and above)."""
MAX_PROBE_SECONDS = 86_400.0
"""One day: the longest probe delay, period or timeout."""
MIN_PROBE_SECONDS = 0.01
"""The shortest probe period or timeout (a shorter one would probe in a busy loop)."""
MAX_PROBE_THRESHOLD = 1000
MAX_CPU = 1024.0
"""Cores."""
MAX_MEMORY = 2**44
"""16 TiB, in bytes."""
MAX_GPU = 64

ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


DEFAULT_API_KEY_NAME = "DATAROBOT_API_TOKEN"
"""The variable an ``api-key`` variable sets when it names none."""
ENDPOINT_VARIABLE = "DATAROBOT_ENDPOINT"
"""The variable that an ``api-key`` variable also sets: the serving endpoint's base URL."""
MAX_ID_LENGTH = 256

EnvName = Annotated[str, Field(pattern=ENV_NAME_PATTERN, max_length=256)]
"""An environment variable's name."""


def _left_out(value: object) -> bool:
    return value is None


class _Variable(RequestModel):
    """What every kind of environment variable shares."""

    @property
    def env_name(self) -> str:
        """The name of the variable it sets."""
        name: str = getattr(self, "name", None) or DEFAULT_API_KEY_NAME
        return name


class EnvironmentVar(_Variable):
    """An environment variable whose value is in the spec (``source: "string"``)."""

    source: Literal["string"] | None = Field(default=None, exclude_if=_left_out)
    """``"string"``, or left out (and then not written back)."""
    name: EnvName
    value: Text = Field(default="", repr=False)


class CredentialEnvironmentVar(_Variable):
    """An environment variable set from one key of a stored credential (``/credentials/``)
    at each start; the spec holds the reference, never the value."""

    source: Literal["dr-credential"]
    name: EnvName
    dr_credential_id: Text = Field(min_length=1, max_length=MAX_ID_LENGTH)
    key: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)


class ApiKeyEnvironmentVar(_Variable):
    """Sets ``name`` (default ``DATAROBOT_API_TOKEN``) to a token the serving endpoint accepts
    and ``DATAROBOT_ENDPOINT`` to its base URL, at each start."""

    source: Literal["api-key"]
    name: EnvName | None = Field(default=None, exclude_if=_left_out)


VARIABLE_KINDS: dict[str, type[_Variable]] = {
    "string": EnvironmentVar,
    "dr-credential": CredentialEnvironmentVar,
    "api-key": ApiKeyEnvironmentVar,
}
"""Each ``source`` and the model of its variables (a left-out ``source`` is ``string``)."""


def _one_kind(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Validate a variable as the kind its ``source`` says, so that a problem is reported at
    the variable's own fields (``environmentVars[0].name``), not once per kind."""
    try:
        return handler(value)
    except ValidationError:
        if not isinstance(value, dict):
            raise ValueError("an environment variable is an object") from None
        source = value.get("source")
        kind = VARIABLE_KINDS.get(source if isinstance(source, str) else "") or (
            EnvironmentVar if source is None else None
        )
        if kind is None:
            sources = ", ".join(f"'{source}'" for source in VARIABLE_KINDS)
            raise ValueError(f"source must be one of {sources}") from None
        return kind.model_validate(value)


AnyEnvironmentVar = Annotated[
    EnvironmentVar | CredentialEnvironmentVar | ApiKeyEnvironmentVar, WrapValidator(_one_kind)
]
"""One environment variable, of the kind its ``source`` says."""


class Probe(RequestModel):
    """An HTTP probe with Kubernetes semantics and defaults (0 / 10 / 1 / 3 / 1)."""

    path: str = Field(pattern=r"^/[^\x00]*$", max_length=2048)
    port: StrictInt | None = Field(default=None, ge=1, le=MAX_PORT)
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    host: Text | None = None
    http_headers: dict[str, str] | None = None
    initial_delay_seconds: Number = Field(default=0, ge=0, le=MAX_PROBE_SECONDS)
    period_seconds: Number = Field(default=10, ge=MIN_PROBE_SECONDS, le=MAX_PROBE_SECONDS)
    timeout_seconds: Number = Field(default=1, ge=MIN_PROBE_SECONDS, le=MAX_PROBE_SECONDS)
    failure_threshold: StrictInt = Field(default=3, ge=1, le=MAX_PROBE_THRESHOLD)
    success_threshold: StrictInt = Field(default=1, ge=1, le=MAX_PROBE_THRESHOLD)

    @field_validator("http_headers")
    @classmethod
    def _headers_are_http(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        check_headers(value)
        return value


class ResourceRequest(RequestModel):
    """CPU (cores), memory (bytes) and GPUs requested for a container."""

    cpu: Number = Field(gt=0, le=MAX_CPU)
    memory: StrictInt = Field(ge=1, le=MAX_MEMORY)
    gpu: StrictInt = Field(default=0, ge=0, le=MAX_GPU)
    gpu_type: Text | None = None


class Container(RequestModel):
    """One container: the image, how to start it, its port, environment and probes."""

    name: Text | None = Field(default=None, min_length=1, max_length=253)
    description: Text = ""
    image_uri: Text = Field(min_length=1)
    primary: StrictBool = False
    port: StrictInt | None = Field(default=None, ge=MIN_CONTAINER_PORT, le=MAX_PORT)
    entrypoint: list[Text] | None = None
    environment_vars: list[AnyEnvironmentVar] = Field(default_factory=list)
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    startup_probe: Probe | None = None
    resource_request: ResourceRequest | None = None
    local_mounts: list[LocalMount] | None = local_mounts_field()

    @field_validator("environment_vars")
    @classmethod
    def _env_names_unique(cls, value: list[AnyEnvironmentVar]) -> list[AnyEnvironmentVar]:
        check_unique_names(var.env_name for var in value)
        return value

    def env(self) -> dict[str, str]:
        """The environment variables as a dict; :class:`UnresolvedVariableError` if one is a
        reference (a credential, the API key), which the server resolves at each start."""
        return plain_env(self.environment_vars, EnvironmentVar)


class ContainerGroup(RequestModel):
    """A group of containers that run together; exactly one is the primary."""

    containers: list[Container] = Field(min_length=1)

    @field_validator("containers")
    @classmethod
    def _one_primary(cls, value: list[Container]) -> list[Container]:
        check_group(value, default_name="primary")
        for container in value:
            if container.primary and container.name is None:
                container.name = "primary"
        return value


class ArtifactSpec(RequestModel):
    """The container spec of an artifact: one container group in this API version."""

    container_groups: list[ContainerGroup] = Field(min_length=1, max_length=1)

    @property
    def containers(self) -> list[Container]:
        """Every container, the primary first."""
        return primary_first(self.container_groups[0].containers)

    @property
    def primary(self) -> Container:
        """The primary container (the one that serves the port)."""
        return self.containers[0]

    def digest(self) -> str:
        """The spec's digest (:func:`~workloadlab.models.digest.spec_digest` of its wire form):
        equal specs have equal digests, whoever wrote them."""
        return spec_digest(self.model_dump(mode="json", by_alias=True))
