"""A workload's ``GET`` that can wait for a change, the same in both API generations.

Every answer carries an ``ETag``; ``If-None-Match`` answers ``304`` while nothing changed and,
with ``Prefer: wait=N`` (a local-server extension), waits up to N seconds for the next change
(see :mod:`workloadlab.server.changes`). ``Preference-Applied`` is on every answer to a request
that asked, which is how a client tells this server from one that ignores the header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from workloadlab.server.changes import Rendered, matches, preferred_wait, wait_for_change
from workloadlab.server.context import ServerContext
from workloadlab.server.problems import DESCRIPTIONS

WAITING_GET: dict[str, Any] = {
    "responses": {304: {"description": DESCRIPTIONS[304]}},
    "openapi_extra": {
        "parameters": [
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The `ETag` of the workload as last seen: `304` if unchanged.",
            },
            {
                "name": "Prefer",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "`wait=N` (RFC 7240; at most 60): with `If-None-Match`, wait up"
                " to N seconds for the workload to change, and answer as soon as it does"
                " (`200`), or with `304` after N seconds. A local-server extension: one"
                " request replaces a polling loop.",
            },
        ]
    },
}
"""The route arguments (``**WAITING_GET``) that document a waiting ``GET``."""


async def waiting_get(
    request: Request, context: ServerContext, render: Callable[[], Rendered]
) -> Response:
    """The answer to a ``GET`` of what ``render`` renders (it raises ``404`` when that is
    gone): ``200``, ``304``, or ``200`` as soon as it changes within the preferred wait."""
    rendered = render()
    headers = {"ETag": rendered.etag}
    wait = preferred_wait(request.headers.get("prefer"))
    if wait is not None:  # said on every answer, so a client learns it can wait here
        headers["Preference-Applied"] = f"wait={wait:g}"
    seen = request.headers.get("if-none-match")
    if seen is None or not matches(seen, rendered.etag):
        return Response(rendered.body, media_type="application/json", headers=headers)
    if wait is not None:
        changed = await wait_for_change(request, context.changes, render, rendered.etag, wait)
        if changed is not None:
            headers["ETag"] = changed.etag
            return Response(changed.body, media_type="application/json", headers=headers)
    return Response(status_code=304, headers=headers)
