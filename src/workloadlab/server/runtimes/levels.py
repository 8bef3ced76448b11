"""The level of a log line, guessed from its text: what a workload's own logger said it was.

A line says its level in a few common ways: an upper-case word near its start (Python's
``logging``, most frameworks), an any-case word that opens it (``error: ...``, ``[warn] ...``), a
field of a structured line (JSON ``"level"``, logfmt ``level=``), or Python's warnings module.
A line that says nothing gets its stream's default (stdout: info, stderr: error).
"""

from __future__ import annotations

import re

_LEVELS = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "notice": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "critical": "critical",
    "fatal": "critical",
    "panic": "critical",
}
_LEVEL_WORD = re.compile(
    r"(?<![A-Za-z0-9_])(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL|PANIC)(?![A-Za-z0-9_])"
)
"""An upper-case level word near the start: ``WARNING:root:...``, ``... - ERROR - ...``."""
_LEVEL_AT_START = re.compile(
    r"^\s*\[?(trace|debug|info|notice|warn|warning|error|critical|fatal|panic)\s*[]:]", re.I
)
"""Any-case level word that opens the line: ``error: ...``, ``[warn] ...``."""
_LEVEL_FIELD = re.compile(
    r"""(?:"(?:level|levelname|severity)"\s*:\s*"|\blevel=)([A-Za-z]+)""", re.I
)
"""Structured logs: ``{"level": "warning", ...}`` or logfmt ``level=warn``."""
_PYTHON_WARNING = re.compile(r"\b[A-Z][A-Za-z]*Warning: ")
"""Python's warnings module: ``app.py:3: DeprecationWarning: ...``."""
_LEVEL_SEARCH_CHARS = 64


_HINTS = ("trace", "debug", "info", "notice", "warn", "error", "critical", "fatal", "panic")
"""Every way of stating a level contains one of these (lower-cased): a line without any (most
of a flood) is told apart in about a microsecond instead of four regular expressions' worth."""


def line_level(message: str, default: str) -> str:
    """The level a line states near its start (lower-case), else ``default``."""
    head = message[: _LEVEL_SEARCH_CHARS * 2]
    lowered = head.lower()
    for hint in _HINTS:
        if hint in lowered:
            break
    else:
        return default
    for pattern in (_LEVEL_AT_START, _LEVEL_FIELD):
        match = pattern.search(head)
        if match and match.group(1).lower() in _LEVELS:
            return _LEVELS[match.group(1).lower()]
    match = _LEVEL_WORD.search(message[:_LEVEL_SEARCH_CHARS])
    if match:
        return _LEVELS[match.group(1).lower()]
    if _PYTHON_WARNING.search(head):
        return "warning"
    return default
