"""The neutral models: what the client reads from and writes to either API generation.

They hold the union of v2.41 (``workload-api.md``) and the current generation
(``workload-api-current.md`` §4, §8) and lose nothing: a resource read, changed in one field
and written back is sent as it came in every other byte (:mod:`workloadlab.models.lossless`).
The local server validates requests with its own strict models (``workloadlab.models``'
``InputArtifact``, ``CreateWorkload``... of its v2.41 profile); these never refuse a key they
do not know, and refuse only what a contract refuses.
"""

from workloadlab.models.neutral.artifacts import (
    RESPONSE_ONLY,
    Artifact,
    InputArtifact,
    UpdateArtifact,
)
from workloadlab.models.neutral.rolling import (
    REPLACEMENT_ENDS,
    ArtifactRepository,
    Replacement,
    RuntimeSettings,
)
from workloadlab.models.neutral.runtime import (
    Autoscaling,
    BundleRef,
    ContainerRuntime,
    GroupRuntime,
    ResourceAllocation,
    Runtime,
    ScalingPolicy,
)
from workloadlab.models.neutral.spec import (
    ApiKeyVariable,
    ArtifactSpec,
    Capabilities,
    Container,
    ContainerGroup,
    CredentialVariable,
    OtherVariable,
    Probe,
    ResourceRequest,
    SeccompProfile,
    SecurityContext,
    StringVariable,
    Variable,
)
from workloadlab.models.neutral.workloads import ArtifactRef, CreateWorkload, Workload

__all__ = [
    "REPLACEMENT_ENDS",
    "RESPONSE_ONLY",
    "ApiKeyVariable",
    "Artifact",
    "ArtifactRef",
    "ArtifactRepository",
    "ArtifactSpec",
    "Autoscaling",
    "BundleRef",
    "Capabilities",
    "Container",
    "ContainerGroup",
    "ContainerRuntime",
    "CreateWorkload",
    "CredentialVariable",
    "GroupRuntime",
    "InputArtifact",
    "OtherVariable",
    "Probe",
    "Replacement",
    "ResourceAllocation",
    "ResourceRequest",
    "Runtime",
    "RuntimeSettings",
    "ScalingPolicy",
    "SeccompProfile",
    "SecurityContext",
    "StringVariable",
    "UpdateArtifact",
    "Variable",
    "Workload",
]
