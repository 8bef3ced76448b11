"""DataRobot's configuration file (``drconfig.yaml``): where it is and what it says.

Both the client (which reads its endpoint and token) and the Jupyter server extension (which
starts no local server when DataRobot is configured) need it. It sits below both layers, like
:mod:`workloadlab.connection`, so the extension never imports the client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from workloadlab.errors import ConfigError

CONFIG_FILE_ENV = "DATAROBOT_CONFIG_FILE"


def default_config_file(env: Mapping[str, str] | None = None) -> Path:
    """``$DATAROBOT_CONFIG_FILE``, else ``~/.config/datarobot/drconfig.yaml``."""
    env = os.environ if env is None else env
    configured = env.get(CONFIG_FILE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".config" / "datarobot" / "drconfig.yaml"


def read_drconfig(path: Path) -> dict[str, str]:
    """The ``endpoint`` and ``token`` of a drconfig.yaml (missing keys are left out)."""
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the DataRobot config file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"the DataRobot config file {path} is not valid YAML: {exc}") from None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"the DataRobot config file {path} should be a mapping with endpoint and token"
        )
    return {key: str(raw[key]) for key in ("endpoint", "token") if raw.get(key)}
