"""How the API's routes are built: JSON bodies read strictly, and one router per resource.

Request bodies that Python's JSON parser cannot read are ``422 json_invalid``, never ``400``.
FastAPI turns a :class:`json.JSONDecodeError` into a ``422`` with ``type: json_invalid``, but any
other failure of ``json.loads`` into a bare ``400 There was an error parsing the body``: bytes
that are not UTF-8, an integer of more than 4300 digits (Python's limit), nesting deeper than
the recursion limit. :class:`JSONBodyRoute` reads bodies with :class:`JSONBodyRequest`, which
reports all of them as the decode errors they are.

``Infinity``, ``NaN`` and ``1e400`` are valid to ``json.loads`` (it reads them as non-finite
floats) and are left to the models, which refuse them with the field's path.

A query parameter that takes one value (``search``, ``limit``...) given twice is ``422`` at
``["query", name]``: FastAPI would keep one and drop the other without a word. List parameters
(``status``, ``artifactId``) stay repeatable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
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
    """A route whose handler reads the body through :class:`JSONBodyRequest`, and refuses a
    query parameter of one value given more than once."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, given the stricter request class."""
        handler = super().get_route_handler()
        single = _single_valued_query(self.dependant)

        async def handle(request: Request) -> Response:
            if single:
                _refuse_repeats(request, single)
            return await handler(JSONBodyRequest(request.scope, request.receive))

        return handle


REPEATED = "given more than once: this parameter takes one value"


def _refuse_repeats(request: Request, single: frozenset[str]) -> None:
    """``422`` for each query parameter in ``single`` that the request gives twice or more
    (FastAPI would take one of them and drop the others without a word)."""
    seen: set[str] = set()
    repeated: list[str] = []
    for name, _ in request.query_params.multi_items():
        if name in single and name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": REPEATED, "type": "value_error"} for name in repeated]
        )


def _single_valued_query(dependant: Dependant) -> frozenset[str]:
    """The names of the query parameters of a route (and its dependencies) that take one
    value (not a list)."""
    names = {
        field.alias
        for field in dependant.query_params
        if not _takes_many(field.field_info.annotation)
    }
    for sub in dependant.dependencies:
        names |= _single_valued_query(sub)
    return frozenset(names)


def _takes_many(annotation: Any) -> bool:
    """Whether a parameter's type is a list (or a union with one, or an ``Annotated`` one)."""
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset, Sequence):
        return True
    if origin in (Union, UnionType, Annotated):
        return any(_takes_many(arg) for arg in get_args(annotation))
    return False


def api_router(prefix: str, tag: str) -> APIRouter:
    """The router of one resource's routes (``/console/workloads``...), reading bodies strictly."""
    return APIRouter(prefix=prefix, tags=[tag], route_class=JSONBodyRoute)
