"""Domain errors of the local server and the one handler that turns them into HTTP answers.

Operations (:mod:`workloadlab.server.operations`) raise these; :func:`install_handlers` maps
them (and FastAPI's request validation errors) to the bodies of ``workload-api.md`` §5.
Validation errors keep ``loc``, ``msg`` and ``type`` but never echo the rejected ``input``: it
may be a secret environment value.

Storage trouble is not a server bug and is not answered as one (``500``):

- a full disk (SQLite's ``SQLITE_FULL``, ``ENOSPC``, ``EDQUOT``) is ``507 Insufficient
  Storage`` naming the data dir; SQLite rolls the transaction back, reads go on, and writes
  work again as soon as there is space;
- a database locked by another process for longer than the busy timeout (``SQLITE_BUSY``,
  ``SQLITE_LOCKED``) is ``503`` with ``Retry-After``.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from workloadlab.server.storage import StorageTrouble, storage_trouble

logger = logging.getLogger("workloadlab.server")

RETRY_AFTER_LOCKED = 1
"""Seconds a client waits before it sends again a request that met a locked database."""


class ValidationIssue(BaseModel):
    """One problem of a ``422``: where (``["body", "spec", ..., "port"]``), what, which kind."""

    loc: list[str | Annotated[int, Field(ge=0, le=2**31 - 1)]]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer's body: a message, or (``422``) the list of problems."""

    detail: str | list[ValidationIssue]


DESCRIPTIONS = {
    304: "Not modified: it still matches `If-None-Match`.",
    401: "Missing or invalid API token.",
    403: "Not allowed in the resource's state (a registered artifact's spec is frozen).",
    404: "No such resource.",
    409: "Conflicts with the resource's state.",
    413: "The request body is larger than the server accepts (`--max-body-bytes`).",
    422: "Invalid request: the body or a parameter, with the field path.",
    503: "Unavailable for now: the database is locked by another process (`Retry-After`).",
    507: "Insufficient storage: the disk that holds the data dir is full; nothing was stored.",
}


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route for the error codes it answers itself, with the error body
    (the codes the server adds to every route are added to the document in one place)."""
    return {code: {"model": ErrorBody, "description": DESCRIPTIONS[code]} for code in codes}


class Problem(Exception):
    """An error with an HTTP status and a ``detail`` for the client."""

    status_code = 400

    def __init__(
        self, detail: str | list[dict[str, Any]], *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail if isinstance(detail, str) else "invalid request")
        self.detail = detail
        self.headers = headers


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


class BadGateway(Problem):
    """The workload's app broke the exchange: closed, reset, or not HTTP (``502``)."""

    status_code = 502


class GatewayTimeout(Problem):
    """The workload's app did not answer in time (``504``)."""

    status_code = 504


def _clean(errors: Any) -> list[dict[str, Any]]:
    cleaned = []
    for error in errors:
        msg = str(error.get("msg", "invalid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        cleaned.append({"loc": list(error.get("loc", [])), "msg": msg, "type": error.get("type")})
    return cleaned


def allowed_methods(request: Request) -> set[str]:
    """Every method the API document lists for the request's path (``HEAD`` with ``GET``).

    Starlette's ``405`` names only the methods of the first route that matches the path, while
    each method of a path is a route of its own here."""
    methods: set[str] = set()
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    for template, operations in paths.items():
        pattern = re.sub(r"\\\{path\\\}", ".*", re.escape(template))  # the invoke proxy's rest
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        if re.fullmatch(pattern, request.url.path.rstrip("/") or "/"):
            methods |= {method.upper() for method in operations}
    return methods | ({"HEAD"} if "GET" in methods else set())


def install_handlers(app: FastAPI, data_dir: Path) -> None:
    """Answer domain errors, validation errors and storage trouble (in ``data_dir``) with the
    API's error bodies."""

    async def problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": _clean(exc.errors())}, status_code=422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names only the first route of the path's methods
            headers["Allow"] = ", ".join(sorted(allowed_methods(request)))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    async def storage(request: Request, exc: Exception) -> JSONResponse:
        trouble = storage_trouble(exc)
        if trouble is None:
            raise exc  # a bug: a 500, with its traceback in the log
        logger.warning("%s %s: %s (data dir %s)", request.method, request.url.path, exc, data_dir)
        if trouble is StorageTrouble.DISK_FULL:
            detail = (
                f"Insufficient storage: the disk that holds the data dir {data_dir} is full"
                f" ({exc}); the change was not stored. Free some space and send it again."
            )
            return JSONResponse({"detail": detail}, status_code=507)
        detail = (
            f"The database in {data_dir} is locked by another process ({exc});"
            " nothing was changed: try again in a moment."
        )
        headers = {"Retry-After": str(RETRY_AFTER_LOCKED)}
        return JSONResponse({"detail": detail}, status_code=503, headers=headers)

    app.add_exception_handler(Problem, problem)
    app.add_exception_handler(sqlite3.OperationalError, storage)
    app.add_exception_handler(OSError, storage)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)


async def send_problem(
    send: Send,
    status: int,
    detail: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    websocket: bool = False,
) -> None:
    """Answer ``{"detail": ...}`` with ``status`` from a pure ASGI middleware (in front of the
    app, where the handlers above do not reach); ``websocket``: as the refusal of an upgrade
    (ASGI's ``websocket.http.response`` extension)."""
    body = json.dumps({"detail": detail}).encode()
    kind = "websocket.http.response" if websocket else "http.response"
    await send(
        {
            "type": f"{kind}.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": f"{kind}.body", "body": body})


async def refuse_upgrade(
    scope: Scope, send: Send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Refuse a WebSocket upgrade with ``status`` and ``{"detail": ...}``; with a bare close
    (which uvicorn answers ``403``) where the server cannot answer an upgrade in HTTP."""
    if "websocket.http.response" in scope.get("extensions", {}):
        await send_problem(send, status, detail, headers, websocket=True)
    else:
        await send({"type": "websocket.close", "code": 1008})
