"""DataRobot's configuration files (``drconfig.yaml``): where they are and what they say.

Two tools write them: DataRobot's Python SDK reads ``$DATAROBOT_CONFIG_FILE`` (before the
environment variables) and DataRobot's CLI reads ``$DATAROBOT_CLI_CONFIG``; both default to
``~/.config/datarobot/drconfig.yaml``. Both the client (which reads its endpoint, token and TLS
settings) and the Jupyter server extension (which starts no local server when DataRobot is
configured) need them. This module sits below both layers, like :mod:`workloadlab.connection`,
so the extension never imports the client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from workloadlab.errors import ConfigError

CONFIG_FILE_ENV = "DATAROBOT_CONFIG_FILE"
"""DataRobot's SDK's file: read instead of the environment variables when set."""
CLI_CONFIG_ENV = "DATAROBOT_CLI_CONFIG"
"""DataRobot's CLI's file: read instead of the default file when set."""

KEYS = ("endpoint", "token", "ssl_verify", "token_type", "ca-cert")
"""What the client reads of a drconfig.yaml; ``ca-cert`` is where DataRobot's CLI keeps a CA
bundle."""


def default_path() -> Path:
    """``~/.config/datarobot/drconfig.yaml``, where both DataRobot tools look by default."""
    return Path.home() / ".config" / "datarobot" / "drconfig.yaml"


def sdk_config_file(env: Mapping[str, str]) -> Path | None:
    """``$DATAROBOT_CONFIG_FILE``, if set."""
    configured = env.get(CONFIG_FILE_ENV)
    return Path(configured).expanduser() if configured else None


def cli_config_file(env: Mapping[str, str]) -> tuple[Path, str | None]:
    """``$DATAROBOT_CLI_CONFIG`` or the default file, and the variable that named it."""
    configured = env.get(CLI_CONFIG_ENV)
    if configured:
        return Path(configured).expanduser(), CLI_CONFIG_ENV
    return default_path(), None


def default_config_file(env: Mapping[str, str] | None = None) -> Path:
    """The file whose ``endpoint`` says DataRobot is configured when the environment does not:
    ``$DATAROBOT_CONFIG_FILE``, else ``$DATAROBOT_CLI_CONFIG``, else the default file."""
    env = os.environ if env is None else env
    return sdk_config_file(env) or cli_config_file(env)[0]


def read_drconfig(path: Path) -> dict[str, Any]:
    """The :data:`KEYS` a drconfig.yaml sets (missing or empty keys are left out).

    ``ssl_verify`` stays as written (a boolean, or text: a boolean word or a CA bundle path);
    the others are text.
    """
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the DataRobot config file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"the DataRobot config file {path} is not valid YAML{_where(exc)}"
        ) from None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"the DataRobot config file {path} should be a mapping with endpoint and token"
        )
    found: dict[str, Any] = {}
    for key in KEYS:
        value = raw.get(key)
        if value is None or value == "":
            continue
        found[key] = value if key == "ssl_verify" and isinstance(value, bool) else str(value)
    return found


def _where(exc: yaml.YAMLError) -> str:
    """Line, column and problem of a YAML error, without the snippet PyYAML quotes (it may be
    the token's line)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f" (line {mark.line + 1}, column {mark.column + 1}: {exc.problem})"
    return ""
