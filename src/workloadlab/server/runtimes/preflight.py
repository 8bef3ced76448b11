"""The pre-flight checks only the machine can answer, shared by the runtimes.

The pure rules (:mod:`workloadlab.models.preflight`) read the spec alone; these need this
server's machine: its cores, memory and GPUs (:func:`resource_findings`, both runtimes), what the
process runtime would run (:func:`executable_finding`) and whether the container runtime's
engine has the image or can pull it (:func:`image_finding`). Each runtime's ``preflight`` calls
them; like the rules, they read the spec as plain data and never raise on odd shapes.
"""

from __future__ import annotations

import glob
import math
import os
from collections.abc import Iterator, Mapping
from typing import Any

from workloadlab.models.preflight import Finding, Severity, containers_of, shown_number
from workloadlab.models.units import memory_bytes


def primary_containers(data: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The primary container of each group, with its path."""
    for where, container in containers_of(data):
        if container.get("primary") is True:
            yield where, container


def plain_environment(container: Mapping[str, Any]) -> dict[str, str]:
    """The container's variables whose values are in the spec."""
    env: dict[str, str] = {}
    for variable in container.get("environmentVars") or []:
        if isinstance(variable, Mapping) and variable.get("source") in (None, "string"):
            name, value = variable.get("name"), variable.get("value", "")
            if isinstance(name, str) and isinstance(value, str):
                env[name] = value
    return env


def machine_size() -> tuple[int, int, int]:
    """This machine's usable cores, memory (bytes) and GPUs (NVIDIA device files)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    gpus = len(glob.glob("/dev/nvidia[0-9]*"))
    return cores or 1, memory, gpus


def resource_findings(
    data: Any, *, runtime: str, enforced: frozenset[str] = frozenset()
) -> list[Finding]:
    """A finding for each resource request larger than this machine: an error for the fields
    the runtime refuses to start beyond the machine (``enforced``), else a warning."""
    cores, memory, gpus = machine_size()
    found: list[Finding] = []
    for where, container in containers_of(data):
        request = container.get("resourceRequest")
        if not isinstance(request, Mapping):
            continue
        asked = _amounts(request)
        for field, want, have, unit in (
            ("cpu", asked[0], cores, " cores"),
            ("memory", asked[1], memory, " bytes"),
            ("gpu", asked[2], gpus, " GPUs"),
        ):
            if want is not None and want > have:
                refused = field in enforced
                consequence = (
                    f"the {runtime} runtime cannot start it here"
                    if refused
                    else f"the {runtime} runtime cannot give it that much; DataRobot's machines"
                    " differ"
                )
                found.append(
                    Finding(
                        severity=Severity.ERROR if refused else Severity.WARNING,
                        path=f"{where}.resourceRequest.{field}",
                        message=f"the request asks {shown_number(want)}{unit}, more than this"
                        f" machine has ({shown_number(have)}): {consequence}",
                        fix=f"ask {shown_number(have)}{unit} or less to run it here",
                        rule="resources",
                    )
                )
    return found


Amount = int | float


def _amounts(request: Mapping[str, Any]) -> tuple[Amount | None, Amount | None, Amount | None]:
    """The cpu, memory (bytes) and gpu asked, as numbers Python compares exactly (an integer
    stays one: 400 digits are no float); a memory amount too large for a float is infinite."""

    def number(value: Any) -> Amount | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return value if ok else None

    memory = request.get("memory")
    in_bytes: Amount | None
    try:
        in_bytes = memory_bytes(memory) if isinstance(memory, int | str) else None
    except ValueError:
        in_bytes = None
    except OverflowError:  # "1e400Gi"
        in_bytes = math.inf
    return number(request.get("cpu")), in_bytes, number(request.get("gpu"))


def executable_finding(where: str, container: Mapping[str, Any], problem: str) -> Finding:
    """The process runtime cannot run the container's entrypoint: ``problem`` says why."""
    has_entrypoint = bool(container.get("entrypoint"))
    return Finding(
        severity=Severity.ERROR,
        path=f"{where}.entrypoint[0]" if has_entrypoint else f"{where}.entrypoint",
        message=problem,
        fix="install it, use its full path, or fix the entrypoint's first word"
        if has_entrypoint
        else 'add an entrypoint, e.g. ["python", "-m", "workloadlab.examples.hello"]',
        rule="entrypoint-executable",
    )


def image_finding(where: str, image: str, problem: str) -> Finding:
    """The container runtime's engine has not got ``image`` and cannot pull it."""
    return Finding(
        severity=Severity.ERROR,
        path=f"{where}.imageUri",
        message=f"image {image} is neither on this machine nor pullable: {problem}",
        fix="build or pull it first (podman build / docker pull), or fix the reference",
        rule="image-unavailable",
    )
