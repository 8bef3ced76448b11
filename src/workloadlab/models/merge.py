"""A three-way merge of artifacts: what the form loaded (base), the server now (theirs), the form
(mine).

When an artifact changed on the server while someone edited it, neither side may silently win:
a field only they changed is taken from the server, a field only I changed keeps my value, and a
field both changed to different values is a :class:`Conflict` that the user must settle before
anything is saved. The merge works on wire data (camelCase dicts) and walks it the way the
artifact is shaped: containers are matched by ``name`` and environment variables by ``name``
(reordering them is no change), other lists (an ``entrypoint``) are single values. Paths use
the notation of :mod:`workloadlab.models.diff`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

Side = Literal["mine", "theirs"]

_MISSING: Any = object()
"""A key absent on one side (distinct from an explicit ``None``)."""


@dataclass(frozen=True)
class Conflict:
    """A field both sides changed, to different values (``None``: removed on that side)."""

    path: str
    base: Any
    mine: Any
    theirs: Any


@dataclass
class MergeResult:
    """The outcome of :func:`merge_artifacts`."""

    merged: dict[str, Any]
    """Wire data with every field settled; a conflict holds the server's value until
    :meth:`resolved` is given a choice for it."""
    theirs: list[str] = field(default_factory=list)
    """Paths taken from the server (only they changed them)."""
    mine: list[str] = field(default_factory=list)
    """Paths that keep my value (only I changed them)."""
    conflicts: list[Conflict] = field(default_factory=list)

    def resolved(self, choices: Mapping[str, Side]) -> dict[str, Any]:
        """The merged wire data with each conflict settled as ``choices`` says; a conflict
        without a choice is a :class:`ValueError` (nothing may be saved unsettled)."""
        missing = [c.path for c in self.conflicts if c.path not in choices]
        if missing:
            raise ValueError(f"choose mine or theirs for: {', '.join(missing)}")
        data: dict[str, Any] = _copy(self.merged)
        for conflict in self.conflicts:
            if choices[conflict.path] == "mine":
                _set(data, _parse(conflict.path), conflict.mine)
        return data


def merge_artifacts(
    base: BaseModel | Mapping[str, Any],
    theirs: BaseModel | Mapping[str, Any],
    mine: BaseModel | Mapping[str, Any],
) -> MergeResult:
    """Merge my edits of ``base`` with the server's ``theirs`` (see the module docstring)."""
    result = MergeResult(merged={})
    merged = _merge(_wire(base), _wire(theirs), _wire(mine), "", result)
    result.merged = merged if isinstance(merged, dict) else {}
    return result


def _wire(value: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        dumped: dict[str, Any] = value.model_dump(mode="json", by_alias=True, exclude_none=True)
        return dumped
    return dict(value)


def _same(left: Any, right: Any) -> bool:
    """Equal as wire values (``10`` and ``10.0`` are the same number)."""
    if isinstance(left, float) and left.is_integer():
        left = int(left)
    if isinstance(right, float) and right.is_integer():
        right = int(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)


def _named_list(value: Any) -> bool:
    """A list whose items are dicts with a unique ``name`` (containers, environment)."""
    if not isinstance(value, list) or not value:
        return False
    if not all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in value):
        return False
    return len({item["name"] for item in value}) == len(value)


def _parallel(*sides: Any) -> bool:
    """Lists of dicts of one length, matched by position (the container groups)."""
    if not all(isinstance(side, list) for side in sides):
        return False
    lengths = {len(side) for side in sides}
    return len(lengths) == 1 and all(isinstance(i, dict) for side in sides for i in side)


def _merge(base: Any, theirs: Any, mine: Any, path: str, result: MergeResult) -> Any:
    """The merged value at ``path`` (``_MISSING``: absent), recording what was decided."""
    if _same(mine, theirs):
        return mine
    if _same(mine, base):
        result.theirs.append(path)
        return theirs
    if _same(theirs, base):
        result.mine.append(path)
        return mine
    if all(isinstance(v, dict) for v in (base, theirs, mine)):
        return _merge_dicts(base, theirs, mine, path, result)
    if all(_named_list(v) or v == [] for v in (base, theirs, mine)):
        return _merge_named(base, theirs, mine, path, result)
    if _parallel(base, theirs, mine):
        return [
            _merge(b, t, m, f"{path}[{index}]", result)
            for index, (b, t, m) in enumerate(zip(base, theirs, mine, strict=True))
        ]
    result.conflicts.append(Conflict(path, _absent(base), _absent(mine), _absent(theirs)))
    return theirs


def _merge_dicts(
    base: dict[str, Any],
    theirs: dict[str, Any],
    mine: dict[str, Any],
    path: str,
    result: MergeResult,
) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key in [*mine, *(k for k in theirs if k not in mine)]:
        value = _merge(
            base.get(key, _MISSING),
            theirs.get(key, _MISSING),
            mine.get(key, _MISSING),
            f"{path}.{key}" if path else key,
            result,
        )
        if value is not _MISSING:
            merged[key] = value
    return merged


def _merge_named(
    base: list[dict[str, Any]],
    theirs: list[dict[str, Any]],
    mine: list[dict[str, Any]],
    path: str,
    result: MergeResult,
) -> list[dict[str, Any]]:
    """Items matched by name; mine's order first, then what only the server has."""
    by_name = [{item["name"]: item for item in side} for side in (base, theirs, mine)]
    names = [*by_name[2], *(n for n in by_name[1] if n not in by_name[2])]
    merged = []
    for name in names:
        value = _merge(
            by_name[0].get(name, _MISSING),
            by_name[1].get(name, _MISSING),
            by_name[2].get(name, _MISSING),
            f"{path}[{name}]",
            result,
        )
        if value is not _MISSING:
            merged.append(value)
    return merged


def _absent(value: Any) -> Any:
    return None if value is _MISSING else value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


Part = str | int | tuple[str]
"""A step of a path: a key, a list position, or (a tuple) a list item matched by name."""


def _parse(path: str) -> list[Part]:
    """``a.b[0].c[name].d`` as ``["a", "b", 0, "c", ("name",), "d"]``."""
    parts: list[Part] = []
    for piece in path.split("."):
        while "[" in piece:
            head, _, rest = piece.partition("[")
            name, _, piece = rest.partition("]")
            if head:
                parts.append(head)
            parts.append(int(name) if name.isdigit() else (name,))
        if piece:
            parts.append(piece)
    return parts


def _set(data: Any, parts: list[Part], value: Any) -> None:
    """Set (``None``: remove) the value at ``parts`` in ``data``, creating what is missing."""
    *parents, last = parts
    node = data
    for index, part in enumerate(parents):
        following = parts[index + 1]
        empty: Any = {} if isinstance(following, str) else []
        if isinstance(part, int):
            node = node[part]
        elif isinstance(part, tuple):
            found = next((item for item in node if item.get("name") == part[0]), None)
            if found is None:
                found = {"name": part[0]}
                node.append(found)
            node = found
        else:
            node = node.setdefault(part, empty)
    if isinstance(last, tuple):
        node[:] = [item for item in node if item.get("name") != last[0]]
        if value is not None:
            node.append(value)
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value
