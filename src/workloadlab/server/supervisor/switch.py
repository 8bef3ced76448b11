"""The switch of a rolling change: the workload takes the new instance, the old one leaves.

:func:`record_switch` stores it, in one transaction: the workload's ``artifact_id``,
``runtime_state`` (the new instance's) and running artifact, the deployment's ``artifact_id``,
the change ``completed``, and the trail (``workload.rolledOut``,
``deployment.artifactChanged``). The workload's loop then swaps the instances in memory in the
same step of the event loop, so no call sees one without the other.
:func:`retire_after_drain` lets the old instance go once the calls that had its address are
answered (:mod:`.traffic`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from workloadlab.models import (
    ArtifactSpec,
    RolloutStatus,
    WorkloadStatus,
    format_timestamp,
    spec_digest,
    utcnow,
)
from workloadlab.server.audit import SYSTEM, audit
from workloadlab.server.runtimes import Instance
from workloadlab.server.store import WorkloadRow
from workloadlab.server.supervisor.rollout import RollingChange, change_details
from workloadlab.server.supervisor.status import condition, record_status

if TYPE_CHECKING:
    from workloadlab.server.supervisor.replicas import Replica
    from workloadlab.server.supervisor.workload import WorkloadSupervisor

logger = logging.getLogger("workloadlab.server")


def record_switch(worker: WorkloadSupervisor, change: RollingChange, row: WorkloadRow) -> None:
    """Move the workload and the deployment to the change's artifact, with the new instance's
    state, and end the change ``completed``: one transaction (the caller then swaps the
    instances in memory, before anything else runs)."""
    store = worker.store
    rollout = change.rollout
    candidate = change.candidate
    assert candidate is not None
    target = store.get_artifact(rollout.to_artifact_id)
    spec = ArtifactSpec.model_validate(target.spec) if target else None
    name = (spec.primary.name if spec else None) or "primary"
    details = change_details(worker, rollout)
    deployment = store.get_deployment(rollout.deployment_id)
    version = details["toVersion"]
    to = f"version {version}" if version is not None else f"draft {rollout.to_artifact_id}"
    message = f"switched to {to}; the old instance stops"
    with store.transaction():
        worker.parent.logs.flush(worker.id)
        store.promote_candidates(worker.id)  # the further new instances, if any
        if target is not None:  # what the workload's instance runs from now on
            digest = spec_digest(target.spec)
            store.record_running_artifact(worker.id, target.id, target.version, digest)
        record_status(
            store,
            row,
            WorkloadStatus.RUNNING,
            conditions=[condition("Started", name, True), condition("Ready", name, True)],
            running_since=format_timestamp(utcnow()),
            artifact_id=rollout.to_artifact_id,
            runtime_state=candidate.state,
            restart_count=0,
        )
        store.finish_rollout(rollout.id, RolloutStatus.COMPLETED, message)
        store.take_replacement_runtime(rollout.id, worker.id)  # current generation only
        audit(
            store,
            SYSTEM,
            "workload.rolledOut",
            worker.id,
            deployment_id=deployment.id if deployment else None,
            artifact_id=rollout.to_artifact_id,
            details={**details, "message": message},
        )
        if deployment is not None:
            store.update_deployment(deployment.id, artifact_id=rollout.to_artifact_id)
            audit(
                store,
                SYSTEM,
                "deployment.artifactChanged",
                deployment.id,
                workload_id=worker.id,
                artifact_id=rollout.to_artifact_id,
                details={**details, "rolling": True},
            )
    logger.info("workload %s: switched to %s (change %s)", worker.id, candidate, rollout.id)


async def retire_replica_after_drain(
    worker: WorkloadSupervisor, replica: Replica, hurry: asyncio.Event
) -> None:
    """:func:`retire_after_drain` for an old further replica (already out of the workload's
    set: it takes no new call), once its own task has let its instance go."""
    instance = await replica.release()
    if instance is not None:
        await retire_after_drain(worker, instance, hurry)


async def retire_after_drain(
    worker: WorkloadSupervisor, instance: Instance, hurry: asyncio.Event
) -> None:
    """Stop the old instance of a switch once the calls that had its address are answered
    (at most the grace period, or until ``hurry`` is set), then with the grace period."""
    grace = worker.timings.grace_period
    waits = {
        asyncio.ensure_future(worker.parent.traffic.drained(instance.target)),
        asyncio.ensure_future(hurry.wait()),
    }
    try:
        await asyncio.wait(waits, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    exit_ = await instance.stop(grace)
    logger.info("workload %s: the old instance %s %s", worker.id, instance, exit_.message)
