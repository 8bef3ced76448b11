"""Memory amounts: bytes as an integer, or a string with a unit (``"512MB"``, ``"1Gi"``).

The current generation takes either (``workload-api-current.md`` §4) and echoes what it was
sent, so the neutral models keep the spelling; :func:`memory_bytes` says how many bytes it is.
Units: ``KB`` … ``TB`` are powers of 1000, ``Ki`` … ``Ti`` and ``KiB`` … ``TiB`` powers of
1024; a bare number string is bytes.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt

_UNITS = {
    "": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
}
_AMOUNT = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[KMGT]i?B?|)")


def memory_bytes(value: int | str) -> int:
    """The bytes a memory amount stands for; ``ValueError`` for an unknown unit."""
    if isinstance(value, int):
        return value
    match = _AMOUNT.fullmatch(value.strip())
    if match is None or match["unit"] not in _UNITS:
        units = ", ".join(unit for unit in _UNITS if unit)
        raise ValueError(f"memory must be bytes or a number with one of the units {units}")
    amount = float(match["number"]) * _UNITS[match["unit"]]
    if amount < 1:
        raise ValueError("memory must be at least one byte")
    return int(amount)


def _valid_amount(value: int | str) -> int | str:
    memory_bytes(value)
    return value


Memory = Annotated[Annotated[StrictInt, Field(ge=1)] | str, AfterValidator(_valid_amount)]
"""A memory amount as sent: bytes (an integer) or a unit string, checked, never rewritten."""
