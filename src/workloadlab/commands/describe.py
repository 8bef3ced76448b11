"""Errors as one readable line, for the magics' ``UsageError`` and the panel's messages.

It sits below both the magics and the panel (the panel must not import the magics), and imports
the error classes and pydantic only when it describes an error, so ``%load_ext workloadlab``
stays fast.
"""

from __future__ import annotations

MAX_MESSAGE = 400


def one_line(exc: BaseException) -> str:
    """An error as one readable line: what failed, and which field or why."""
    from pydantic import ValidationError

    from workloadlab.commands.specs import describe_validation
    from workloadlab.errors import APIStatusError, WorkloadErroredError

    if isinstance(exc, APIStatusError):
        if exc.field_errors:
            first = exc.field_errors[0]
            where = (first.field or "").removeprefix("body.")
            more = f" (and {len(exc.field_errors) - 1} more)" if len(exc.field_errors) > 1 else ""
            text = f"field `{where}`: {first.message}{more}" if where else first.message + more
        else:
            text = exc.detail or exc.reason
        text = f"{text} ({exc.status_code} from {exc.method} {_path_of(exc.url)})"
    elif isinstance(exc, WorkloadErroredError):
        text = str(exc).splitlines()[0]
        if exc.log_tail:
            text += f" — last log line: {exc.log_tail[-1]}"
    elif isinstance(exc, ValidationError):
        text = describe_validation(exc)
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def _path_of(url: str) -> str:
    marker = "/api/v2"
    return url.split(marker, 1)[1] if marker in url else url
