"""The base of the neutral models: what a server sent is what the client sends back.

A client that reads a resource, changes one field and writes it back must send everything else
as it came (``workload-api-current.md`` §8): unknown keys at any depth, nulls, the key order, a
number's spelling (``1`` stays ``1``, not ``1.0``) and words the model translates to neutral
ones. :class:`LosslessModel` makes that the default:

- unknown keys are kept (``extra="allow"``) and dumped again under the name they came with;
- :meth:`~LosslessModel.to_wire` dumps only what was received or assigned (``exclude_unset``),
  so defaults are never injected and an explicit ``null`` stays ``null``;
- the keys come out in the order they came in (fields set later follow);
- numbers are :data:`Number` (an ``int`` stays an ``int``);
- a string read as something else (a timestamp, a neutral word of
  :attr:`LosslessModel.wire_words`: ``registered`` is ``locked``) is written back as the string
  that came, as long as the value was not changed.

Validation still checks what both contracts document (types, required fields, ranges the API
states); it never refuses a key it does not know. Errors never show the rejected input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StrictFloat,
    StrictInt,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

Number = StrictInt | StrictFloat
"""A JSON number, kept as sent: ``1`` stays an ``int``, ``1.5`` a ``float`` (never a bool)."""
PositiveNumber = Annotated[Number, Field(gt=0)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]


class LosslessModel(BaseModel):
    """A neutral wire model: tolerant on read, and what it read is what it writes."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        hide_input_in_errors=True,  # a rejected value may be a secret
        validate_assignment=False,
    )

    wire_words: ClassVar[Mapping[str, Mapping[str, str]]] = {}
    """Per field (wire name): the wire words read as another, neutral word."""

    _wire_order: tuple[str, ...] = PrivateAttr(default=())
    _verbatim: dict[str, tuple[str, Any]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_the_wire(cls, data: Any, handler: Any) -> Self:
        raw = data
        if isinstance(data, Mapping):
            translated = {
                key: words[data[key]]
                for key, words in cls.wire_words.items()
                if isinstance(data.get(key), str) and data[key] in words
            }
            if translated:
                data = {**data, **translated}
        model: Self = handler(data)
        if isinstance(raw, Mapping) and not model._wire_order:
            model._wire_order = tuple(str(key) for key in raw)
            model._verbatim = _strings_read_as_values(model, raw)
        return model

    @model_serializer(mode="wrap")
    def _as_it_came(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        if not info.by_alias:
            return dumped
        fields = type(self).model_fields
        for key, (word, value) in self._verbatim.items():
            name = _field_name(type(self), key)
            if key in dumped and name in fields and getattr(self, name) == value:
                dumped[key] = word
        if not self._wire_order:
            return dumped
        ordered = {key: dumped[key] for key in self._wire_order if key in dumped}
        ordered.update((key, value) for key, value in dumped.items() if key not in ordered)
        return ordered

    def to_wire(self) -> dict[str, Any]:
        """The JSON body this model stands for: what it was read from, with what was assigned
        since (camelCase keys, nothing it did not receive or was not given)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def __eq__(self, other: object) -> bool:
        """Equal fields and unknown keys (how the keys came is not part of the value)."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return (
            type(self) is type(other)
            and self.__dict__ == other.__dict__
            and self.__pydantic_extra__ == other.__pydantic_extra__
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def unknown(self) -> dict[str, Any]:
        """The keys this model does not know, as they came."""
        return dict(self.__pydantic_extra__ or {})


def _field_name(model: type[BaseModel], key: str) -> str:
    """The attribute of a wire key (``createdAt`` → ``created_at``)."""
    for name, info in model.model_fields.items():
        if info.alias == key or name == key:
            return name
    return key


def _strings_read_as_values(model: BaseModel, raw: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """The declared fields that came as a string and were read as something that would not
    dump as that string (a timestamp, a neutral word): the string, and the value read."""
    kept: dict[str, tuple[str, Any]] = {}
    for name, info in type(model).model_fields.items():
        key = info.alias or name
        word = raw.get(key)
        if not isinstance(word, str):
            continue
        value = getattr(model, name)
        if not isinstance(value, str) or value != word or type(value) is not str:
            kept[key] = (word, value)
    return kept
