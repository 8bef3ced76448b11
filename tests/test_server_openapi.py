"""The OpenAPI document tells the truth, and the interactive docs work offline.

Every operation documents the status codes it answers with the shared error body, the bearer
security scheme (Swagger UI's Authorize button), unique operation ids; ``/api/v2/docs`` loads
only assets this server serves.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlparse

import httpx
import pytest

from harness import LocalServer

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document(server: LocalServer) -> dict[str, Any]:
    answer = httpx.get(f"{server.endpoint}/openapi.json")
    assert answer.status_code == 200
    schema: dict[str, Any] = answer.json()
    return schema


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _is_invoke(path: str) -> bool:
    return path.startswith("/api/v2/endpoints/")


def test_operation_ids_are_unique_and_fastapi_does_not_warn(
    server: LocalServer, document: dict[str, Any]
) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert "Duplicate Operation ID" not in server.log()


def test_the_bearer_scheme_is_declared_and_required_by_every_operation(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert len(schemes) == 1
    name, scheme = next(iter(schemes.items()))
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    for method, path, operation in _operations(document):
        assert operation.get("security") == [{name: []}], (method, path)


def _error_schema_ref(response: dict[str, Any]) -> str:
    ref: str = response["content"]["application/json"]["schema"]["$ref"]
    return ref


def test_the_shared_error_body_is_detail_string_or_list_of_issues(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    ref = _error_schema_ref(
        document["paths"]["/api/v2/registry/artifacts"]["post"]["responses"]["422"]
    )
    error = schemas[ref.rsplit("/", 1)[1]]
    assert error["required"] == ["detail"]
    variants = error["properties"]["detail"]["anyOf"]
    assert {"type": "string"} in variants
    issue_ref = next(v for v in variants if v.get("type") == "array")["items"]["$ref"]
    issue = schemas[issue_ref.rsplit("/", 1)[1]]
    assert set(issue["required"]) == {"loc", "msg", "type"}
    assert "HTTPValidationError" not in schemas


def test_every_operation_documents_the_errors_it_can_answer(document: dict[str, Any]) -> None:
    missing = []
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        expected = {"401", "503"}
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("422")
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation and not _is_invoke(path):
            expected.add("413")
        if method in WRITES and not _is_invoke(path):
            expected.add("507")
        for code in sorted(expected - set(responses)):
            missing.append(f"{method.upper()} {path}: {code}")
        for code, response in responses.items():
            if code.startswith(("4", "5")) and not _is_invoke(path):
                assert _error_schema_ref(response).endswith("/ErrorBody"), (path, code)
    assert missing == []


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("put", "/api/v2/registry/artifacts/{artifact_id}", {"403"}),
        ("patch", "/api/v2/registry/artifacts/{artifact_id}", {"409"}),
        ("delete", "/api/v2/registry/artifacts/{artifact_id}", {"409"}),
        ("post", "/api/v2/console/workloads", {"201", "404", "409"}),
        ("delete", "/api/v2/console/workloads/{workload_id}", {"204", "409"}),
        ("post", "/api/v2/console/workloads/{workload_id}/start", {"200", "202", "409"}),
        ("post", "/api/v2/console/workloads/{workload_id}/stop", {"200", "202", "409"}),
        ("get", "/api/v2/console/workloads/{workload_id}", {"200", "304"}),
        ("post", "/api/v2/console/deployments", {"201", "404", "409", "422"}),
        ("get", "/api/v2/console/events", {"200", "422"}),
        ("get", "/api/v2/registry/artifacts/{artifact_id}/events", {"200", "404"}),
    ],
)
def test_routes_document_the_answers_they_give_themselves(
    document: dict[str, Any], method: str, path: str, codes: set[str]
) -> None:
    assert codes <= set(document["paths"][path][method]["responses"])


def test_the_locked_database_answer_documents_retry_after(document: dict[str, Any]) -> None:
    busy = document["paths"]["/api/v2/registry/artifacts"]["post"]["responses"]["503"]
    assert "Retry-After" in busy["headers"]


def test_the_docs_page_loads_only_local_assets_that_answer(server: LocalServer) -> None:
    page = httpx.get(f"{server.endpoint}/docs")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
    references += re.findall(r"""url\s*:\s*["']([^"']+)["']""", page.text)
    assert len(references) >= 3, references  # the script, the style sheet, the document
    origin = urlparse(server.endpoint)
    for reference in references:
        url = urljoin(str(page.url), reference)
        assert urlparse(url).netloc == origin.netloc, f"{reference} is not served here"
        asset = httpx.get(url)  # without the token, as a browser fetches them
        assert asset.status_code == 200, reference
        assert asset.content, reference
    bundle = next(r for r in references if r.endswith("swagger-ui-bundle.js"))
    assert "SwaggerUIBundle" in httpx.get(urljoin(str(page.url), bundle)).text


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/registry/artifacts", {"GET", "HEAD", "POST"}),
        ("/registry/artifacts/0123456789abcdef01234567", {"GET", "HEAD", "PATCH", "PUT", "DELETE"}),
        ("/console/workloads/0123456789abcdef01234567/", {"GET", "HEAD", "DELETE"}),
    ],
)
def test_405_lists_every_method_the_path_allows(
    api: httpx.Client, path: str, allowed: set[str]
) -> None:
    answer = api.request("TRACE", path)
    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["allow"].split(",")} == allowed
    assert answer.json()["detail"] == "Method Not Allowed"


def test_created_resources_link_to_their_trails(document: dict[str, Any]) -> None:
    for path, own in (
        ("/api/v2/console/workloads", "workload_events"),
        ("/api/v2/registry/artifacts", "artifact_events"),
        ("/api/v2/console/deployments", "deployment_events"),
    ):
        links = document["paths"][path]["post"]["responses"]["201"]["links"]
        assert links[own]["parameters"] == {
            path.rsplit("/", 1)[1][:-1] + "_id": "$response.body#/id"
        }
        assert links["list_events"]["parameters"] == {"query.entityId": "$response.body#/id"}
