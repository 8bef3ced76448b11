"""Level-triggered supervision: the database says what should run; a task per workload makes it so.

The API only writes the desired state (``desired``, ``generation``: bumped by every start) and
*kicks* the workload's task. The task reads the row again and acts: start an instance, stop it,
probe it, restart it after a crash with Kubernetes' backoff, or give up (``errored``, sticky
until the next start). Because the task always works from what is stored, a kick can never be
lost or misread, and a restarted server simply runs the same loop: on start-up it first adopts
the instances a previous server left running (same pid and start time), kills what nobody owns
(orphans), then lets each task bring reality in line with the database.

The package: :mod:`~.fleet` (the :class:`Supervisor`, which owns the tasks), :mod:`~.workload`
(one workload's reconcile loop), :mod:`~.monitor` (probes and exits of a running instance),
:mod:`~.replicas` and :mod:`~.replicaset` (a workload's further replicas when its runtime asks
for ``replicaCount`` > 1; the invoke proxy takes them in turn), :mod:`~.sizing` (replica counts
and resource allocations from a workload's runtime), :mod:`~.launch` (the spec a start runs:
sized, with the security settings of the spec as written),
:mod:`~.status` (recording a status and auditing the change), :mod:`~.reaper` (expiry of
draft workloads), and the rolling change of a deployment to another artifact version:
:mod:`~.rollout` (its new instance, from start to switch or abandonment), :mod:`~.readiness`
(when that instance may take over), :mod:`~.switch` (the takeover) and :mod:`~.traffic` (the
invoke calls under way, which an old instance waits for before it stops).
"""

from __future__ import annotations

from workloadlab.server.supervisor.fleet import Supervisor
from workloadlab.server.supervisor.status import record_status
from workloadlab.server.supervisor.traffic import Lease
from workloadlab.server.supervisor.workload import WorkloadSupervisor

__all__ = ["Lease", "Supervisor", "WorkloadSupervisor", "record_status"]
