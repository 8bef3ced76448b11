"""Secret environment values: references checked, resolved at each start, masked in the logs.

A spec holds *references* (``dr-credential``: a credential's key; ``api-key``: this server's own
token), never their values. Three things happen to them here:

- **Checked** (:func:`reference_problems`): each ``dr-credential`` variable names a credential
  that exists and one of its keys. The operations refuse an artifact or a start whose references
  are broken (``422`` naming the variable).
- **Resolved** (:meth:`Secrets.resolve`), in memory, at each start of an instance (a start, a
  restart after a crash, a start after the server restarted): the spec the runtime gets has
  plain variables with the values; the stored spec keeps the references. An ``api-key`` variable
  becomes its name (default ``DATAROBOT_API_TOKEN``) with this server's token, plus
  ``DATAROBOT_ENDPOINT`` with the server's base URL (``…/api/v2``) unless the container sets
  that variable itself. A reference that cannot be resolved (its credential was deleted) fails
  the start with a message naming the variable and the credential (the workload is
  ``errored``); the values never reach a message.
- **Masked** (:meth:`Secrets.mask_lines`): an app that prints a value gets it stored as
  :data:`MASK` in its log lines, and so in ``logTail`` and ``/logs``. Each workload is masked
  with every value its instances resolved during this server's life (an instance still running
  after its credential was deleted keeps being masked), and with the server's token always.
  Status messages (and through them events and the server's log) are masked the same way.

**Masking rules and limits.** Matching is exact, per stored line: a value printed whole on one
line is masked wherever it appears in it. A value of several lines (a PEM key, a JSON key file)
is masked line by line: each of its lines, stripped, is a value of its own. A value's JSON
string form (``"`` and ``\\`` escaped) is masked too. Values (and lines of values) shorter than
:data:`MIN_MASKED_LENGTH` characters are not masked: masking every ``abc`` in a log would wreck
it and, by where the stars fall, tell the value anyway. Not masked: a value the app transforms
(base64, URL-encoding, reversing, slicing), split by the app across lines at other places, or
cut at the :data:`~workloadlab.server.runtimes.logs.MAX_LINE_BYTES` limit of a line. After a
server restart, an adopted instance is masked with the values its artifact's references resolve
to then (a credential deleted meanwhile can no longer be masked for it).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from workloadlab.models import (
    ApiKeyEnvironmentVar,
    ArtifactSpec,
    Container,
    CredentialEnvironmentVar,
    EnvironmentVar,
)
from workloadlab.models.spec import ENDPOINT_VARIABLE
from workloadlab.server.runtimes import StartFailed
from workloadlab.server.store import LogLine, Store

logger = logging.getLogger("workloadlab.server")

MASK = "****"
"""What a secret value becomes in a stored log line or a status message."""
MIN_MASKED_LENGTH = 4
"""Values (and lines of values) shorter than this are not masked (see the module docstring)."""

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class ReferenceProblem:
    """A reference that cannot be resolved: where in the spec, and why (no value in it)."""

    loc: Loc
    """The field's path inside the spec: ``("containerGroups", 0, "containers", 0,
    "environmentVars", 2, "drCredentialId")``."""
    message: str


def _references(spec: ArtifactSpec) -> Iterable[tuple[Loc, Container, CredentialEnvironmentVar]]:
    for g, group in enumerate(spec.container_groups):
        for c, container in enumerate(group.containers):
            for v, variable in enumerate(container.environment_vars):
                if isinstance(variable, CredentialEnvironmentVar):
                    loc = ("containerGroups", g, "containers", c, "environmentVars", v)
                    yield loc, container, variable


def reference_problems(store: Store, spec: ArtifactSpec) -> list[ReferenceProblem]:
    """Every ``dr-credential`` variable of ``spec`` that names no credential, or a key its
    credential does not have."""
    problems = []
    for loc, _, variable in _references(spec):
        credential = store.get_credential(variable.dr_credential_id)
        where = f"environment variable {variable.name}"
        if credential is None:
            problems.append(
                ReferenceProblem(
                    (*loc, "drCredentialId"),
                    f"{where}: credential {variable.dr_credential_id} does not exist"
                    " (it may have been deleted)",
                )
            )
        elif variable.key not in credential.keys:
            problems.append(
                ReferenceProblem(
                    (*loc, "key"),
                    f"{where}: credential {credential.id} ({credential.name}) has no key"
                    f" {variable.key!r} (its keys: {', '.join(credential.keys)})",
                )
            )
    return problems


class UnresolvedReference(StartFailed):
    """A start failed: a reference could not be resolved (the message names the variable)."""


class Masker:
    """Replaces known secret values in text with :data:`MASK`."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        """Mask these values too (each line of a multi-line value on its own; short ones not)."""
        before = len(self._values)
        for value in values:
            for piece in (value, json.dumps(value)[1:-1], *value.splitlines()):
                piece = piece.strip()
                if len(piece) >= MIN_MASKED_LENGTH:
                    self._values.add(piece)
        if len(self._values) != before:
            longest_first = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in longest_first))

    def mask(self, text: str) -> str:
        """``text`` with every value replaced."""
        return text if self._pattern is None else self._pattern.sub(MASK, text)

    def mask_lines(self, lines: Sequence[LogLine]) -> Sequence[LogLine]:
        """The lines with every value replaced (the same objects where nothing was)."""
        if self._pattern is None:
            return lines
        masked: list[LogLine] | None = None
        for index, line in enumerate(lines):
            message, count = self._pattern.subn(MASK, line.message)
            if count:
                masked = masked or list(lines)
                masked[index] = dataclasses.replace(line, message=message)
        return lines if masked is None else masked


class Secrets:
    """Resolves a workload's references at each start and masks what it resolved."""

    def __init__(self, store: Store, token: str, endpoint: Callable[[], str]) -> None:
        """``token``: the server's API token (the ``api-key`` value, always masked);
        ``endpoint``: the server's base URL (``…/api/v2``), asked at each resolution."""
        self.store = store
        self._token = token
        self._endpoint = endpoint
        self._maskers: dict[str, Masker] = {}

    def _masker(self, workload_id: str) -> Masker:
        masker = self._maskers.get(workload_id)
        if masker is None:
            masker = self._maskers[workload_id] = Masker([self._token])
        return masker

    def resolve(self, workload_id: str, spec: ArtifactSpec) -> ArtifactSpec:
        """``spec`` with every reference replaced by a plain variable holding its value (a
        copy, for the runtime only); :class:`UnresolvedReference` if one cannot be resolved.
        The values are masked in the workload's logs from now on."""
        problems = reference_problems(self.store, spec)
        if problems:
            raise UnresolvedReference("; ".join(problem.message for problem in problems))
        values: list[str] = []
        groups = []
        for group in spec.container_groups:
            containers = [self._resolved(container, values) for container in group.containers]
            groups.append(group.model_copy(update={"containers": containers}))
        self._masker(workload_id).add(values)
        return spec.model_copy(update={"container_groups": groups})

    def _resolved(self, container: Container, values: list[str]) -> Container:
        if all(isinstance(v, EnvironmentVar) for v in container.environment_vars):
            return container
        plain: list[EnvironmentVar] = []
        names = {variable.env_name for variable in container.environment_vars}
        for variable in container.environment_vars:
            if isinstance(variable, CredentialEnvironmentVar):
                found = self.store.credential_values(variable.dr_credential_id) or {}
                value = found[variable.key]  # checked just before, on this same connection
                values.append(value)
                plain.append(EnvironmentVar(name=variable.name, value=value))
            elif isinstance(variable, ApiKeyEnvironmentVar):
                plain.append(EnvironmentVar(name=variable.env_name, value=self._token))
                if ENDPOINT_VARIABLE not in names:
                    plain.append(EnvironmentVar(name=ENDPOINT_VARIABLE, value=self._endpoint()))
            else:
                plain.append(variable)
        return container.model_copy(update={"environment_vars": plain})

    def learn(self, workload_id: str, artifact_id: str) -> None:
        """Mask what an instance adopted after a server restart resolved, as far as its
        artifact's references resolve now (best effort: they were resolved by another
        server)."""
        artifact = self.store.get_artifact(artifact_id)
        if artifact is None:
            return
        try:
            self.resolve(workload_id, ArtifactSpec.model_validate(artifact.spec))
        except (UnresolvedReference, ValueError) as exc:
            logger.warning("workload %s: its secrets cannot all be masked: %s", workload_id, exc)

    def mask(self, workload_id: str, text: str) -> str:
        """``text`` (a status message) with the workload's values masked."""
        return self._masker(workload_id).mask(text)

    def mask_lines(self, workload_id: str, lines: Sequence[LogLine]) -> Sequence[LogLine]:
        """Log lines of the workload with its values masked."""
        return self._masker(workload_id).mask_lines(lines)

    def forget(self, workload_id: str) -> None:
        """Drop what is kept for a deleted workload."""
        self._maskers.pop(workload_id, None)
