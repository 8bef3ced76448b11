"""Credentials (``/credentials/``): secrets stored once, referenced by environment variables.

A ``dr-credential`` environment variable names a credential and one of its keys; the server puts
that key's value into the environment at each start and never returns it. The request bodies
(one model per ``credentialType``, told apart by that field) hold the values as
:class:`~pydantic.SecretStr`, so a repr, a log record or a traceback shows ``**********``;
:meth:`NewCredentialBody.to_wire` is the one place that reveals them, for sending. The answer,
:class:`Credential`, never has values: ``keys`` lists the names of the keys that are set.

Keys per type (``workload-api-current.md`` §7; optional ones in brackets): ``api_token``
``apiToken``; ``basic`` ``user``, ``password``; ``bearer`` ``token``; ``oauth`` ``token``,
[``refreshToken``]; ``s3`` ``awsAccessKeyId``, ``awsSecretAccessKey``, [``awsSessionToken``];
``gcp`` ``gcpKey`` (the key file's JSON text; an object is taken as its JSON text);
``azure`` ``azureConnectionString``; ``azure_service_principal`` ``azureTenantId``,
``clientId``, ``clientSecret``; ``databricks_access_token_account`` ``databricksAccessToken``;
``snowflake_key_pair_user_account`` ``user``, ``privateKeyStr``, [``passphrase``].

DataRobot answers with ``credentialId`` and ``creationDate``; the contract (and the local server,
which sends both spellings) with ``id`` and ``createdAt``: :class:`Credential` reads either.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    WithJsonSchema,
)

from workloadlab.models.base import RequestModel, Text, WireModel

MAX_SECRET_LENGTH = 65_536
"""The longest value of a credential's key (a private key is a few KiB)."""
MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 10_000


class CredentialType(StrEnum):
    """The kinds of credential the local server stores (DataRobot has more)."""

    API_TOKEN = "api_token"
    BASIC = "basic"
    BEARER = "bearer"
    OAUTH = "oauth"
    S3 = "s3"
    GCP = "gcp"
    AZURE = "azure"
    AZURE_SERVICE_PRINCIPAL = "azure_service_principal"
    DATABRICKS_ACCESS_TOKEN_ACCOUNT = "databricks_access_token_account"
    SNOWFLAKE_KEY_PAIR_USER_ACCOUNT = "snowflake_key_pair_user_account"


def _no_nul(value: SecretStr) -> SecretStr:
    if "\0" in value.get_secret_value():
        raise ValueError("a credential value cannot hold a NUL character")
    return value


def _json_text(value: Any) -> Any:
    """A GCP key given as the key file's object: its JSON text."""
    return json.dumps(value) if isinstance(value, dict) else value


Secret = Annotated[
    SecretStr, Field(min_length=1, max_length=MAX_SECRET_LENGTH), AfterValidator(_no_nul)
]
"""A credential's value: never shown (``**********`` in reprs), without NUL characters."""


class NewCredentialBody(RequestModel):
    """What every ``POST /credentials/`` body has: a unique name and a description."""

    name: Text = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    description: Text = Field(default="", max_length=MAX_DESCRIPTION_LENGTH)

    def secrets(self) -> dict[str, str]:
        """The values of the keys that are set, by wire name (``apiToken``...)."""
        values: dict[str, str] = {}
        for field, info in type(self).model_fields.items():
            value = getattr(self, field)
            if isinstance(value, SecretStr):
                values[info.alias or field] = value.get_secret_value()
        return values

    def to_wire(self) -> dict[str, Any]:
        """The body to send, values revealed (the only place that reveals them)."""
        return {**self.model_dump(mode="json", by_alias=True, exclude_unset=True), **self.secrets()}


class ApiTokenCredentialBody(NewCredentialBody):
    """An API token."""

    credential_type: Literal["api_token"]
    api_token: Secret


class BasicCredentialBody(NewCredentialBody):
    """A user name and password."""

    credential_type: Literal["basic"]
    user: Secret
    password: Secret


class BearerCredentialBody(NewCredentialBody):
    """A bearer token."""

    credential_type: Literal["bearer"]
    token: Secret


class OAuthCredentialBody(NewCredentialBody):
    """An OAuth token and, optionally, its refresh token."""

    credential_type: Literal["oauth"]
    token: Secret
    refresh_token: Secret | None = None


