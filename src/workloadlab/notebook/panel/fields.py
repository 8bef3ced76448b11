"""The spec form's building blocks: parsers for what people type, and small field editors.

Every input is a ``Text`` with ``continuous_update=False`` (the value arrives when the field is
left), so a half-typed port is never validated and a wrong one is kept as typed, with the
message beside it, instead of snapping back as a numeric widget would. Parsers raise
:class:`FieldProblem`; the models (:mod:`workloadlab.models`) judge the rest. Editors are made
with the server's values (one ``comm_open`` each, no update after it).
"""

from __future__ import annotations

import html as html_module
import re
import shlex
from collections.abc import Callable
from typing import Any

from workloadlab.notebook.panel.ui import (
    Widget,
    assign,
    checkbox,
    dropdown,
    hbox,
    html,
    text,
    vbox,
)

Callback = Callable[[], None]

MEMORY_UNITS = {
    "": 1,
    "k": 1000,
    "m": 1000**2,
    "g": 1000**3,
    "t": 1000**4,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
    "ti": 1024**4,
}
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$", re.IGNORECASE)


class FieldProblem(ValueError):
    """What is wrong with a typed value, in words for the message beside the field."""


# -- parsing and formatting --------------------------------------------------------------------


def parse_int(text: str, what: str = "a whole number") -> int | None:
    """An integer, or ``None`` for an empty field."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise FieldProblem(f"{text!r} is not {what}") from None


def parse_number(text: str) -> float | None:
    """A number (seconds, CPUs), or ``None`` for an empty field."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise FieldProblem(f"{text!r} is not a number") from None


def parse_cpu(text: str) -> float | None:
    """CPUs: ``0.5`` or Kubernetes millicores ``500m``."""
    text = text.strip()
    if text.lower().endswith("m"):
        millis = parse_number(text[:-1])
        return None if millis is None else millis / 1000
    return parse_number(text)


def parse_memory(text: str) -> int | None:
    """Bytes: ``536870912``, ``512Mi``, ``1Gi``, ``500M``, ``1.5Gi``."""
    if not text.strip():
        return None
    match = _MEMORY.match(text)
    if match is None:
        raise FieldProblem(f"{text.strip()!r} is not a size (e.g. 512Mi, 1Gi or bytes)")
    number, unit = match.groups()
    return int(float(number) * MEMORY_UNITS[(unit or "").lower()])


def format_memory(value: int | None) -> str:
    """Bytes as the largest exact binary unit (``512Mi``)."""
    if value is None:
        return ""
    for unit in ("Ti", "Gi", "Mi", "Ki"):
        size = MEMORY_UNITS[unit.lower()]
        if value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


def parse_entrypoint(text: str) -> list[str] | None:
    """Words as a shell would split them; ``None`` (the image's own) when empty."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise FieldProblem(f"cannot split it into words: {exc}") from None
    return words or None


def format_number(value: float | int | None) -> str:
    """``1`` rather than ``1.0``; empty for ``None``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def problem_html(message: str | None) -> str:
    """The message shown beside a field (empty when it is fine)."""
    if not message:
        return ""
    return (
        '<span style="color:var(--jp-error-color1, #cf222e);font-size:12px">'
        f"⚠ {html_module.escape(message)}</span>"
    )


def text_input(
    label: str,
    css_class: str,
    on_change: Callback,
    *,
    value: str = "",
    placeholder: str = "",
    width: str = "",
) -> Widget:
    """A ``Text`` that calls ``on_change`` when left with a new value."""
    if width:
        field = text(
            css_class,
            description=label,
            value=value,
            placeholder=placeholder,
            label_width="initial",
            width=width,
            min_width="6em",
        )
    else:
        field = text(
            css_class,
            description=label,
            value=value,
            placeholder=placeholder,
            flex="1 1 auto",
            width="auto",
            min_width="12em",
        )
    field.observe(lambda _: on_change(), names="value")
    return field


def message_widget() -> Widget:
    """An (empty) validation message."""
    return html("", "wl-field-message", margin="0 0 0 6px")


