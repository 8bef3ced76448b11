"""``client.credentials``: secrets stored on the server (``/credentials/``), for ``dr-credential``
environment variables. What the server answers never carries a value, and what this resource
keeps of one it sends is a :class:`~pydantic.SecretStr` (``**********`` in any repr)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, overload

from workloadlab.client._http import Requester
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.resources._base import Resource, list_params
from workloadlab.models import Credential, CredentialType, NewCredentialBody, parse_credential_body


class Credentials(Resource):
    """Credentials: create one, then refer to it from a container's environment as
    ``{"source": "dr-credential", "name": "GH_TOKEN", "drCredentialId": credential.id,
    "key": "apiToken"}``; the server puts the value there at each start."""

    @overload
    async def create(self, body: NewCredentialBody | Mapping[str, Any], /) -> Credential: ...

    @overload
    async def create(
        self,
        /,
        *,
        name: str,
        credential_type: CredentialType | str,
        description: str | None = None,
        **keys: str,
    ) -> Credential: ...

    async def create(
        self,
        body: NewCredentialBody | Mapping[str, Any] | None = None,
        /,
        *,
        name: str | None = None,
        credential_type: CredentialType | str | None = None,
        description: str | None = None,
        **keys: str,
    ) -> Credential:
        """Store a credential: ``create(name="gh", credential_type="api_token",
        api_token=...)`` (the type's keys as keyword arguments, snake_case or camelCase), or a
        body. A wrong type or key raises pydantic's ``ValidationError`` before anything is
        sent (it never shows a value); a name in use, ``ConflictError``."""
        if body is None:
            fields = {"name": name, "credentialType": credential_type, "description": description}
            body = {key: value for key, value in fields.items() if value is not None} | keys
        elif name is not None or credential_type is not None or description is not None or keys:
            raise TypeError("give either a body or keyword arguments, not both")
        payload = parse_credential_body(body).to_wire()
        response = await self._requester.request(
            "POST", await self._url("credentials"), json=payload, retry=False
        )
        return Requester.parse(Credential, response)

    def list(
        self,
        *,
        types: CredentialType | str | Collection[CredentialType | str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> AsyncPager[Credential]:
        """Credentials, newest first, of the given ``types``; ``await`` or ``async for``."""
        params = list_params(types=types, limit=limit, offset=offset)
        return self._pager(Credential, "credentials", params)

    async def get(self, id: str) -> Credential:
        """One credential: its name, type, description and the names of its keys."""
        return await self._get(Credential, "credential", id)

    async def delete(self, id: str) -> None:
        """Delete the credential. Artifacts that refer to it stay; their workloads fail their
        next start, naming the variable."""
        await self._requester.request("DELETE", await self._url("credential", id))
