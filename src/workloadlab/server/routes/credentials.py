"""``/credentials/``: named secrets for ``dr-credential`` environment variables.

No answer carries a value: ``keys`` lists the names of the keys a credential has. Each answer
also says ``credentialId`` and ``creationDate``, DataRobot's names of ``id`` and ``createdAt``,
so code written against DataRobot reads it unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import CreateCredential, Credential, Page
from workloadlab.server.context import Context, Limit, Offset
from workloadlab.server.operations import credentials
from workloadlab.server.problems import answers
from workloadlab.server.routing import api_router
from workloadlab.server.store import CredentialRow
from workloadlab.server.views import paged

router = api_router("/credentials", "credentials")


def credential_json(row: CredentialRow) -> dict[str, Any]:
    """A credential as the API returns it: no values, the names of its keys."""
    return {
        "id": row.id,
        "credentialId": row.id,
        "name": row.name,
        "credentialType": row.credential_type,
        "description": row.description,
        "keys": row.keys,
        "creator": row.creator,
        "createdAt": row.created_at,
        "creationDate": row.created_at,
    }


@router.post("", status_code=201, response_model=Credential, responses=answers(409))
async def create_credential(
    body: Annotated[CreateCredential, Body()], context: Context
) -> Response:
    """Store a credential: a unique ``name``, a ``credentialType`` and that type's keys
    (``apiToken`` for ``api_token``, ``user`` and ``password`` for ``basic``...). The answer
    names the keys, never their values."""
    row = credentials.create(context.store, context.actor, body)
    return JSONResponse(credential_json(row), status_code=201)


@router.get("", response_model=Page[Credential])
async def list_credentials(
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
    types: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """A page of credentials, newest first, of the ``types`` given (repeatable); no values."""
    rows, total = credentials.page(context.store, offset=offset, limit=limit, types=types)
    data = [credential_json(row) for row in rows]
    return paged(request, data, total=total, offset=offset, limit=limit)


@router.get("/{credential_id}", response_model=Credential)
async def get_credential(credential_id: str, context: Context) -> Response:
    """One credential: its name, type, description and the names of its keys; no values."""
    return JSONResponse(credential_json(credentials.find(context.store, credential_id)))


@router.delete("/{credential_id}", status_code=204)
async def delete_credential(credential_id: str, context: Context) -> Response:
    """Remove a credential. Artifacts may still refer to it: their workloads fail their next
    start (``422`` for a start asked for, ``errored`` for a restart), naming the variable."""
    credentials.delete(context.store, context.actor, credential_id)
    return Response(status_code=204)