# -- editors -----------------------------------------------------------------------------------


class TextField:
    """A labelled input with its validation message beside it."""

    def __init__(
        self,
        label: str,
        css_class: str,
        on_change: Callback,
        *,
        value: str = "",
        placeholder: str = "",
    ) -> None:
        self.input: Widget = text_input(
            label, css_class, on_change, value=value, placeholder=placeholder
        )
        self.message: Widget = message_widget()
        self.box: Widget = hbox([self.input, self.message])

    @property
    def value(self) -> str:
        """What is typed."""
        return str(self.input.value)

    def load(self, value: str) -> None:
        """Show a value from the server."""
        assign(self.input, value=value)

    def show(self, problem: str | None) -> None:
        """Show (or clear) the field's validation message."""
        assign(self.message, value=problem_html(problem))

    def set_disabled(self, disabled: bool) -> None:
        """Read-only or editable."""
        assign(self.input, disabled=disabled)


PROBE_NUMBERS = (
    ("initialDelaySeconds", "delay s", parse_number),
    ("periodSeconds", "period s", parse_number),
    ("timeoutSeconds", "timeout s", parse_number),
    ("failureThreshold", "failures", parse_int),
    ("successThreshold", "successes", parse_int),
)


class ProbeEditor:
    """One HTTP probe (readiness, liveness or startup): on/off, path, port, scheme, timings."""

    def __init__(
        self, key: str, label: str, on_change: Callback, probe: dict[str, Any] | None = None
    ) -> None:
        self.key = key
        slug = key.removesuffix("Probe")
        given = probe or {}
        self.enabled: Widget = checkbox(
            label, f"wl-probe-{slug}", value=probe is not None, width="7em"
        )
        self.enabled.observe(lambda _: self._toggled(on_change), names="value")
        self.path: Widget = text_input(
            "path",
            f"wl-probe-{slug}-path",
            on_change,
            value=str(given.get("path", "")),
            placeholder="/healthz",
            width="14em",
        )
        self.port: Widget = text_input(
            "port",
            f"wl-probe-{slug}-port",
            on_change,
            value=format_number(given.get("port")),
            placeholder="(container's)",
            width="10em",
        )
        self.scheme: Widget = dropdown(
            ["HTTP", "HTTPS"],
            value=given.get("scheme"),
            description="scheme",  # its accessible name
            label_width="initial",
            width="11em",
        )
        self.scheme.observe(lambda _: on_change(), names="value")
        self.numbers: dict[str, Widget] = {
            name: text_input(
                label_,
                f"wl-probe-{slug}-{name}",
                on_change,
                value=format_number(given.get(name)),
                width="9em",
            )
            for name, label_, _ in PROBE_NUMBERS
        }
        self.message: Widget = message_widget()
        self.box: Widget = vbox(
            [
                hbox([self.enabled, self.path, self.port, self.scheme]),
                hbox(list(self.numbers.values())),
                self.message,
            ],
            "wl-probe",
        )
        self._read_only = False
        self._apply_disabled()

    def _toggled(self, on_change: Callback) -> None:
        self._apply_disabled()
        on_change()

    def _apply_disabled(self) -> None:
        off = self._read_only or not self.enabled.value
        for field in (self.path, self.port, self.scheme, *self.numbers.values()):
            assign(field, disabled=off)
        assign(self.enabled, disabled=self._read_only)

    def load(self, probe: dict[str, Any] | None) -> None:
        """Show the server's probe (``None``: off, fields keep their text)."""
        assign(self.enabled, value=probe is not None)
        if probe is not None:
            assign(self.path, value=str(probe.get("path", "")))
            assign(self.port, value=format_number(probe.get("port")))
            assign(self.scheme, value=probe.get("scheme", "HTTP"))
            for name, widget in self.numbers.items():
                assign(widget, value=format_number(probe.get(name)))
        self._apply_disabled()

    def read(self, base: dict[str, Any] | None) -> tuple[dict[str, Any] | None, list[str]]:
        """The probe as wire data on top of ``base`` (keeps fields the form does not show)."""
        if not self.enabled.value:
            return None, []
        problems: list[str] = []
        probe: dict[str, Any] = dict(base or {})
        probe["path"] = str(self.path.value).strip()
        probe["scheme"] = self.scheme.value
        fields: list[tuple[str, str, Callable[[str], Any]]] = [
            ("port", "port", lambda t: parse_int(t, "a port number")),
            *PROBE_NUMBERS,
        ]
        for name, label, parse in fields:
            widget = self.port if name == "port" else self.numbers[name]
            try:
                value = parse(str(widget.value))
            except FieldProblem as exc:
                problems.append(f"{label}: {exc}")
                value = str(widget.value)
            if value is None:
                probe.pop(name, None)
            else:
                probe[name] = value
        return probe, problems

    def show(self, problem: str | None) -> None:
        """Show (or clear) the probe's message."""
        assign(self.message, value=problem_html(problem))

    def set_disabled(self, disabled: bool) -> None:
        """Read-only or editable."""
        self._read_only = disabled
        self._apply_disabled()


