"""Local mounts (``localMounts``, :mod:`workloadlab.models.local`) stay on drafts: they name
this machine's files, which a registered (locked) artifact, meant to run anywhere, cannot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workloadlab.models.local import LOCAL_MOUNTS, mounted_containers
from workloadlab.server.problems import Invalid

REFUSED = (
    "a registered artifact cannot have localMounts (this machine's files, bind-mounted by the"
    " local server for live sync): remove them, save, then register"
)


def refuse_local_mounts(spec: Mapping[str, Any], at: Sequence[str | int]) -> None:
    """:class:`Invalid` at each container of ``spec`` (a wire spec, under ``at``) that has
    local mounts; nothing if none has."""
    errors = [
        {
            "loc": [*at, "containerGroups", g, "containers", c, LOCAL_MOUNTS],
            "msg": REFUSED,
            "type": "value_error",
        }
        for g, c, _ in mounted_containers(spec)
    ]
    if errors:
        raise Invalid(errors)
