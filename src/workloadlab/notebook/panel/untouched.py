"""What the form did not change goes back as the server sent it.

The form shows values as text and reads them back through parsers, which normalise: a ``null``
probe becomes no key, ``1`` becomes ``1.0``, ``"512MB"`` becomes bytes, a variable's unknown keys
are not shown. :func:`keep_untouched` compares what the form reads now with what it read right
after loading: every key that reads the same is put back exactly as it came (value, ``null`` or
absence, key order), so a Save sends only the edits (``workload-api-current.md`` §8).
"""

from __future__ import annotations

from typing import Any


def keep_untouched(
    read: dict[str, Any], as_loaded: dict[str, Any], base: dict[str, Any]
) -> dict[str, Any]:
    """``read`` with each key that reads as it did when ``base`` was loaded put back as
    ``base`` has it (or left out, as there); environment variables one by one, by name."""
    kept = dict(read)
    for key in set(read) | set(as_loaded) | set(base):
        if read.get(key, _ABSENT) == as_loaded.get(key, _ABSENT):
            if key in base:
                kept[key] = base[key]
            else:
                kept.pop(key, None)
    variables = kept.get("environmentVars")
    if isinstance(variables, list) and variables is not base.get("environmentVars"):
        loaded = {v.get("name"): v for v in as_loaded.get("environmentVars") or ()}
        came = {v.get("name"): v for v in base.get("environmentVars") or ()}
        kept["environmentVars"] = [
            came[v.get("name")] if v.get("name") in came and loaded.get(v.get("name")) == v else v
            for v in variables
        ]
    ordered = {key: kept[key] for key in base if key in kept}  # in the order they came
    ordered.update((key, value) for key, value in kept.items() if key not in ordered)
    return ordered


_ABSENT = object()
