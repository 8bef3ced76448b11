"""Pre-flight checks: the mistakes a spec can carry that no ``422`` catches, found before it runs.

The API accepts an artifact whose readiness probe asks the wrong port, whose app is told to
bind loopback inside a container, or whose environment holds a pasted key: the workload then
sits in ``initializing`` with nothing pointing at the cause. :func:`check_spec` reads what the
user wrote (a whole create body, an artifact, a container spec or one container, as
:mod:`workloadlab.notebook.specs` accepts them) as plain data, so it also reports what the
models would refuse, and returns :class:`Finding` s: a severity, the field path the server's
``422`` s use (``spec.containerGroups[0].containers[0].readinessProbe.port``), a message and a
suggested fix. It never raises on odd shapes and never echoes an environment value.

Severities: ``error`` (it cannot work: create and save refuse it unless forced), ``warning``
(it may be wrong, or works here but not on DataRobot: never blocks; a probe whose timeout is
not below its period is one: it passes while the app answers quickly), ``info`` (what was not
checked, and why). Some rules depend on where the spec runs (:class:`Target`): both local
runtimes set ``$PORT`` to the port, and the process runtime runs on the host, where loopback is
reachable; on DataRobot and in containers neither holds.

The checks that need the machine (is the entrypoint's executable there, is the image local or
pullable, does the machine have the resources asked for) are the local server's
(``POST /local/preflight``); :func:`skipped_machine_checks` says so against DataRobot.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from workloadlab.models.secrets import looks_secret


class Severity(StrEnum):
    """How much a finding matters: errors block create and save unless forced."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Target(StrEnum):
    """Where the spec will run: some rules depend on it."""

    DATAROBOT = "datarobot"
    PROCESS = "process"
    """The local server's process runtime: the entrypoint runs on the host."""
    CONTAINER = "container"
    """The local server's container runtime."""


class Finding(BaseModel):
    """One thing a check found: where (the API's field path), what, and how to fix it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    severity: Severity
    path: str
    message: str
    fix: str = ""
    rule: str
    """A stable name of the rule (``probe-port``...), for tests and filters."""

    def line(self) -> str:
        """The finding in one line: ``error spec.…port: message (fix: …)``."""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{self.severity.value}: {self.path}: {self.message}.{fix}"


class PreflightReport(BaseModel):
    """What ``POST /local/preflight`` answers: the runtime it judged for, and the findings."""

    model_config = ConfigDict(extra="ignore")

    runtime: str
    findings: list[Finding]


MACHINE_RULES = frozenset({"entrypoint-executable", "image-unavailable", "resources"})
"""The rules only the local server's machine answers (``POST /local/preflight``)."""
PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
LOOPBACK = re.compile(r"^(127(\.\d{1,3}){3}|localhost|::1|\[::1\])(:\d+)?$", re.IGNORECASE)
BIND_VARIABLES = frozenset(
    {
        "HOST",
        "BIND",
        "BIND_HOST",
        "BIND_ADDR",
        "BIND_ADDRESS",
        "LISTEN",
        "LISTEN_HOST",
        "LISTEN_ADDR",
        "LISTEN_ADDRESS",
        "SERVER_HOST",
        "APP_HOST",
        "UVICORN_HOST",
        "GUNICORN_BIND",
        "FLASK_RUN_HOST",
        "STREAMLIT_SERVER_ADDRESS",
        "GRADIO_SERVER_NAME",
    }
)
"""Variables that tell an app (or its server: uvicorn, gunicorn, Flask...) where to listen."""
BIND_FLAGS = frozenset({"--host", "--bind", "--address", "--listen", "-b", "--server.address"})
"""Command-line flags that do the same."""


def check_spec(data: Any, target: Target = Target.DATAROBOT) -> list[Finding]:
    """Every finding of the pure rules on ``data`` (whatever a user writes as a spec), for a
    spec that runs on ``target``; errors first."""
    findings: list[Finding] = []
    for where, container in containers_of(data):
        findings += _check_container(where, container, target)
    order = list(Severity)
    return sorted(findings, key=lambda finding: order.index(finding.severity))


def skipped_machine_checks(reason: str) -> list[Finding]:
    """The info findings that say the machine-bound checks did not run, and why."""
    return [
        Finding(
            severity=Severity.INFO,
            path="spec",
            message=f"not checked: {what} ({reason})",
            rule="skipped",
        )
        for what in (
            "whether the entrypoint's executable exists",
            "whether the image is local or pullable",
            "whether the machine has the resources requested",
        )
    ]