class ResourceEditor:
    """The container's resource request: CPUs, memory, GPUs."""

    def __init__(self, on_change: Callback, request: dict[str, Any] | None = None) -> None:
        given = request or {}
        self.cpu: Widget = text_input(
            "CPUs",
            "wl-field-cpu",
            on_change,
            value=format_number(given.get("cpu")),
            placeholder="0.5 or 500m",
            width="12em",
        )
        self.memory: Widget = text_input(
            "memory",
            "wl-field-memory",
            on_change,
            value=format_memory(given.get("memory")),
            placeholder="512Mi",
            width="12em",
        )
        gpus = format_number(given.get("gpu")) if given.get("gpu") else ""
        self.gpu: Widget = text_input("GPUs", "wl-field-gpu", on_change, value=gpus, width="8em")
        self.gpu_type: Widget = text_input(
            "GPU type",
            "wl-field-gpu-type",
            on_change,
            value=str(given.get("gpuType") or ""),
            width="14em",
        )
        self.message: Widget = message_widget()
        self.box: Widget = vbox(
            [hbox([self.cpu, self.memory, self.gpu, self.gpu_type]), self.message],
            "wl-resources",
        )

    def load(self, request: dict[str, Any] | None) -> None:
        """Show the server's resource request (empty fields for none)."""
        request = request or {}
        assign(self.cpu, value=format_number(request.get("cpu")))
        assign(self.memory, value=format_memory(request.get("memory")))
        assign(self.gpu, value=format_number(request.get("gpu")) if request.get("gpu") else "")
        assign(self.gpu_type, value=str(request.get("gpuType") or ""))

    def read(self, base: dict[str, Any] | None) -> tuple[dict[str, Any] | None, list[str]]:
        """The request as wire data; ``None`` when every field is blank."""
        texts = [str(w.value).strip() for w in (self.cpu, self.memory, self.gpu, self.gpu_type)]
        if not any(texts):
            return None, []
        problems: list[str] = []
        request: dict[str, Any] = dict(base or {})
        parsers: list[tuple[str, str, Callable[[str], Any], str]] = [
            ("cpu", "CPUs", parse_cpu, texts[0]),
            ("memory", "memory", parse_memory, texts[1]),
            ("gpu", "GPUs", parse_int, texts[2]),
        ]
        for name, label, parse, typed in parsers:
            try:
                value = parse(typed)
            except FieldProblem as exc:
                problems.append(f"{label}: {exc}")
                value = typed
            if value is None:
                request.pop(name, None)
            else:
                request[name] = value
        if texts[3]:
            request["gpuType"] = texts[3]
        else:
            request.pop("gpuType", None)
        return request, problems

    def show(self, problem: str | None) -> None:
        """Show (or clear) the message."""
        assign(self.message, value=problem_html(problem))

    def set_disabled(self, disabled: bool) -> None:
        """Read-only or editable."""
        for field in (self.cpu, self.memory, self.gpu, self.gpu_type):
            assign(field, disabled=disabled)
