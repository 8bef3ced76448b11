"""The spec form: the artifact's name and description and every container (the primary first).

Probes and the resource request sit in a collapsed section that is built when first opened
(or when a problem must be shown there): they are a third of the form's widgets, and building
widgets is most of what opening a panel costs in a kernel.

Reading the form builds the wire data on top of the server's artifact (fields the form does
not show, and those not edited, go back as they came: :mod:`.untouched`), parses what was typed,
and validates the result with the neutral :class:`~workloadlab.models.neutral.InputArtifact`.
Each problem is shown beside its field; :attr:`FormReading.artifact` is ``None`` while any
remains.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from workloadlab.models.neutral import Artifact, InputArtifact
from workloadlab.notebook.panel.arguments import ArgumentsField, format_arguments
from workloadlab.notebook.panel.disclosure import Disclosure
from workloadlab.notebook.panel.env import EnvEditor, PendingSecret
from workloadlab.notebook.panel.fields import (
    FieldProblem,
    ProbeEditor,
    ResourceEditor,
    TextField,
    format_number,
    parse_entrypoint,
    parse_int,
    problem_html,
)
from workloadlab.notebook.panel.ui import (
    FixedRepr,
    Widget,
    assign,
    close_tree,
    html,
    vbox,
)
from workloadlab.notebook.panel.untouched import keep_untouched

Callback = Callable[[], None]

ADVANCED = ("Probe", ".resources")
"""Problem keys that live in the probes and resources section."""
PROBES = (
    ("readinessProbe", "readiness"),
    ("livenessProbe", "liveness"),
    ("startupProbe", "startup"),
)
_CONTAINER_INDEX = re.compile(r"containers\[(\d+)\]")


@dataclass
class FormReading:
    """What the form says: the artifact when valid, the wire data always, and the problems
    keyed by where they are shown (``name``, ``c0.imageUri``, ``c0.env.2``, ``form``...)."""

    wire: dict[str, Any]
    artifact: InputArtifact | None = None
    problems: dict[str, str] = field(default_factory=dict)
    secrets: list[tuple[int, PendingSecret]] = field(default_factory=list)
    """The values Save stores as credentials first, with their container's wire index (the
    artifact refers to them; it never holds them)."""

    @property
    def valid(self) -> bool:
        """Whether the models accept it."""
        return self.artifact is not None

    def add(self, key: str, message: str) -> None:
        """Record a problem (the first one per place wins)."""
        self.problems.setdefault(key, message)


class ContainerForm(FixedRepr):
    """The fields of one container; probes and resources are built when first opened."""

    _fixed_repr = "<workloadlab ContainerForm>"

    def __init__(
        self, index: int, primary: bool, container: dict[str, Any], on_change: Callback
    ) -> None:
        self.index = index
        """The container's position in the wire list (the form shows the primary first)."""
        self.primary = primary
        self.base: dict[str, Any] = container
        self._on_change = on_change
        self._disabled = False
        self.name = TextField(
            "name", "wl-field-container-name", on_change, value=str(container.get("name") or "")
        )
        self.image = TextField(
            "image",
            "wl-field-image",
            on_change,
            value=str(container.get("imageUri", "")),
            placeholder="registry/app:tag",
        )
        self.entrypoint = ArgumentsField(
            "entrypoint",
            "wl-field-entrypoint",
            on_change,
            value=format_arguments(container.get("entrypoint")),
        )
        self.port = TextField(
            "port",
            "wl-field-port",
            on_change,
            value=format_number(container.get("port")),
            placeholder="1024-65535",
        )
        self.env = EnvEditor(on_change, container.get("environmentVars") or [])
        self._probes: list[ProbeEditor] | None = None
        self._resources: ResourceEditor | None = None
        self.advanced = Disclosure(
            "Probes and resource request", "wl-advanced", on_open=self._build_advanced
        )
        title = "Primary container" if primary else "Container"
        parts: list[Widget] = [html(f"<b>{title}</b>"), self.name.box, self.image.box]
        parts.append(self.entrypoint.box)
        if primary:
            parts.append(self.port.box)
        parts += [self.env.box, self.advanced.box]
        self.box: Widget = vbox(
            parts, "wl-container", "wl-container-primary" if primary else "wl-container-sidecar"
        )
        self._env_rows: list[int] = []
        self._as_loaded = self._read_fields(FormReading({}))

    def _build_advanced(self) -> tuple[list[ProbeEditor], ResourceEditor]:
        """Make the probe and resource editors (on first use: they are a third of the form)."""
        if self._probes is None or self._resources is None:
            self._probes = [
                ProbeEditor(key, label, self._on_change, self.base.get(key))
                for key, label in PROBES
            ]
            self._resources = ResourceEditor(self._on_change, self.base.get("resourceRequest"))
            self.advanced.set_children(
                html("<b>Probes</b>"),
                *(probe.box for probe in self._probes),
                html("<b>Resource request</b>"),
                self._resources.box,
            )
            if self._disabled:
                self._set_advanced_disabled(True)
            for probe in self._probes:
                _put(self._as_loaded, probe.key, probe.read(self.base.get(probe.key))[0])
            loaded_request = self._resources.read(self.base.get("resourceRequest"))[0]
            _put(self._as_loaded, "resourceRequest", loaded_request)
        return self._probes, self._resources

    @property
    def probes(self) -> list[ProbeEditor]:
        """The readiness, liveness and startup probe editors (built if need be)."""
        return self._build_advanced()[0]

    @property
    def resources(self) -> ResourceEditor:
        """The resource request editor (built if need be)."""
        return self._build_advanced()[1]

    def load(self, container: dict[str, Any]) -> None:
        """Show the server's container."""
        self.base = container
        self.name.load(str(container.get("name") or ""))
        self.image.load(str(container.get("imageUri", "")))
        self.entrypoint.load(format_arguments(container.get("entrypoint")))
        self.port.load(format_number(container.get("port")))
        self.env.load(container.get("environmentVars") or [])
        if self._probes is not None and self._resources is not None:
            for probe in self._probes:
                probe.load(container.get(probe.key))
            self._resources.load(container.get("resourceRequest"))
        self._as_loaded = self._read_fields(FormReading({}))

    def read(self, reading: FormReading) -> dict[str, Any]:
        """The container as wire data (what was not edited as it came); problems go into
        ``reading``."""
        return keep_untouched(self._read_fields(reading), self._as_loaded, self.base)

    def _read_fields(self, reading: FormReading) -> dict[str, Any]:
        key = f"c{self.index}"
        data = dict(self.base)
        name = self.name.value.strip()
        if name:
            data["name"] = name
        else:
            data.pop("name", None)
        data["imageUri"] = self.image.value.strip()
        try:
            entrypoint = parse_entrypoint(self.entrypoint.value)
        except FieldProblem as exc:
            reading.add(f"{key}.entrypoint", str(exc))
            entrypoint = None
        _put(data, "entrypoint", entrypoint)
        if self.primary:
            try:
                port = parse_int(self.port.value, "a port number")
            except FieldProblem as exc:
                reading.add(f"{key}.port", str(exc))
                port = None
            if port is None and f"{key}.port" not in reading.problems:
                reading.add(f"{key}.port", "the primary container needs a port")
            _put(data, "port", port)
        variables, self._env_rows = self.env.read()
        data["environmentVars"] = variables
        for row, secret in self.env.pending():
            if not secret.value.get_secret_value():
                reading.add(f"{key}.env.{row}", "a secret needs a value")
            reading.secrets.append((self.index, secret))
        if self._probes is not None and self._resources is not None:  # else: as loaded
            for probe in self._probes:
                value, problems = probe.read(self.base.get(probe.key))
                if problems:
                    reading.add(f"{key}.{probe.key}", "; ".join(problems))
                _put(data, probe.key, value)
            request, problems = self._resources.read(self.base.get("resourceRequest"))
            if problems:
                reading.add(f"{key}.resources", "; ".join(problems))
            _put(data, "resourceRequest", request)
        return data

    def settle(self, container: dict[str, Any]) -> None:
        """After a Save: secret rows show the references they were saved as."""
        self.env.settle(container.get("environmentVars") or [])

    def env_row(self, wire_index: int) -> int:
        """The row showing the ``wire_index``-th variable of the last reading."""
        return self._env_rows[wire_index] if wire_index < len(self._env_rows) else -1

    def show(self, problems: dict[str, str]) -> None:
        """Show the problems of this container beside its fields."""
        key = f"c{self.index}"
        self.name.show(problems.get(f"{key}.name"))
        self.image.show(problems.get(f"{key}.imageUri"))
        self.entrypoint.show(problems.get(f"{key}.entrypoint"))
        self.port.show(problems.get(f"{key}.port"))
        prefix = f"{key}.env."
        rows = {int(k[len(prefix) :]): v for k, v in problems.items() if k.startswith(prefix)}
        self.env.show(problems.get(f"{key}.env"), rows)
        advanced = [k for k in problems if k.startswith(f"{key}.") and k.endswith(ADVANCED)]
        if advanced or self._probes is not None:
            probes, resources = self._build_advanced()
            for probe in probes:
                probe.show(problems.get(f"{key}.{probe.key}"))
            resources.show(problems.get(f"{key}.resources"))
            if advanced:
                self.advanced.open = True  # a problem there: show it

    def set_disabled(self, disabled: bool) -> None:
        """Read-only or editable."""
        self._disabled = disabled
        for text_field in (self.name, self.image, self.entrypoint, self.port):
            text_field.set_disabled(disabled)
        self.env.set_disabled(disabled)
        if self._probes is not None:
            self._set_advanced_disabled(disabled)

    def _set_advanced_disabled(self, disabled: bool) -> None:
        for probe in self.probes:
            probe.set_disabled(disabled)
        self.resources.set_disabled(disabled)


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value


