"""How the API's routes are built: JSON bodies read strictly, and one router per resource.

Request bodies that Python's JSON parser cannot read are ``422 json_invalid``, never ``400``.
FastAPI turns a :class:`json.JSONDecodeError` into a ``422`` with ``type: json_invalid``, but any
other failure of ``json.loads`` into a bare ``400 There was an error parsing the body``: bytes
that are not UTF-8, an integer of more than 4300 digits (Python's limit), nesting deeper than
the recursion limit. :class:`JSONBodyRoute` reads bodies with :class:`JSONBodyRequest`, which
reports all of them as the decode errors they are.

``Infinity``, ``NaN`` and ``1e400`` are valid to ``json.loads`` (it reads them as non-finite
floats) and are left to the models, which refuse them with the field's path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute


class JSONBodyRequest(Request):
    """A request whose ``json()`` fails only with :class:`json.JSONDecodeError`."""

    async def json(self) -> Any:
        """The body as JSON (parsed once)."""
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body)
            except json.JSONDecodeError:
                raise
            except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
                reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
                raise json.JSONDecodeError(reason[:200], "", 0) from None
        return self._json


class JSONBodyRoute(APIRoute):
    """A route whose handler reads the body through :class:`JSONBodyRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, given the stricter request class."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(JSONBodyRequest(request.scope, request.receive))

        return handle


def api_router(prefix: str, tag: str) -> APIRouter:
    """The router of one resource's routes (``/console/workloads``...), reading bodies strictly."""
    return APIRouter(prefix=prefix, tags=[tag], route_class=JSONBodyRoute)
