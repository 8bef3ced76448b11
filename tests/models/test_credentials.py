"""Credential bodies (one model per credentialType) and the answer without values."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from workloadlab.models import (
    Credential,
    CredentialType,
    credential_keys,
    parse_credential_body,
    parse_response,
)

SECRET = "sk-live-TESTSECRET-0123456789abcdef"


def test_a_body_hides_its_values_until_it_is_sent(caplog: pytest.LogCaptureFixture) -> None:
    body = parse_credential_body(
        {"name": "gh", "credentialType": "api_token", "apiToken": SECRET, "description": "d"}
    )
    logging.getLogger("test").warning("body: %r %s", body, body)
    assert SECRET not in repr(body) + str(body) + caplog.text
    assert body.secrets() == {"apiToken": SECRET}
    assert body.to_wire() == {
        "name": "gh",
        "credentialType": "api_token",
        "apiToken": SECRET,
        "description": "d",
    }


def test_snake_case_keys_and_optional_keys() -> None:
    body = parse_credential_body(
        {
            "name": "aws",
            "credential_type": "s3",
            "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "aws_secret_access_key": SECRET,
        }
    )
    assert body.secrets() == {
        "awsAccessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "awsSecretAccessKey": SECRET,
    }


def test_a_gcp_key_object_is_taken_as_its_json_text() -> None:
    body = parse_credential_body(
        {"name": "g", "credentialType": "gcp", "gcpKey": {"type": "service_account"}}
    )
    assert body.secrets() == {"gcpKey": '{"type": "service_account"}'}


@pytest.mark.parametrize(
    ("body", "loc", "msg"),
    [
        ({"credentialType": "api_token", "password": SECRET}, ["api_token", "password"], "Extra"),
        ({"credentialType": "basic", "user": "u"}, ["basic", "password"], "Field required"),
        ({"credentialType": "bearer", "token": ""}, ["bearer", "token"], "at least 1"),
        ({"credentialType": "bearer", "token": SECRET + "\0"}, ["bearer", "token"], "NUL"),
        ({"credentialType": "kerberos", "token": SECRET}, [], "does not match"),
        ({"token": SECRET}, [], "Unable to extract tag"),
    ],
)
def test_bad_types_and_keys_are_refused_without_echoing_values(
    body: dict[str, str], loc: list[str], msg: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_credential_body({"name": "n", **body})
    assert SECRET not in str(caught.value)
    errors = caught.value.errors(include_url=False, include_input=False)
    assert any(list(e["loc"]) == loc and msg in e["msg"] for e in errors), errors


def test_keys_per_type() -> None:
    assert credential_keys(CredentialType.API_TOKEN) == {"apiToken": True}
    assert credential_keys(CredentialType.OAUTH) == {"token": True, "refreshToken": False}
    assert credential_keys(CredentialType.SNOWFLAKE_KEY_PAIR_USER_ACCOUNT) == {
        "user": True,
        "privateKeyStr": True,
        "passphrase": False,
    }
    assert all(credential_keys(kind) for kind in CredentialType)


def test_the_answer_reads_datarobots_names_too() -> None:
    ours = parse_response(
        Credential,
        {
            "id": "a" * 24,
            "name": "gh",
            "credentialType": "api_token",
            "keys": ["apiToken"],
            "createdAt": "2026-11-27T10:00:00.000000Z",
        },
    )
    theirs = parse_response(
        Credential,
        {
            "credentialId": "a" * 24,
            "name": "gh",
            "credentialType": "api_token",
            "description": None,
            "creationDate": "2026-11-27T10:00:00Z",
            "extra": 1,
        },
    )
    assert ours.id == theirs.id == "a" * 24
    assert ours.created_at == theirs.created_at
    assert ours.keys == ["apiToken"]
    assert theirs.keys == []
