"""Field-by-field differences between two artifacts (or two container specs).

One function serves the server's audit trail (which field paths a PUT changed), the ``%%artifact``
magic and the panel (what changed, and whether a restart is needed to apply it). Paths use the
wire names: ``spec.containerGroups[0].containers[0].environmentVars[GREETING].value``;
environment variables are matched by name, not position, so reordering them is no change. A
variable that is a reference has ``source`` and its reference's fields instead of ``value``
(``environmentVars[GH_TOKEN].drCredentialId``); ``source: "string"`` written out or left out is
the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from workloadlab.models.spec import DEFAULT_API_KEY_NAME

METADATA_FIELDS = frozenset({"name", "description"})


@dataclass(frozen=True)
class FieldChange:
    """One changed field: its path, the old and the new value (``None`` when absent)."""

    path: str
    old: Any
    new: Any

    @property
    def needs_restart(self) -> bool:
        """Whether a running workload picks this change up only after a restart."""
        return self.path not in METADATA_FIELDS and self.path != "status"

    @property
    def kind(self) -> str:
        """``added``, ``removed`` or ``changed``."""
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"


def _as_wire(value: BaseModel | dict[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, BaseModel):
        dumped: dict[str, Any] = value.model_dump(mode="json", by_alias=True, exclude_none=True)
        return dumped
    return value


ENVIRONMENT_KEYS = frozenset({"name", "value", "source", "drCredentialId", "key"})
"""The keys of environment variables, of every kind."""


def _is_environment(value: Any) -> bool:
    """Whether ``value`` is a list of environment variables (of any kind, ``api-key`` ones
    without a name included)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(item, dict)
            and ("name" in item or item.get("source") == "api-key")
            and set(item) <= ENVIRONMENT_KEYS
            for item in value
        )
    )


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), out)
    elif _is_environment(value):
        for item in value:  # environment variables: keyed by name
            name = item.get("name") or DEFAULT_API_KEY_NAME
            source = item.get("source") or "string"
            if source == "string":
                out[f"{path}[{name}].value"] = item.get("value", "")
                continue
            out[f"{path}[{name}].source"] = source
            for key in sorted(set(item) - {"name", "source"}):
                out[f"{path}[{name}].{key}"] = item[key]
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", out)
    elif value is not None:
        out[path] = value


def _normalise(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def diff_artifacts(
    old: BaseModel | dict[str, Any] | None, new: BaseModel | dict[str, Any] | None
) -> list[FieldChange]:
    """Every field that differs between two artifacts (or specs), in path order."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten(_as_wire(old), "", before)
    _flatten(_as_wire(new), "", after)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        old_value, new_value = before.get(path), after.get(path)
        if _normalise(old_value) != _normalise(new_value):
            changes.append(FieldChange(path, old_value, new_value))
    return changes


def needs_restart(changes: list[FieldChange]) -> bool:
    """Whether any of the changes applies only after a restart."""
    return any(change.needs_restart for change in changes)