class SpecForm(FixedRepr):
    """The artifact's editable spec; calls ``on_change`` when a field was left with a new value."""

    _fixed_repr = "<workloadlab SpecForm>"

    def __init__(self, on_change: Callback) -> None:
        self._on_change = on_change
        self._loading = False
        self.base: dict[str, Any] = {}
        self.containers: list[ContainerForm] = []
        self.name = TextField("artifact", "wl-field-artifact-name", self._changed)
        self.description = TextField("description", "wl-field-description", self._changed)
        self.message: Widget = html("", "wl-form-message")
        self.containers_box: Widget = vbox([])
        self.box: Widget = vbox(
            [self.name.box, self.description.box, self.message, self.containers_box], "wl-form"
        )
        self.read_only = False
        self._loaded_texts = ("", "")

    def _changed(self) -> None:
        if not self._loading:
            self._on_change()

    def load(self, artifact: Artifact | InputArtifact | Mapping[str, Any]) -> None:
        """Show an artifact (the server's, or a merge's wire data), replacing whatever was
        typed."""
        wire = artifact_wire(artifact)
        self._loading = True
        try:
            self.base = wire
            self.name.load(str(wire.get("name") or ""))
            self.description.load(str(wire.get("description") or ""))
            self._loaded_texts = (self.name.value, self.description.value)
            containers = wire["spec"]["containerGroups"][0]["containers"]
            order = sorted(range(len(containers)), key=lambda i: not containers[i].get("primary"))
            shape = [(i, bool(containers[i].get("primary"))) for i in order]
            if shape != [(c.index, c.primary) for c in self.containers]:
                for old in self.containers:
                    close_tree(old.box)
                self.containers = [
                    ContainerForm(i, p, containers[i], self._changed) for i, p in shape
                ]
                self.containers_box.children = tuple(c.box for c in self.containers)
                self.set_disabled(self.read_only)
            else:
                for form in self.containers:
                    form.load(containers[form.index])
        finally:
            self._loading = False

    def rebase(self, artifact: Artifact | InputArtifact) -> None:
        """Measure against a newer server version, keeping what is typed (after Save, or
        Compare); a different set of containers reloads the form instead."""
        wire = artifact_wire(artifact)
        containers = wire["spec"]["containerGroups"][0]["containers"]
        shape = sorted((i, bool(c.get("primary"))) for i, c in enumerate(containers))
        if shape != sorted((c.index, c.primary) for c in self.containers):
            self.load(artifact)
            return
        self.base = wire
        self._loaded_texts = (self.name.value, self.description.value)  # what it now reads
        for form in self.containers:  # as: a field set back to its first value is an edit
            form.base = containers[form.index]
            form._as_loaded = form._read_fields(FormReading({}))

    def settle(self, artifact: Artifact | InputArtifact) -> None:
        """After a Save that stored secrets: their rows show the references (the values are
        gone from the form's inputs)."""
        containers = base_containers(artifact_wire(artifact))
        for form in self.containers:
            if form.index < len(containers):
                form.settle(containers[form.index])

    def read(self) -> FormReading:
        """Parse and validate what the form shows (does not change what is displayed)."""
        wire = {key: value for key, value in self.base.items() if key != "spec"}
        reading = FormReading(wire)
        if self.name.value != self._loaded_texts[0]:
            wire["name"] = self.name.value.strip()
        if self.description.value != self._loaded_texts[1]:
            wire["description"] = self.description.value
        group = dict(self.base["spec"]["containerGroups"][0])
        containers = list(group["containers"])
        for form in self.containers:
            containers[form.index] = form.read(reading)
        group["containers"] = containers
        wire["spec"] = {**self.base["spec"], "containerGroups": [group]}
        try:
            artifact = InputArtifact.model_validate(wire)
        except ValidationError as exc:
            for problem in exc.errors(include_url=False, include_input=False):
                self._place(reading, tuple(problem["loc"]), str(problem["msg"]))
        else:
            if not reading.problems:
                reading.artifact = artifact
        return reading

    def _place(self, reading: FormReading, loc: tuple[str | int, ...], message: str) -> None:
        """Put a model's problem beside the field it is about."""
        message = message.removeprefix("Value error, ")
        if loc in (("name",), ("description",)):
            reading.add(str(loc[0]), message)
            return
        if len(loc) >= 6 and loc[:2] == ("spec", "containerGroups") and loc[3] == "containers":
            index, rest = loc[4], loc[5:]
            key = f"c{index}"
            head = rest[0]
            if head == "environmentVars":
                if len(rest) >= 2 and isinstance(rest[1], int):
                    form = self._container(int(index))
                    row = form.env_row(rest[1]) if form is not None else -1
                    reading.add(f"{key}.env.{row}", message)
                else:
                    reading.add(f"{key}.env", message)
            elif head in ("imageUri", "entrypoint", "port", "name"):
                reading.add(f"{key}.{head}", message)
            elif head in dict(PROBES):
                where = ".".join(str(part) for part in rest[1:])
                reading.add(f"{key}.{head}", f"{where}: {message}" if where else message)
            elif head == "resourceRequest":
                where = ".".join(str(part) for part in rest[1:])
                reading.add(f"{key}.resources", f"{where}: {message}" if where else message)
            else:
                reading.add("form", message)
            return
        match = _CONTAINER_INDEX.search(message)
        if match is not None and "port" in message:
            reading.add(f"c{match.group(1)}.port", message)
            return
        reading.add("form", message)

    def _container(self, index: int) -> ContainerForm | None:
        return next((form for form in self.containers if form.index == index), None)

    def show(self, reading: FormReading) -> None:
        """Show each problem beside its field (and clear the fixed ones)."""
        problems = reading.problems
        self.name.show(problems.get("name"))
        self.description.show(problems.get("description"))
        assign(self.message, value=problem_html(problems.get("form")))
        for form in self.containers:
            form.show(problems)

    def set_disabled(self, disabled: bool) -> None:
        """Read-only (a registered artifact's spec is immutable) or editable."""
        self.read_only = disabled
        self.name.set_disabled(disabled)
        self.description.set_disabled(disabled)
        for form in self.containers:
            form.set_disabled(disabled)


def artifact_wire(artifact: Artifact | InputArtifact | Mapping[str, Any]) -> dict[str, Any]:
    """An artifact as the wire data the form edits (and the diff compares)."""
    if isinstance(artifact, Mapping):
        return copy.deepcopy(dict(artifact))
    body = artifact.to_input() if isinstance(artifact, Artifact) else artifact
    return body.to_wire()


def base_containers(wire: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of wire data, in wire order."""
    containers: list[dict[str, Any]] = wire["spec"]["containerGroups"][0]["containers"]
    return containers