def blocking(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that block create and save (errors)."""
    return [finding for finding in findings if finding.severity is Severity.ERROR]


def summary(findings: Sequence[Finding]) -> str:
    """How many of each severity, in words: ``1 error, 2 warnings`` (``no findings``)."""
    counts = [
        (sum(f.severity is severity for f in findings), severity.value) for severity in Severity
    ]
    words = [f"{n} {word}{'s' if n != 1 and word != 'info' else ''}" for n, word in counts if n]
    return ", ".join(words) or "no findings"


def spec_of(data: Any) -> Mapping[str, Any] | None:
    """The container spec in what a user wrote (a create body, an artifact, a spec, one
    container), as ``{"containerGroups": ...}``; ``None`` if there is none."""
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("artifact"), Mapping):
        data = data["artifact"]
    if isinstance(data.get("spec"), Mapping):
        return dict(data["spec"])
    if "containerGroups" in data:
        return dict(data)
    if "imageUri" in data or "entrypoint" in data:
        return {"containerGroups": [{"containers": [{"primary": True, **data}]}]}
    return None


def containers_of(data: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each container with its path (the API's: ``spec.containerGroups[0].containers[1]``)."""
    groups = _list((spec_of(data) or {}).get("containerGroups"))
    for g, group in enumerate(groups):
        if not isinstance(group, Mapping):
            continue
        for c, container in enumerate(_list(group.get("containers"))):
            if isinstance(container, Mapping):
                yield f"spec.containerGroups[{g}].containers[{c}]", container


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _number(value: Any) -> int | float | None:
    """A number as written (``True`` is none); kept an ``int`` (JSON and YAML integers have no
    size limit, and Python compares them with floats exactly: no float overflow)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _port(value: Any) -> int | None:
    """A port as written: an integer, not ``True``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def shown_number(value: int | float) -> str:
    """A number in a message: ``2``, ``0.5``; a huge integer by its size, not 400 digits."""
    if isinstance(value, int):
        return str(value) if abs(value) < 10**15 else f"a {len(str(abs(value)))}-digit number"
    return f"{value:g}"


def _check_container(where: str, container: Mapping[str, Any], target: Target) -> list[Finding]:
    primary = container.get("primary") is True
    port = _port(container.get("port"))
    found: list[Finding] = []
    for key in PROBES:
        probe = container.get(key)
        if isinstance(probe, Mapping):
            found += _check_probe(f"{where}.{key}", key, probe, port)
    if primary and not isinstance(container.get(PROBES[0]), Mapping):
        found.append(
            Finding(
                severity=Severity.WARNING,
                path=f"{where}.readinessProbe",
                message="the primary container has no readiness probe: the workload counts as"
                " running as soon as it starts, before the app answers",
                fix='add readinessProbe: {path: "/healthz"} (a path the app answers with 200)',
                rule="no-readiness-probe",
            )
        )
    found += _check_env(where, container, port, target)
    if primary:
        found += _check_entrypoint_binding(where, container, target)
    return found


def _check_probe(where: str, key: str, probe: Mapping[str, Any], port: int | None) -> list[Finding]:
    found: list[Finding] = []
    name = key.removesuffix("Probe")
    probe_port = _port(probe.get("port"))
    if probe_port is not None and port is not None and probe_port != port:
        found.append(
            Finding(
                severity=Severity.ERROR,
                path=f"{where}.port",
                message=f"the {name} probe asks port {shown_number(probe_port)}, but the"
                f" container serves port {shown_number(port)}: it can never pass",
                fix=f"set {key}.port to {shown_number(port)}, or leave it out (it defaults to"
                " the port)",
                rule="probe-port",
            )
        )
    path = probe.get("path")
    if isinstance(path, str) and not path.startswith("/"):
        found.append(
            Finding(
                severity=Severity.ERROR,
                path=f"{where}.path",
                message=f"the {name} probe's path does not start with /",
                fix=f'write it as "/{path.lstrip()}"',
                rule="probe-path",
            )
        )
    for threshold in ("failureThreshold", "successThreshold"):
        value = _number(probe.get(threshold))
        if value is not None and value < 1:
            found.append(
                Finding(
                    severity=Severity.ERROR,
                    path=f"{where}.{threshold}",
                    message=f"a {threshold} under 1 means the {name} probe can never decide",
                    fix=f"set {threshold} to 1 or more (or leave it out)",
                    rule="probe-timing",
                )
            )
    period, timeout = _number(probe.get("periodSeconds")), _number(probe.get("timeoutSeconds"))
    if period is not None and timeout is not None and timeout >= period:
        found.append(
            Finding(
                severity=Severity.WARNING,
                path=f"{where}.timeoutSeconds",
                message=f"the {name} probe's timeoutSeconds ({shown_number(timeout)}) is not"
                f" below its periodSeconds ({shown_number(period)}): a slow answer is still"
                " awaited when the next probe is due, so a slow start fails more probes than"
                " the threshold suggests",
                fix="make timeoutSeconds smaller than periodSeconds",
                rule="probe-timing",
            )
        )
    return found


def _check_env(
    where: str, container: Mapping[str, Any], port: int | None, target: Target
) -> list[Finding]:
    found: list[Finding] = []
    seen: set[str] = set()
    for index, variable in enumerate(_list(container.get("environmentVars"))):
        if not isinstance(variable, Mapping):
            continue
        at = f"{where}.environmentVars[{index}]"
        source = variable.get("source")
        name = variable.get("name")
        if name is None and source == "api-key":
            name = "DATAROBOT_API_TOKEN"
        if not isinstance(name, str):
            continue
        if name in seen:
            found.append(
                Finding(
                    severity=Severity.ERROR,
                    path=f"{at}.name",
                    message=f"environment variable {name} is defined twice",
                    fix="keep one of them",
                    rule="duplicate-env",
                )
            )
        seen.add(name)
        value = variable.get("value")
        if source not in (None, "string") or not isinstance(value, str):
            continue
        found += _check_plain_variable(at, name, value, container, port, target)
    return found


def _check_plain_variable(
    at: str,
    name: str,
    value: str,
    container: Mapping[str, Any],
    port: int | None,
    target: Target,
) -> list[Finding]:
    found: list[Finding] = []
    reason = looks_secret(name, value)
    if reason is not None:
        found.append(
            Finding(
                severity=Severity.WARNING,
                path=f"{at}.value",
                message=f"environment variable {name} {reason}: a plain value is stored with"
                " the artifact, shown by GET and kept in every version",
                fix=f'store it as a credential and refer to it: {{source: "dr-credential",'
                f' name: {name}, drCredentialId: …, key: …}} (the panel\'s "secret" toggle'
                " does it)",
                rule="plain-secret",
            )
        )
    if name == "PORT" and port is not None and value.strip() != str(port):
        local = target is not Target.DATAROBOT
        found.append(
            Finding(
                severity=Severity.WARNING if local else Severity.ERROR,
                path=f"{at}.value",
                message="PORT is set by hand to something other than the port"
                f" ({shown_number(port)}): "
                + (
                    "this server sets $PORT itself, but DataRobot would start the app on"
                    " another port than the probes and invoke use"
                    if local
                    else "the app would listen where the probes and invoke do not look"
                ),
                fix="remove PORT from the environment (the runtime sets it to the port)",
                rule="port-env",
            )
        )
    if container.get("primary") is True and name in BIND_VARIABLES and _loopback(value):
        found.append(_loopback_finding(f"{at}.value", f"{name}={value.strip()}", target))
    return found


def _check_entrypoint_binding(
    where: str, container: Mapping[str, Any], target: Target
) -> list[Finding]:
    argv = [part for part in _list(container.get("entrypoint")) if isinstance(part, str)]
    for index, part in enumerate(argv):
        flag, equals, inline = part.partition("=")
        if flag not in BIND_FLAGS:
            continue
        value = inline if equals else (argv[index + 1] if index + 1 < len(argv) else "")
        where_value = index if equals else index + 1
        if _loopback(value):
            shown = f"{flag} {value}"
            return [_loopback_finding(f"{where}.entrypoint[{where_value}]", shown, target)]
    return []


def _loopback(value: str) -> bool:
    """Whether ``value`` (a host, ``host:port``, ``[v6]:port``) is a loopback address, in any
    spelling (``127.0.0.53``, ``::1``, ``0:0:0:0:0:0:0:1``, ``::ffff:127.0.0.1``)."""
    text = value.strip()
    if LOOPBACK.match(text):
        return True
    if text.startswith("["):
        host = text[1:].split("]", 1)[0]
    else:
        host = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return bool(LOOPBACK.match(host))
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _loopback_finding(path: str, told: str, target: Target) -> Finding:
    on_host = target is Target.PROCESS
    return Finding(
        severity=Severity.WARNING if on_host else Severity.ERROR,
        path=path,
        message=f"the app is told to listen on loopback only ({told}): "
        + (
            "that works with this server's process runtime, but inside a container (the"
            " container runtime, DataRobot) the probes and invoke cannot reach it"
            if on_host
            else "inside a container the probes and invoke cannot reach it, and the workload"
            " stays initializing"
        ),
        fix="listen on all interfaces: 0.0.0.0",
        rule="loopback-bind",
    )
