"""Reading what users write as a spec (YAML or JSON, a file or a variable) into request models.

Users write different amounts: a whole ``CreateWorkload`` body, an artifact (``name`` + ``spec``),
just the container spec (``containerGroups``), or one container (``imageUri``...). All of them
become an :class:`~workloadlab.models.InputArtifact`; mistakes become one-line messages naming
the field path the way the API writes it (``spec.containerGroups[0].containers[0].port``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from workloadlab.errors import field_path
from workloadlab.models.neutral import Artifact, InputArtifact


class SpecError(ValueError):
    """A spec that cannot be read or is invalid; the message is one line for the user."""


def describe_validation(error: ValidationError, prefix: Sequence[str | int] = ()) -> str:
    """The first problem of a validation error as ``field `path`: message`` (+ how many more)."""
    problems = error.errors(include_url=False, include_input=False)
    first = problems[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    path = field_path([*prefix, *first["loc"]])
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    where = f"field `{path}`: " if path else ""
    return f"{where}{message}{more}"


def parse_text(text: str, *, origin: str = "the cell") -> Any:
    """YAML (which includes JSON) to Python data."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML or JSON"
        raise SpecError(f"cannot read {origin}{where}: {problem}") from None


def load_source(source: str, namespace: Mapping[str, Any]) -> tuple[Any, str]:
    """A spec from ``$variable`` (a dict or a model) or a YAML/JSON file path; with a default
    name (the file's stem) when the source suggests one."""
    if source.startswith("$"):
        name = source[1:]
        if name not in namespace:
            raise SpecError(f"no variable named {name!r} in the notebook")
        value = namespace[name]
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json", by_alias=True, exclude_unset=True), ""
        if isinstance(value, str):
            return parse_text(value, origin=f"${name}"), ""
        if not isinstance(value, Mapping):
            raise SpecError(f"${name} is a {type(value).__name__}, not a dict or a model")
        return dict(value), ""
    text = read_spec_file(source)
    path = Path(source)
    if path.suffix == ".json":
        try:
            return json.loads(text), path.stem
        except json.JSONDecodeError as exc:
            raise SpecError(f"cannot read {source}: {exc}") from None
    return parse_text(text, origin=source), path.stem


def read_spec_file(source: str) -> str:
    """The text of the spec file ``source``; a :class:`SpecError` that says why it cannot be
    read (missing, a directory, not UTF-8 text, unreadable)."""
    path = Path(source).expanduser()
    if path.is_dir():
        raise SpecError(f"spec file is a directory: {source}")
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpecError(f"spec file not found: {source}") from None
    except UnicodeDecodeError:
        raise SpecError(f"cannot read {source}: not UTF-8 text") from None
    except OSError as exc:
        raise SpecError(f"cannot read {source}: {exc.strerror or exc}") from None


def to_input_artifact(
    data: Any, *, name: str | None = None, base: Artifact | None = None
) -> InputArtifact:
    """Whatever the user wrote, as the artifact it stands for.

    ``base`` (the stored artifact) fills in what the cell leaves out (name, description,
    ``type``, ``status``, the repository, unknown keys), as the server sent it.
    """
    if not isinstance(data, Mapping):
        raise SpecError("a spec must be a mapping (YAML keys or a JSON object)")
    body: dict[str, Any] = dict(data)
    if "artifact" in body and isinstance(body["artifact"], Mapping):
        body = dict(body["artifact"])  # a whole CreateWorkload body
    prefix: tuple[str | int, ...] = ()
    if "spec" not in body:
        if base is not None and body and set(body) <= {"name", "description"}:
            body["spec"] = base.spec.to_wire()  # metadata only
        elif "containerGroups" in body:
            body = {"spec": body}
        elif "imageUri" in body or "entrypoint" in body:
            container = {"primary": True, **body}
            body = {"spec": {"containerGroups": [{"containers": [container]}]}}
            prefix = ()
        else:
            raise SpecError(
                "not a spec: expected an artifact (name, spec), a container spec "
                "(containerGroups) or a container (imageUri, port, entrypoint, ...)"
            )
    if base is not None:  # what the cell leaves out stays as the server has it
        body = {**base.to_input().to_wire(), **body}
    if name:
        body.setdefault("name", name)
    body.setdefault("name", "artifact")
    try:
        return InputArtifact.model_validate(body)
    except ValidationError as exc:
        raise SpecError(describe_validation(exc, prefix)) from None


def to_yaml(artifact: Artifact | InputArtifact) -> str:
    """An artifact as the YAML a user would write back into ``%%artifact``: its name,
    description and the whole spec as the server sent it (nulls and unknown keys included,
    so that pasting it back changes nothing)."""
    data = {
        "name": artifact.name,
        "description": artifact.description,
        "spec": artifact.spec.to_wire(),
    }
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
