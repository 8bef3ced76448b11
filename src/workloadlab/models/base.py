"""Base classes and helpers shared by every wire model.

Attributes are snake_case in Python and camelCase on the wire (aliases). Request models, the
container spec among them, forbid unknown keys through their config, so the local server rejects
a typo with a `422` naming the field. Response models ignore the keys they do not know; the
client reads and writes the neutral models (:mod:`workloadlab.models.neutral`), which keep them,
because DataRobot adds fields over time and a write must send back what was read.

Request models take JSON at its word: an integer field refuses ``"8080"`` and ``8080.0``, a
boolean refuses ``1`` and ``"true"`` (strict types), a number sent as an integer stays one
(:data:`Number`: ``10`` is written back ``10``, not ``10.0``), a number refuses ``Infinity``,
``NaN`` and ``1e400`` (which Python's JSON parser reads as infinite), every number has
documented bounds and no string holds a NUL character (:data:`Text`): whatever reaches the
server's database can be written back as JSON, passed to a process and shown. A validation
error never shows the value it rejected (``hide_input_in_errors``): it may be a secret.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StrictFloat,
    ValidatorFunctionWrapHandler,
)
from pydantic.alias_generators import to_camel
from pydantic_core import CoreSchema, core_schema

M = TypeVar("M", bound=BaseModel)

NO_NUL = r"^[^\x00]*$"
"""The pattern of a string without NUL characters."""
Text = Annotated[str, Field(pattern=NO_NUL)]
"""A string without NUL characters: an argument, environment value, path or name that holds
one cannot reach a process (C strings end there), so it is refused with the field's path."""


class _KeepsIntegers:
    """Makes a float field keep an integer as the integer it was sent as (``10`` is written
    back ``10``, not ``10.0``), with the float's checks, errors and JSON schema unchanged (the
    same schema for requests and responses)."""

    @staticmethod
    def _keep(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        number = handler(value)
        return value if type(value) is int else number

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_wrap_validator_function(
            self._keep,
            handler(source),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda value: value),
        )


Number = Annotated[StrictFloat, _KeepsIntegers()]
"""A JSON number (not a string, not a boolean) that keeps its kind: sent as an integer, it is an
``int`` and is written back as one; with a fraction (or as ``10.0``), a ``float``."""


class WireModel(BaseModel):
    """A tolerant wire model: camelCase aliases, unknown keys ignored (responses)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        hide_input_in_errors=True,  # a rejected value may be a secret
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready body this model stands for, with camelCase keys."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class RequestModel(WireModel):
    """A strict wire model for request bodies: unknown keys are errors (`422`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def parse_response(model: type[M], data: Any) -> M:
    """Validate what a server sent with a response model: a :class:`WireModel` ignores the
    keys it does not know, a neutral model (:mod:`workloadlab.models.lossless`) keeps them."""
    return model.model_validate(data)


def parse_request(model: type[M], data: Any) -> M:
    """Validate a request body strictly (a model instance passes as it is)."""
    if isinstance(data, model):
        return data
    return model.model_validate(data, extra="forbid")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def format_timestamp(value: dt.datetime) -> str:
    """ISO-8601 UTC with microseconds and a `Z`, as the API writes timestamps."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    """A 24-hex-character id in the Mongo ObjectId style (time-ordered, then random)."""
    return f"{int(time.time()):08x}{secrets.token_hex(8)}"
