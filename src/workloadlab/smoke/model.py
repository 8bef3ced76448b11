"""The smoke file's model: per workload name, named checks, each a request and what its answer
must show (status, selected JSON fields or the whole body, an optional latency budget).

The file is written for review in version control: one YAML document, workloads and checks in
name order, the keys of a check always in the same order, no secrets. A header whose name says
it carries credentials (``Authorization``, cookies, API keys, tokens) is never stored, and a
check whose request or expected answer holds a secret-looking value (or the API token itself)
is refused, in words that never repeat the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workloadlab.models.secrets import looks_secret
from workloadlab.smoke.fields import to_pointer

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
"""A check's name: what `%workload smoke remove NAME` and the checklist call it."""
MAX_BODY_CHARS = 64 * 1024
"""A whole body, or the fields chosen, longer than this (as JSON) is not stored."""
SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "password", "api-key",
                       "apikey", "x-api-key", "auth", "credential", "session")  # fmt: skip
"""A header whose lower-cased name contains one of these is never stored."""


class SmokeError(ValueError):
    """A check that cannot be stored, or a smoke file that cannot be read; one line."""


class SmokeRequest(BaseModel):
    """The request a check sends through the invoke proxy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = "GET"
    path: str = "/"
    """Below the endpoint, query included: ``/predict?explain=1``."""
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    """The JSON body sent (none when null)."""

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("path")
    @classmethod
    def _rooted(cls, value: str) -> str:
        return value if value.startswith("/") else f"/{value}"

    def describe(self) -> str:
        """``GET /predict``."""
        return f"{self.method} {self.path}"


class Expectation(BaseModel):
    """What the answer must show."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    status: int = Field(ge=100, le=599)
    fields: dict[str, Any] | None = None
    """JSON pointer → value; none: the whole body is compared (:attr:`body`)."""
    body: Any = None
    budget_ms: int | None = Field(default=None, alias="budgetMs", ge=1)
    """The answer must come within this many milliseconds (none: no budget)."""

    @field_validator("fields")
    @classmethod
    def _pointers(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return {to_pointer(key): value[key] for key in value}


class SmokeCheck(BaseModel):
    """One check: a request and its expectation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: SmokeRequest
    expect: Expectation

    def wire(self) -> dict[str, Any]:
        """The check as the file holds it, keys in their fixed order."""
        request: dict[str, Any] = {"method": self.request.method, "path": self.request.path}
        if self.request.headers:
            request["headers"] = dict(sorted(self.request.headers.items()))
        if self.request.body is not None:
            request["body"] = self.request.body
        expect: dict[str, Any] = {"status": self.expect.status}
        if self.expect.fields is not None:
            expect["fields"] = dict(sorted(self.expect.fields.items()))
        elif self.expect.body is not None:
            expect["body"] = self.expect.body
        if self.expect.budget_ms is not None:
            expect["budgetMs"] = self.expect.budget_ms
        return {"request": request, "expect": expect}


class SmokeFile(BaseModel):
    """Every check of a smoke file, by workload name, then by check name."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    workloads: dict[str, dict[str, SmokeCheck]] = Field(default_factory=dict)

    def checks_of(self, workload: str) -> dict[str, SmokeCheck]:
        """The checks of the workload called ``workload``, by name (none: empty)."""
        return dict(sorted(self.workloads.get(workload, {}).items()))

    def with_check(self, workload: str, name: str, check: SmokeCheck) -> SmokeFile:
        """A copy with ``check`` stored as ``name`` (replacing one of that name)."""
        if not NAME.fullmatch(name):
            raise SmokeError(
                f"{name!r} is not a check name (letters, digits, _ . -; up to 100 characters)"
            )
        workloads = {w: dict(checks) for w, checks in self.workloads.items()}
        workloads.setdefault(workload, {})[name] = check
        return SmokeFile(workloads=workloads)

    def without(self, workload: str, name: str) -> SmokeFile:
        """A copy without check ``name`` of ``workload``; :class:`SmokeError` if none."""
        if name not in self.workloads.get(workload, {}):
            known = ", ".join(self.checks_of(workload)) or "none"
            raise SmokeError(f"{workload} has no smoke check {name!r} (its checks: {known})")
        workloads = {w: dict(checks) for w, checks in self.workloads.items()}
        del workloads[workload][name]
        if not workloads[workload]:
            del workloads[workload]
        return SmokeFile(workloads=workloads)

    def wire(self) -> dict[str, Any]:
        """The file's content, in the stable order it is written in."""
        return {
            "version": self.version,
            "workloads": {
                workload: {name: check.wire() for name, check in self.checks_of(workload).items()}
                for workload in sorted(self.workloads)
            },
        }


def safe_headers(headers: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The headers a check may store, and the names of those left out (credentials)."""
    kept: dict[str, str] = {}
    dropped: list[str] = []
    for name, value in headers.items():
        lowered = name.lower()
        if any(word in lowered for word in SECRET_HEADER_WORDS) or looks_secret(name, value):
            dropped.append(name)
        else:
            kept[name] = value
    return kept, dropped


def refuse_secrets(check: SmokeCheck, forbidden: Iterable[str] = ()) -> None:
    """:class:`SmokeError` when the check holds a secret-looking value or one of
    ``forbidden`` (the API token); the message names where, never the value."""
    places = [("request path", check.request.path), ("request body", check.request.body)]
    places += [(f"expected {pointer}", value) for pointer, value in
               (check.expect.fields or {}).items()]  # fmt: skip
    if check.expect.fields is None:
        places.append(("expected body", check.expect.body))
    places += [(f"header {name}", value) for name, value in check.request.headers.items()]
    secrets = [value for value in forbidden if value]
    for where, value in places:
        for name, text in _strings(where, value):
            if any(secret in text for secret in secrets):
                raise SmokeError(f"not saved: the {name} holds the API token")
            reason = looks_secret(name.rsplit("/", 1)[-1].upper(), text)
            if reason is not None:
                raise SmokeError(
                    f"not saved: the {name} {reason} (secrets never go into the smoke file;"
                    " choose other fields with --fields)"
                )
    whole = check.expect.fields is None
    size = len(json.dumps(check.expect.body if whole else check.expect.fields))
    if size > MAX_BODY_CHARS:
        what = "the answer is" if whole else "the fields chosen are"
        raise SmokeError(
            f"not saved: {what} {size // 1024} KiB; choose {'the' if whole else 'smaller'}"
            " fields to compare with --fields a,b"
        )


def _strings(where: str, value: Any) -> Iterable[tuple[str, str]]:
    """Every string in ``value``, object keys included, with where it is (object keys become
    path steps once checked themselves: a key is named by its object, never by itself)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key in value:
            yield f"{where} (a key)", str(key)
        for key, item in value.items():
            yield from _strings(f"{where}/{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(f"{where}/{index}", item)
