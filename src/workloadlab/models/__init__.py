"""The Workload API's wire schema, shared by the client and the server.

Pydantic v2 models with snake_case attributes and camelCase aliases; no I/O. Two families:

- the local server's strict request models of its v2.41 profile (``InputArtifact``,
  ``CreateWorkload``, ``ArtifactSpec``... here; unknown keys are ``422``) and the response
  models it documents;
- the neutral models the client reads and writes (:mod:`workloadlab.models.neutral`): the
  union of both API generations, lossless on a read-modify-write.

The status enums are shared: the server sets its values with the members, the client reads
whatever word a server sends (:data:`ObservedStatus`).
"""

from workloadlab.models.base import (
    RequestModel,
    WireModel,
    format_timestamp,
    new_id,
    parse_request,
    parse_response,
    utcnow,
)
from workloadlab.models.credentials import (
    CreateCredential,
    Credential,
    CredentialType,
    NewCredentialBody,
    credential_keys,
    parse_credential_body,
)
from workloadlab.models.digest import spec_digest
from workloadlab.models.resources import (
    Artifact,
    ArtifactRef,
    Autoscaling,
    AutoscalingPolicy,
    Condition,
    CreateDeployment,
    CreateWorkload,
    Creator,
    Deployment,
    EntityType,
    Event,
    Importance,
    InputArtifact,
    LogRecord,
    Operation,
    Page,
    ResourceBundle,
    Rollout,
    RolloutStatus,
    RunningArtifact,
    Runtime,
    StatusDetails,
    UpdateArtifact,
    UpdateDeployment,
    Workload,
)
from workloadlab.models.secrets import looks_secret
from workloadlab.models.spec import (
    AnyEnvironmentVar,
    ApiKeyEnvironmentVar,
    ArtifactSpec,
    Container,
    ContainerGroup,
    CredentialEnvironmentVar,
    EnvironmentVar,
    Probe,
    ResourceRequest,
    UnresolvedVariableError,
)
from workloadlab.models.status import (
    ArtifactStatus,
    ArtifactType,
    ObservedArtifactStatus,
    ObservedArtifactType,
    ObservedStatus,
    WorkloadStatus,
    read_word,
)

__all__ = [
    "AnyEnvironmentVar",
    "ApiKeyEnvironmentVar",
    "Artifact",
    "ArtifactRef",
    "ArtifactSpec",
    "ArtifactStatus",
    "ArtifactType",
    "Autoscaling",
    "AutoscalingPolicy",
    "Condition",
    "Container",
    "ContainerGroup",
    "CreateCredential",
    "CreateDeployment",
    "CreateWorkload",
    "Creator",
    "Credential",
    "CredentialEnvironmentVar",
    "CredentialType",
    "Deployment",
    "EntityType",
    "EnvironmentVar",
    "Event",
    "Importance",
    "InputArtifact",
    "LogRecord",
    "NewCredentialBody",
    "ObservedArtifactStatus",
    "ObservedArtifactType",
    "ObservedStatus",
    "Operation",
    "Page",
    "Probe",
    "RequestModel",
    "ResourceBundle",
    "ResourceRequest",
    "Rollout",
    "RolloutStatus",
    "RunningArtifact",
    "Runtime",
    "StatusDetails",
    "UnresolvedVariableError",
    "UpdateArtifact",
    "UpdateDeployment",
    "WireModel",
    "Workload",
    "WorkloadStatus",
    "credential_keys",
    "format_timestamp",
    "looks_secret",
    "new_id",
    "parse_credential_body",
    "parse_request",
    "parse_response",
    "read_word",
    "spec_digest",
    "utcnow",
]
