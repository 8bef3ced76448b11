"""The resources of :class:`~workloadlab.client.AsyncClient`: one module per API collection."""

from workloadlab.client.resources.artifacts import Artifacts
from workloadlab.client.resources.credentials import Credentials
from workloadlab.client.resources.deployments import Deployments
from workloadlab.client.resources.preflight import Preflight
from workloadlab.client.resources.repositories import Repositories
from workloadlab.client.resources.workloads import Workloads

__all__ = ["Artifacts", "Credentials", "Deployments", "Preflight", "Repositories", "Workloads"]
