"""Slots: how two instances of one workload run side by side as host processes.

A rolling change (``PATCH /console/deployments/{id}`` with ``artifactId``) starts a workload's
new instance while its old one still serves. Two host processes cannot share a port, a pair of
log files or a marker, so an instance that starts while another of its workload is alive gets:

- the next free **slot** (``0`` is the one an instance that runs alone takes): its log files are
  ``<id>@<slot>.stdout`` and ``.stderr``, its marker ``<data-dir-id>/<id>@<slot>``;
- a **free host port** (the kernel's choice) in ``$PORT`` instead of the spec's ``port``; its
  probes and the invoke proxy follow it (``port_for``, ``target``).

An instance that runs alone keeps slot ``0``, its spec's port and the plain names, so nothing
changes for the ordinary start and restart (and a port taken by another program is still an
error that names it). Apps must listen on ``$PORT``: the README says so.
"""

from __future__ import annotations

import socket

SEPARATOR = "@"
"""Between a workload id and a slot (a workload id never holds one: ``WORKLOAD_ID``)."""


def instance_name(workload_id: str, slot: int) -> str:
    """The name of a workload's instance in ``slot``, for its log files and its marker."""
    return workload_id if slot == 0 else f"{workload_id}{SEPARATOR}{slot}"


def split_instance_name(name: str) -> tuple[str, int]:
    """``(workload id, slot)`` of an instance name; a name without a valid slot is slot 0."""
    workload_id, separator, slot = name.rpartition(SEPARATOR)
    if separator and slot.isdigit() and workload_id:
        return workload_id, int(slot)
    return name, 0


def free_slot(taken: set[int]) -> int:
    """The lowest slot not in ``taken``."""
    slot = 0
    while slot in taken:
        slot += 1
    return slot


def free_host_port() -> int:
    """A loopback port nothing is bound to now (the kernel's pick), for an instance that
    runs beside another of its workload."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
