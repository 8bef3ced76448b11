"""The OpenAPI document (``/api/v2/openapi.json``) and the interactive docs (``/api/v2/docs``).

FastAPI writes the document from the routes; :func:`install_openapi` completes it with what
the server's machinery answers on every route, so that no route has to repeat it:

- the bearer scheme (``components.securitySchemes``) required by every operation, which gives
  Swagger UI its Authorize button; ``401`` everywhere;
- ``404`` where the path has an id, ``413`` where a body is read (not the invoke proxy: it
  is not limited), ``422`` where there are parameters or a body, ``503`` (database locked,
  with ``Retry-After``) everywhere and ``507`` (disk full) on every write: all with the one
  error body, :class:`ErrorBody`, which replaces FastAPI's own validation error schema;
- unique operation ids (a route with several methods, like the invoke proxy's, gets one per
  method);
- links from each ``POST`` that creates a resource (``/console/workloads``...) to every
  operation that takes its id (``workload_id``, or ``entityId`` for the events of any
  entity), for clients and stateful testing.

The other codes a route answers (``403``, ``409``, ``404`` for an id in the body...) are
declared on the route
(:func:`~workloadlab.server.problems.answers`). The docs page is Swagger UI served from the
``fastapi-offline`` package's copy, so it works without the internet.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from workloadlab.server.problems import DESCRIPTIONS, ErrorBody
from workloadlab.server.views import API_PREFIX

SECURITY_SCHEME = "bearerAuth"
DOCS_PATH = f"{API_PREFIX}/docs"
DOCS_ASSETS = f"{DOCS_PATH}/assets"
"""Swagger UI's script, style sheet and icon: public, like the page and the document."""
INVOKE_PATHS = f"{API_PREFIX}/endpoints/"
WRITES = frozenset({"post", "put", "patch", "delete"})
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
ERROR_REF = "#/components/schemas/ErrorBody"
PATH_PARAMETER = re.compile(r"\{([^}]+)\}")
ENTITY_PARAMETER = "entityId"
"""The query parameter that names any entity (``GET /console/events/?entityId=``)."""
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    """Complete ``app``'s OpenAPI document and serve Swagger UI at ``/api/v2/docs`` offline."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():  # complete() gives each method its own id
                warnings.filterwarnings("ignore", message="Duplicate Operation ID")
                document = get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            complete(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(DOCS_ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )


def complete(document: dict[str, Any]) -> None:
    """Add the security scheme, the error answers every route shares, the error body, and
    make the operation ids unique (see the module's docstring)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "The server's API token (`server.json` in its data dir, or --token).",
        }
    }
    ids = Counter(
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    )
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                _complete_operation(path, method, operation, ids)
    _link_created_resources(document)


def _link_created_resources(document: dict[str, Any]) -> None:
    """Link ``POST /x/things`` (``201``) to every operation whose one path parameter is
    ``thing_id``, and to every operation with an ``entityId`` query parameter (the audit
    trail of any entity), taken from the created resource's ``id``."""
    takers: dict[str, list[str]] = {}
    trails: list[str] = []
    for path, item in document["paths"].items():
        parameters = PATH_PARAMETER.findall(path)
        for method, operation in item.items():
            if method not in METHODS:
                continue
            if len(parameters) == 1 and not path.startswith(INVOKE_PATHS):
                takers.setdefault(parameters[0], []).append(operation["operationId"])
            queries = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            if ENTITY_PARAMETER in queries:
                trails.append(operation["operationId"])
    for path, item in document["paths"].items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is None or "{" in path:
            continue
        parameter = f"{path.rsplit('/', 1)[-1].removesuffix('s')}_id"
        links = {
            target: {"operationId": target, "parameters": {parameter: "$response.body#/id"}}
            for target in takers.get(parameter, [])
        }
        for target in trails:
            query = {f"query.{ENTITY_PARAMETER}": "$response.body#/id"}
            links[target] = {"operationId": target, "parameters": query}
        created["links"] = links


def _complete_operation(
    path: str, method: str, operation: dict[str, Any], ids: Counter[str]
) -> None:
    if ids[operation["operationId"]] > 1:
        operation["operationId"] = f"{operation['operationId']}_{method}"
    operation["security"] = [{SECURITY_SCHEME: []}]
    responses: dict[str, Any] = operation.setdefault("responses", {})
    codes = [401, 503]
    if "{" in path:  # every path parameter is an id
        codes.append(404)
    if not path.startswith(INVOKE_PATHS):  # the proxy validates nothing: it forwards
        if operation.get("parameters") or "requestBody" in operation:
            codes.append(422)
        if "requestBody" in operation:
            codes.append(413)
        if method in WRITES:
            codes.append(507)
    for code in codes:
        responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
    for status, response in responses.items():
        if status.startswith(("4", "5")) and _error_body_unset(response):
            response["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    responses["503"]["headers"] = {
        "Retry-After": {
            "description": "Seconds to wait before sending the request again.",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 60},
        }
    }


def _error_body_unset(response: dict[str, Any]) -> bool:
    """Whether an error answer has no body schema yet, or FastAPI's validation error's."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return not schema or schema.get("$ref", "").rsplit("/", 1)[-1] in FASTAPI_VALIDATION_SCHEMAS
