"""The local server's SQLite store: artifacts, workloads, deployments, events, logs,
credentials, rollouts, replicas, and the current generation's repositories and settings.

The database holds the *desired* state (``workloads.desired``, ``workloads.generation``) as well
as what was last observed, so a restarted server knows what should run. SQL lives here and only
here: :mod:`~workloadlab.server.store.database` owns the connection and its transactions, each
table is a mixin of it (``artifacts``, ``workloads`` with its ``logs``, ``deployments``,
``events`` with the ``trails`` read from them, ``credentials``, ``running`` artifacts,
``rollouts``, ``replicas``), and :class:`Store` combines them, so callers say
``store.get_workload(...)``. The orders a list accepts, and their SQL, are in
:mod:`~workloadlab.server.store.ordering`.
"""

from __future__ import annotations

from workloadlab.server.store.artifacts import ArtifactTable
from workloadlab.server.store.credentials import CredentialRow, CredentialTable
from workloadlab.server.store.deployments import DeploymentTable
from workloadlab.server.store.events import EventTable
from workloadlab.server.store.ordering import DeploymentOrder, ListOrder
from workloadlab.server.store.replacements import ReplacementRow, ReplacementTable
from workloadlab.server.store.replicas import ReplicaTable
from workloadlab.server.store.repositories import (
    ListQuery,
    RepositoryRow,
    RepositoryTable,
    WorkloadSettingsRow,
)
from workloadlab.server.store.rollouts import RolloutTable
from workloadlab.server.store.rows import (
    ArtifactRow,
    DeploymentRow,
    EventRow,
    LogLine,
    RolloutRow,
    RunningArtifactRow,
    WorkloadRow,
)
from workloadlab.server.store.running import RunningArtifactTable
from workloadlab.server.store.schema import SCHEMA_VERSION
from workloadlab.server.store.trails import TrailQueries
from workloadlab.server.store.workloads import WorkloadTable

__all__ = [
    "SCHEMA_VERSION",
    "ArtifactRow",
    "CredentialRow",
    "DeploymentOrder",
    "DeploymentRow",
    "EventRow",
    "ListOrder",
    "ListQuery",
    "LogLine",
    "ReplacementRow",
    "RepositoryRow",
    "RolloutRow",
    "RunningArtifactRow",
    "Store",
    "WorkloadRow",
    "WorkloadSettingsRow",
]


class Store(
    ArtifactTable,
    WorkloadTable,
    DeploymentTable,
    TrailQueries,
    EventTable,
    CredentialTable,
    RunningArtifactTable,
    RolloutTable,
    ReplicaTable,
    RepositoryTable,
    ReplacementTable,
):
    """All reads and writes of the local server's database."""
