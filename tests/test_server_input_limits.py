"""Numbers, strings and types the API rejects with `422` and a field path, storing nothing.

JSON that Python's parser accepts but the contract does not (``Infinity``, ``NaN``, ``1e400``,
integers past any sensible bound, NUL characters, numbers sent as strings) must never reach
the database: once stored, such a value broke every later list of artifacts.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from harness import LocalServer, free_port, hello_spec

DUMMY_ID = "0123456789abcdef01234567"
PRIMARY = ["spec", "containerGroups", 0, "containers", 0]
NUMBER = "__NUMBER__"
"""Stands for a number literal in a body that ``json.dumps`` cannot write (``1e400``)."""


def _id(value: Any) -> str:
    """A readable test id: the last two keys of a field path, or the value."""
    if isinstance(value, list):
        return ".".join(str(key) for key in value[-2:])
    return repr(value)[:24]


def _counts(api: httpx.Client) -> tuple[int, int]:
    workloads = api.get("/console/workloads/")
    artifacts = api.get("/registry/artifacts/")
    assert workloads.status_code == artifacts.status_code == 200, artifacts.text
    return workloads.json()["totalCount"], artifacts.json()["totalCount"]


def _with(path: list[str | int], value: Any) -> dict[str, Any]:
    """The example artifact with ``value`` at ``path`` (intermediate objects created: a
    ``resourceRequest`` with valid ``cpu`` and ``memory``)."""
    artifact = hello_spec(free_port())
    node: Any = artifact
    for key in path[:-1]:
        if isinstance(node, dict) and key not in node:
            node[key] = {"cpu": 1, "memory": 2**20} if key == "resourceRequest" else {}
        node = node[key]
    node[path[-1]] = value
    return artifact


def _post_raw(api: httpx.Client, url: str, body: dict[str, Any], literal: str) -> httpx.Response:
    text = json.dumps(body).replace(f'"{NUMBER}"', literal)
    return api.post(url, content=text, headers={"content-type": "application/json"})


def _assert_rejected_at(answer: httpx.Response, loc: list[Any]) -> None:
    assert answer.status_code == 422, answer.text
    locs = [error["loc"] for error in answer.json()["detail"]]
    assert loc in locs, locs
    for error in answer.json()["detail"]:
        assert set(error) == {"loc", "msg", "type"}, "422 must not echo the rejected input"


def _assert_artifact_refused(api: httpx.Client, field: list[Any], value: Any) -> None:
    """Creating the example artifact with ``value`` at ``field`` is refused there."""
    before = _counts(api)
    answer = api.post("/registry/artifacts/", json=_with(field, value))
    _assert_rejected_at(answer, ["body", *field])
    assert _counts(api) == before


PROBE = [*PRIMARY, "readinessProbe"]
RESOURCES = [*PRIMARY, "resourceRequest"]
NUMERIC_FIELDS = [
    [*PROBE, "periodSeconds"],
    [*PROBE, "timeoutSeconds"],
    [*PROBE, "initialDelaySeconds"],
    [*PROBE, "failureThreshold"],
    [*PROBE, "successThreshold"],
    [*PROBE, "port"],
    [*PRIMARY, "port"],
    [*RESOURCES, "cpu"],
    [*RESOURCES, "memory"],
    [*RESOURCES, "gpu"],
]
LITERALS = ["Infinity", "-Infinity", "NaN", "1e400", "-1e400", "1" + "0" * 40]


@pytest.mark.parametrize("literal", LITERALS)
@pytest.mark.parametrize("field", NUMERIC_FIELDS, ids=_id)
def test_non_finite_and_huge_numbers_are_422_at_their_field_and_nothing_is_stored(
    api: httpx.Client, field: list[Any], literal: str
) -> None:
    before = _counts(api)
    artifact = _with(field, NUMBER)
    _assert_rejected_at(_post_raw(api, "/registry/artifacts/", artifact, literal), ["body", *field])
    inline = {"name": "bad-number", "artifact": artifact}
    _assert_rejected_at(
        _post_raw(api, "/console/workloads/", inline, literal), ["body", "artifact", *field]
    )
    assert _counts(api) == before


OUT_OF_RANGE = [
    ([*PROBE, "periodSeconds"], 86_401),
    ([*PROBE, "periodSeconds"], 0.001),
    ([*PROBE, "timeoutSeconds"], 86_401),
    ([*PROBE, "initialDelaySeconds"], 86_401),
    ([*PROBE, "failureThreshold"], 1_001),
    ([*PROBE, "successThreshold"], 1_001),
    ([*PROBE, "port"], 65_536),
    ([*RESOURCES, "cpu"], 1_025),
    ([*RESOURCES, "memory"], 2**44 + 1),
    ([*RESOURCES, "gpu"], 65),
]


@pytest.mark.parametrize(("field", "value"), OUT_OF_RANGE, ids=_id)
def test_numbers_out_of_their_documented_range_are_422(
    api: httpx.Client, field: list[Any], value: float
) -> None:
    _assert_artifact_refused(api, field, value)


def test_runtime_numbers_are_bounded(api: httpx.Client) -> None:
    before = _counts(api)
    for runtime, loc in [
        ({"replicaCount": 10**30}, ["runtime", "replicaCount"]),
        (
            {
                "autoscaling": {
                    "policies": [
                        {
                            "scalingMetric": "httpRequestsConcurrency",
                            "target": 1e300,
                            "minCount": 1,
                            "maxCount": 2,
                        }
                    ]
                }
            },
            ["runtime", "autoscaling", "policies", 0, "target"],
        ),
    ]:
        body = {"name": "bounded", "artifact": hello_spec(free_port()), "runtime": runtime}
        _assert_rejected_at(api.post("/console/workloads/", json=body), ["body", *loc])
    assert _counts(api) == before


def test_every_number_in_the_openapi_schema_has_both_bounds(server: LocalServer) -> None:
    schema = httpx.get(f"{server.endpoint}/openapi.json").json()
    unbounded = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("integer", "number"):
                low = "minimum" in node or "exclusiveMinimum" in node
                high = "maximum" in node or "exclusiveMaximum" in node
                if not (low and high):
                    unbounded.append(where)
            for key, value in node.items():
                visit(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{where}[{index}]")

    visit(schema["components"]["schemas"], "schemas")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                visit(parameter["schema"], f"{method} {path} {parameter['name']}")
    assert unbounded == []
    probe = schema["components"]["schemas"]["Probe"]["properties"]
    assert probe["periodSeconds"]["maximum"] == 86_400


LIST_URLS = [
    "/console/workloads/",
    "/registry/artifacts/",
    "/console/deployments/",
    f"/console/workloads/{DUMMY_ID}/events",
    f"/console/deployments/{DUMMY_ID}/events",
    f"/otel/workload/{DUMMY_ID}/logs/",
]


@pytest.mark.parametrize("url", LIST_URLS)
@pytest.mark.parametrize("offset", [2**31, 2**63, 2**64 + 5])
def test_offsets_past_the_bound_are_422_on_every_list(
    api: httpx.Client, url: str, offset: int
) -> None:
    answer = api.get(url, params={"offset": offset})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["query", "offset"]


STRING_FIELDS = [
    [*PRIMARY, "entrypoint", 1],
    [*PRIMARY, "environmentVars", 0, "value"],
    [*PRIMARY, "imageUri"],
    [*PRIMARY, "name"],
    [*PRIMARY, "description"],
    [*PROBE, "path"],
    [*PROBE, "host"],
    ["name"],
    ["description"],
]


@pytest.mark.parametrize("field", STRING_FIELDS, ids=_id)
def test_nul_characters_are_422_at_their_field(api: httpx.Client, field: list[Any]) -> None:
    before = _counts(api)
    artifact = _with(field, "bad\0value" if field[-1] != "path" else "/bad\0path")
    _assert_rejected_at(api.post("/registry/artifacts/", json=artifact), ["body", *field])
    workload = {"name": "nul\0name", "artifact": hello_spec(free_port())}
    _assert_rejected_at(api.post("/console/workloads/", json=workload), ["body", "name"])
    assert _counts(api) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ([*PRIMARY, "port"], "8080"),
        ([*PRIMARY, "port"], 8080.0),
        ([*PRIMARY, "primary"], "true"),
        ([*PRIMARY, "primary"], 1),
        ([*PROBE, "periodSeconds"], "10"),
        ([*PROBE, "failureThreshold"], 3.0),
        ([*PROBE, "failureThreshold"], True),
        ([*RESOURCES, "cpu"], "1"),
    ],
    ids=_id,
)
def test_numbers_and_booleans_must_have_their_json_type(
    api: httpx.Client, field: list[Any], value: Any
) -> None:
    _assert_artifact_refused(api, field, value)


def test_integers_are_accepted_where_the_contract_says_number(api: httpx.Client) -> None:
    artifact = _with([*RESOURCES], {"cpu": 2, "memory": 2**30, "gpu": 0})
    artifact["spec"]["containerGroups"][0]["containers"][0]["readinessProbe"].update(
        {"periodSeconds": 5, "timeoutSeconds": 0.5, "initialDelaySeconds": 0}
    )
    created = api.post("/registry/artifacts/", json=artifact)
    assert created.status_code == 201, created.text
    assert api.delete(f"/registry/artifacts/{created.json()['id']}").status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": ' + b"9" * 5000 + b"}",
        b'{"name": "\xff\xfe"}',
        b'{"name": "unterminated',
    ],
    ids=["5000-digit integer", "invalid UTF-8", "truncated"],
)
def test_bodies_python_cannot_decode_are_422(api: httpx.Client, body: bytes) -> None:
    answer = api.post(
        "/registry/artifacts/", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["type"] == "json_invalid"


def test_the_log_level_filter_says_its_values_in_the_schema(
    server: LocalServer, api: httpx.Client
) -> None:
    schema = httpx.get(f"{server.endpoint}/openapi.json").json()
    operation = schema["paths"]["/api/v2/otel/workload/{workload_id}/logs"]["get"]
    level = next(p for p in operation["parameters"] if p["name"] == "level")
    pattern = next(s for s in level["schema"]["anyOf"] if s.get("type") == "string")["pattern"]
    assert re.fullmatch(pattern, "Warning")
    assert not re.fullmatch(pattern, "")
    url = f"/otel/workload/{DUMMY_ID}/logs/"
    assert api.get(url, params={"level": "ERROR"}).status_code == 404  # valid: no such workload
    for wrong in ("", "loud"):
        answer = api.get(url, params={"level": wrong})
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["query", "level"]