class S3CredentialBody(NewCredentialBody):
    """AWS keys (and, optionally, a session token)."""

    credential_type: Literal["s3"]
    aws_access_key_id: Secret
    aws_secret_access_key: Secret
    aws_session_token: Secret | None = None


class GcpCredentialBody(NewCredentialBody):
    """A Google Cloud service account key (the key file's JSON)."""

    credential_type: Literal["gcp"]
    gcp_key: Annotated[
        Secret,
        BeforeValidator(_json_text),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "minLength": 1, "format": "password", "writeOnly": True},
                    {"type": "object"},
                ],
                "description": "The key file's JSON: its text, or the object.",
            }
        ),
    ]


class AzureCredentialBody(NewCredentialBody):
    """An Azure storage connection string."""

    credential_type: Literal["azure"]
    azure_connection_string: Secret


class AzureServicePrincipalCredentialBody(NewCredentialBody):
    """An Azure service principal."""

    credential_type: Literal["azure_service_principal"]
    azure_tenant_id: Secret
    client_id: Secret
    client_secret: Secret


class DatabricksCredentialBody(NewCredentialBody):
    """A Databricks access token."""

    credential_type: Literal["databricks_access_token_account"]
    databricks_access_token: Secret


class SnowflakeKeyPairCredentialBody(NewCredentialBody):
    """A Snowflake user with a private key (and, optionally, its passphrase)."""

    credential_type: Literal["snowflake_key_pair_user_account"]
    user: Secret
    private_key_str: Secret
    passphrase: Secret | None = None


CREDENTIAL_BODIES: dict[CredentialType, type[NewCredentialBody]] = {
    CredentialType.API_TOKEN: ApiTokenCredentialBody,
    CredentialType.BASIC: BasicCredentialBody,
    CredentialType.BEARER: BearerCredentialBody,
    CredentialType.OAUTH: OAuthCredentialBody,
    CredentialType.S3: S3CredentialBody,
    CredentialType.GCP: GcpCredentialBody,
    CredentialType.AZURE: AzureCredentialBody,
    CredentialType.AZURE_SERVICE_PRINCIPAL: AzureServicePrincipalCredentialBody,
    CredentialType.DATABRICKS_ACCESS_TOKEN_ACCOUNT: DatabricksCredentialBody,
    CredentialType.SNOWFLAKE_KEY_PAIR_USER_ACCOUNT: SnowflakeKeyPairCredentialBody,
}
"""The body model of each credential type."""

CreateCredential = Annotated[
    ApiTokenCredentialBody
    | BasicCredentialBody
    | BearerCredentialBody
    | OAuthCredentialBody
    | S3CredentialBody
    | GcpCredentialBody
    | AzureCredentialBody
    | AzureServicePrincipalCredentialBody
    | DatabricksCredentialBody
    | SnowflakeKeyPairCredentialBody,
    Field(discriminator="credential_type"),
]
"""Body of ``POST /credentials/``: the model of its ``credentialType``."""


_BODY = TypeAdapter[NewCredentialBody](
    CreateCredential, config=ConfigDict(hide_input_in_errors=True)
)


def parse_credential_body(data: Any) -> NewCredentialBody:
    """A ``POST /credentials/`` body (a dict with camelCase or snake_case keys, or a model)
    checked against the model of its ``credentialType``; a ``ValidationError`` never shows the
    values."""
    if isinstance(data, NewCredentialBody):
        return data
    return _BODY.validate_python(data)


def credential_keys(credential_type: CredentialType) -> dict[str, bool]:
    """The keys of a credential type (wire names), each with whether it is required."""
    model = CREDENTIAL_BODIES[credential_type]
    return {
        info.alias or name: info.is_required()
        for name, info in model.model_fields.items()
        if name not in NewCredentialBody.model_fields and name != "credential_type"
    }


class Credential(WireModel):
    """A stored credential, without its values: ``keys`` names the keys that are set."""

    id: str = Field(validation_alias=AliasChoices("id", "credentialId"))
    name: str
    credential_type: str
    """One of :class:`CredentialType` here; DataRobot has more."""
    description: str | None = ""
    keys: list[str] = Field(default_factory=list)
    created_at: dt.datetime | None = Field(
        default=None, validation_alias=AliasChoices("createdAt", "creationDate")
    )
