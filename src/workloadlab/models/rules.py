"""Rules of the container spec that both API generations state, shared by the local server's
strict models (:mod:`workloadlab.models.spec`) and the client's neutral ones
(:mod:`workloadlab.models.neutral`), so both refuse the same mistakes with the same words.

Each check raises ``ValueError`` with a message that names the place, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP header name (RFC 9110 token)."""


class GroupMember(Protocol):
    """What the group rules read of a container."""

    name: str | None
    primary: bool
    port: int | None


C = TypeVar("C", bound=GroupMember)


def primary_first(containers: Sequence[C]) -> list[C]:
    """A group's containers, the primary first (the others in their order)."""
    return sorted(containers, key=lambda container: not container.primary)


def check_headers(headers: Mapping[str, str] | None) -> None:
    """Probe headers are HTTP header names with single-line values."""
    for name, header in (headers or {}).items():
        if not HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not an HTTP header name")
        if any(char in header for char in "\r\n\0"):
            raise ValueError(f"the value of header {name!r} has a line break or NUL")


def check_unique_names(names: Iterable[str]) -> None:
    """Environment variable names are unique in a container."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"environment variable {name!r} is defined twice")
        seen.add(name)


def check_group(containers: Sequence[GroupMember], *, default_name: str | None) -> None:
    """Exactly one primary, which has the port; the others have names and no port; names are
    unique (a nameless primary counts as ``default_name``)."""
    primaries = [i for i, c in enumerate(containers) if c.primary]
    if len(primaries) != 1:
        found = "none" if not primaries else f"{len(primaries)} (containers {primaries})"
        raise ValueError(f"exactly one container must have primary: true, found {found}")
    names: set[str | None] = set()
    for index, container in enumerate(containers):
        name = container.name
        if container.primary:
            name = name if name is not None else default_name
            if container.port is None:
                raise ValueError(f"containers[{index}].port is required on the primary")
        else:
            if name is None:
                raise ValueError(f"containers[{index}].name is required")
            if container.port is not None:
                raise ValueError(f"containers[{index}].port is only allowed on the primary")
        if name is not None and name in names:
            raise ValueError(f"container name {name!r} is used twice")
        names.add(name)


class UnresolvedVariableError(ValueError):
    """A variable's value is a reference that only the server can resolve (at each start)."""


def plain_env(variables: Iterable[Any], plain: type[Any]) -> dict[str, str]:
    """The variables as a dict when each is a ``plain`` one (a value in the spec);
    :class:`UnresolvedVariableError` for a reference (a credential, the API key), which only
    the server resolves, at each start."""
    env: dict[str, str] = {}
    var: Any
    for var in variables:
        if not isinstance(var, plain):
            raise UnresolvedVariableError(
                f"environment variable {var.env_name!r} is a {var.source} reference"
            )
        env[var.name] = var.value
    return env
