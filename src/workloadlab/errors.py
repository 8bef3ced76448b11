"""The exceptions workloadlab raises, one class per thing a caller may want to catch.

The tree::

    WorkloadlabError
    ├── ConfigError                    no endpoint/token found, a bad drconfig.yaml, no local server
    ├── ForeignHostError (ValueError)  a next-page link that points at another host (refused)
    ├── NotSupportedError              a call the server's API generation lacks (says what to do)
    ├── WorkloadErroredError           the workload failed (`errored`, `terminated`, `failed`)
    │                                  while it was being waited for
    ├── WaitTimeoutError (TimeoutError) the awaited status did not come in time
    └── APIError                       anything that went wrong talking to the API
        ├── APIConnectionError         no answer: connection refused, reset, DNS, ...
        │   └── APITimeoutError        no answer in time
        ├── APIResponseValidationError an answer this package cannot read (not JSON, wrong shape)
        └── APIStatusError             an HTTP error status; ``status_code``, ``detail``,
            │                          ``field_errors``, ``method``, ``url``
            ├── BadRequestError            400
            ├── AuthenticationError        401
            ├── PermissionDeniedError      403 (e.g. changing a registered artifact's spec)
            ├── NotFoundError              404
            ├── ConflictError              409 (e.g. starting a workload that is running)
            ├── UnprocessableEntityError   422 (validation, illegal transition)
            ├── RateLimitError             429
            └── ServerError                5xx

Messages are written for a notebook: what was asked (method and URL), what the server said, and
which field. No exception holds a request, its headers or the token: only method, URL, status,
response headers and body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workloadlab.models import StatusDetails
    from workloadlab.models.neutral import Workload

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "FieldError",
    "ForeignHostError",
    "NotFoundError",
    "NotSupportedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "WorkloadErroredError",
    "WorkloadlabError",
]

_BODY_EXCERPT = 500


class WorkloadlabError(Exception):
    """The base of every exception this package raises on purpose."""


class ConfigError(WorkloadlabError):
    """No usable endpoint and token, or a configuration source that cannot be read."""


class ForeignHostError(WorkloadlabError, ValueError):
    """A URL from a response (a next-page link) points at another host than the endpoint."""


class NotSupportedError(WorkloadlabError):
    """The call needs a route the server's generation of the Workload API lacks (deployments on
    the current generation, promote on v2.41, ...); the message names the other way to do it."""


# ---------------------------------------------------------------------------------------------
# Talking to the API


class APIError(WorkloadlabError):
    """A request to the API failed; ``method`` and ``url`` say which one."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class APIConnectionError(APIError):
    """The server could not be reached or dropped the connection."""

    def __init__(self, *, method: str, url: str, reason: str) -> None:
        self.reason = reason
        super().__init__(f"{method} {url} failed: {reason}", method=method, url=url)


class APITimeoutError(APIConnectionError):
    """The server did not answer in time."""


class APIResponseValidationError(APIError):
    """The server answered with a body this package cannot read."""


