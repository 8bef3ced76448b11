"""The JSON fields a smoke check compares: JSON pointers (RFC 6901, ``/items/0/name``) or
dotted paths (``items.0.name``), both stored as pointers so the file reads one way.

:func:`differences` compares an expected value with what came back, leaf by leaf, and names
each difference by its pointer: a readable diff rather than two JSON dumps side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final


class FieldError(ValueError):
    """A field path that cannot be read (empty, or a pointer with a bad escape)."""


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


MISSING: Final = _Missing()
"""What :func:`resolve` answers for a field that is not there."""


def to_pointer(field: str) -> str:
    """``field`` as a JSON pointer: a pointer is kept, ``a.b.0`` becomes ``/a/b/0``."""
    field = field.strip()
    if not field:
        raise FieldError("a field path is empty")
    if field.startswith("/"):
        tokens(field)  # checked
        return field
    parts = field.split(".")
    if any(not part for part in parts):
        raise FieldError(f"field {field!r} has an empty part (write a.b.0 or /a/b/0)")
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def tokens(pointer: str) -> list[str]:
    """The reference tokens of a JSON pointer (``""`` is the whole document)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise FieldError(f"{pointer!r} is not a JSON pointer (it starts with /)")
    out = []
    for raw in pointer[1:].split("/"):
        if "~" in raw.replace("~0", "").replace("~1", ""):
            raise FieldError(f"{pointer!r} has a ~ that is neither ~0 nor ~1")
        out.append(raw.replace("~1", "/").replace("~0", "~"))
    return out


def resolve(document: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``document``, or :data:`MISSING`."""
    value = document
    for token in tokens(pointer):
        if isinstance(value, dict):
            if token not in value:
                return MISSING
            value = value[token]
        elif isinstance(value, list):
            if not token.isdigit() or int(token) >= len(value):
                return MISSING
            value = value[int(token)]
        else:
            return MISSING
    return value


@dataclass(frozen=True)
class Difference:
    """One place where the answer differs from what was expected."""

    where: str
    """A JSON pointer, ``status`` or ``latency``."""
    expected: Any
    got: Any

    def __str__(self) -> str:
        return f"{self.label}: expected {self.show(self.expected)}, got {self.show(self.got)}"

    @property
    def label(self) -> str:
        """Where, in words: the pointer, ``status``, ``latency``, or ``(body)``."""
        return self.where or "(body)"

    def show(self, value: Any) -> str:
        """``value`` in words: JSON for answer fields, as it is for status and latency."""
        return str(value) if self.where in ("status", "latency") else shown(value)


def differences(expected: Any, got: Any, where: str = "") -> list[Difference]:
    """Leaf by leaf, where ``got`` differs from ``expected`` (objects by key, lists by index)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        found: list[Difference] = []
        for key in sorted(expected.keys() | got.keys()):
            below = f"{where}/{key.replace('~', '~0').replace('/', '~1')}"
            found += differences(expected.get(key, MISSING), got.get(key, MISSING), below)
        return found
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        return [d for i, pair in enumerate(zip(expected, got, strict=True)) for d in
                differences(*pair, f"{where}/{i}")]  # fmt: skip
    if same(expected, got):
        return []
    return [Difference(where, expected, got)]


def same(a: Any, b: Any) -> bool:
    """JSON equality: ``1`` and ``1.0`` are the same number, ``True`` is not ``1``."""
    if a is MISSING or b is MISSING or isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


SHOWN_CHARS = 120
"""How much of a value a message shows."""


def shown(value: Any) -> str:
    """A value as a message shows it: JSON, cut at :data:`SHOWN_CHARS`."""
    if value is MISSING:
        return "(missing)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
