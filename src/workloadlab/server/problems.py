"""Domain errors of the local server and the one handler that turns them into HTTP answers.

Route code raises these; :func:`install_handlers` maps them (and FastAPI's request validation
errors) to the bodies of ``workload-api.md`` §5. Validation errors keep ``loc``, ``msg`` and
``type`` but never echo the rejected ``input``: it may be a secret environment value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send


class Problem(Exception):
    """An error with an HTTP status and a ``detail`` for the client."""

    status_code = 400

    def __init__(self, detail: str | list[dict[str, Any]]) -> None:
        super().__init__(detail if isinstance(detail, str) else "invalid request")
        self.detail = detail


class NotFound(Problem):
    """The resource does not exist (``404``)."""

    status_code = 404


class Forbidden(Problem):
    """The resource may not be changed that way (``403``)."""

    status_code = 403


class Conflict(Problem):
    """The request conflicts with the resource's state (``409``)."""

    status_code = 409


class Invalid(Problem):
    """Validation failed or the transition is illegal (``422``)."""

    status_code = 422

    @classmethod
    def at(cls, loc: list[str | int], msg: str, type: str = "value_error") -> Invalid:
        """A ``422`` about one field, FastAPI style."""
        return cls([{"loc": loc, "msg": msg, "type": type}])


class Unavailable(Problem):
    """The workload cannot serve the request now (``503``)."""

    status_code = 503


def _clean(errors: Any) -> list[dict[str, Any]]:
    cleaned = []
    for error in errors:
        msg = str(error.get("msg", "invalid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        cleaned.append({"loc": list(error.get("loc", [])), "msg": msg, "type": error.get("type")})
    return cleaned


def install_handlers(app: FastAPI) -> None:
    """Answer domain errors and validation errors with the API's error bodies."""

    async def problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": _clean(exc.errors())}, status_code=422)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    app.add_exception_handler(Problem, problem)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)


async def send_problem(
    send: Send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Answer ``{"detail": ...}`` with ``status`` from a pure ASGI middleware (in front of the
    app, where the handlers above do not reach)."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