@dataclass(frozen=True)
class FieldError:
    """One problem the server found with one field of the request (``field`` may be unknown)."""

    field: str | None
    message: str
    code: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class APIStatusError(APIError):
    """The server answered with an error status (4xx or 5xx)."""

    status_code: int

    def __init__(
        self,
        *,
        method: str,
        url: str,
        status_code: int,
        detail: str,
        field_errors: Sequence[FieldError] = (),
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.field_errors = list(field_errors)
        self.body = body
        self.headers = dict(headers or {})
        super().__init__(self._compose(method, url), method=method, url=url)

    @property
    def reason(self) -> str:
        """The standard reason phrase of the status code (``Not Found``)."""
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    def _compose(self, method: str, url: str) -> str:
        head = f"{method} {url} failed with {self.status_code} {self.reason}".rstrip()
        if self.field_errors:
            lines = [f"{head}:"]
            lines += [f"  - {error}" for error in self.field_errors]
            return "\n".join(lines)
        hint = _HINTS.get(self.status_code, "")
        return f"{head}: {self.detail}{hint}" if self.detail else f"{head}{hint}"


class BadRequestError(APIStatusError):
    """400: the request is malformed."""

    status_code = 400


class AuthenticationError(APIStatusError):
    """401: the token is missing or wrong."""

    status_code = 401


class PermissionDeniedError(APIStatusError):
    """403: not allowed, e.g. changing the spec of a registered artifact."""

    status_code = 403


class NotFoundError(APIStatusError):
    """404: no such workload, artifact or deployment."""

    status_code = 404


class ConflictError(APIStatusError):
    """409: the resource's state does not allow it (never retried)."""

    status_code = 409


class UnprocessableEntityError(APIStatusError):
    """422: the body is invalid or the transition illegal (``field_errors`` says where)."""

    status_code = 422


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` holds the server's advice in seconds, if any."""

    status_code = 429

    @property
    def retry_after(self) -> float | None:
        """The ``Retry-After`` header in seconds, when the server sent one in seconds."""
        try:
            return float(self.headers.get("retry-after", ""))
        except ValueError:
            return None


class ServerError(APIStatusError):
    """5xx: the server (or a gateway in front of it) failed."""

    status_code = 500


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_HINTS = {
    401: " (check the token: DATAROBOT_API_TOKEN, drconfig.yaml or the local server's server.json)",
}


def field_path(loc: Sequence[Any]) -> str:
    """``("spec", "containerGroups", 0, "port")`` as ``spec.containerGroups[0].port``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _format_loc(loc: Sequence[Any]) -> str:
    """``["body", "spec", "containerGroups", 0, "port"]`` → ``spec.containerGroups[0].port``."""
    parts = list(loc)
    if parts and parts[0] == "body" and len(parts) > 1:
        parts = parts[1:]
    return field_path(parts)


def _field_error(item: Any) -> FieldError:
    """One entry of a ``detail`` list, in any of the shapes servers send."""
    if isinstance(item, Mapping):
        message = item.get("msg") or item.get("message") or item.get("detail")
        code = item.get("type") or item.get("code")
        if "loc" in item and isinstance(item["loc"], Sequence) and not isinstance(item["loc"], str):
            field: str | None = _format_loc(item["loc"]) or None
        else:
            raw = item.get("path") or item.get("field") or item.get("loc")
            field = str(raw) if raw else None
        return FieldError(
            field=field,
            message=str(message) if message is not None else json.dumps(item),
            code=str(code) if code is not None else None,
        )
    return FieldError(field=None, message=str(item))


def parse_error_body(body: Any) -> tuple[str, list[FieldError]]:
    """The server's message and the field errors in an error body of any known shape.

    Shapes (``workload-api.md`` §5): ``{"detail": "..."}``; ``{"detail": [{"loc", "msg",
    "type"}]}`` (FastAPI); ``{"detail": [{"path", "message", "code"}]}``; ``{"detail": ["..."]}``;
    the gateway's ``{"message": "..."}``; and anything else, shown as text.
    """
    if isinstance(body, Mapping):
        detail = body.get("detail")
        if detail is None:
            detail = body.get("message", body.get("error"))
        if isinstance(detail, str):
            return detail, []
        if isinstance(detail, list):
            errors = [_field_error(item) for item in detail]
            return "; ".join(str(error) for error in errors), [e for e in errors if e.field]
        if isinstance(detail, Mapping):
            error = _field_error(detail)
            return str(error), [error] if error.field else []
        if detail is not None:
            return str(detail), []
        return json.dumps(body)[:_BODY_EXCERPT], []
    if isinstance(body, list):
        errors = [_field_error(item) for item in body]
        return "; ".join(str(error) for error in errors), [e for e in errors if e.field]
    if body is None:
        return "", []
    text = str(body).strip()
    return (text[:_BODY_EXCERPT] + "…" if len(text) > _BODY_EXCERPT else text), []


def status_error(
    *,
    method: str,
    url: str,
    status_code: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
) -> APIStatusError:
    """The exception for an error response: the class of its status, its parsed ``detail``."""
    detail, field_errors = parse_error_body(body)
    cls = _STATUS_ERRORS.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else APIStatusError
    return cls(
        method=method,
        url=url,
        status_code=status_code,
        detail=detail,
        field_errors=field_errors,
        body=body,
        headers=headers,
    )


# ---------------------------------------------------------------------------------------------
# Waiting for a workload


class WorkloadErroredError(WorkloadlabError):
    """The workload went ``errored`` (or ``terminated``, ``failed``: a status that fails a
    wait); ``status_details`` and ``log_tail`` say why."""

    def __init__(self, workload: Workload, *, waiting_for: str, log_tail: Sequence[str]) -> None:
        self.workload = workload
        self.waiting_for = waiting_for
        self.log_tail = list(log_tail)
        details = workload.status_details
        reason = details.message if details is not None and details.message else None
        head = (
            f"workload {workload.name!r} ({workload.id}) went {workload.status} "
            f"while waiting for it to be {waiting_for}"
        )
        lines = [f"{head}: {reason}" if reason else head]
        if self.log_tail:
            lines.append("last log lines:")
            lines += [f"  {line}" for line in self.log_tail]
        super().__init__("\n".join(lines))

    @property
    def status_details(self) -> StatusDetails | None:
        """The workload's ``statusDetails`` when it went errored."""
        return self.workload.status_details


class WaitTimeoutError(WorkloadlabError, TimeoutError):
    """The workload did not reach the awaited status in time; ``workload`` is the last seen."""

    def __init__(self, workload: Workload | None, *, waiting_for: str, timeout: float) -> None:
        self.workload = workload
        self.waiting_for = waiting_for
        self.timeout = timeout
        if workload is None:
            message = f"timed out after {timeout:g} s waiting for {waiting_for}"
        else:
            message = (
                f"workload {workload.name!r} ({workload.id}) is still {workload.status} "
                f"after {timeout:g} s waiting for it to be {waiting_for}"
            )
        super().__init__(message)
