"""Where the client finds its endpoint and token.

Precedence, per setting: explicit arguments > ``DATAROBOT_ENDPOINT`` / ``DATAROBOT_API_TOKEN`` >
``drconfig.yaml`` (``$DATAROBOT_CONFIG_FILE`` or ``~/.config/datarobot/drconfig.yaml``, keys
``endpoint`` and ``token``) > the local server's connection file (``server.json`` in
:func:`~workloadlab.connection.default_data_dir`), which is used only as a pair. Endpoints are
accepted with or without ``/api/v2`` (DataRobot's CLI writes them without) and a trailing slash.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from workloadlab.connection import CONNECTION_FILE, default_data_dir, read_connection
from workloadlab.drconfig import CONFIG_FILE_ENV, default_config_file, read_drconfig
from workloadlab.errors import ConfigError

ENDPOINT_ENV = "DATAROBOT_ENDPOINT"
TOKEN_ENV = "DATAROBOT_API_TOKEN"
API_PATH = "/api/v2"


@dataclass(frozen=True)
class ClientConfig:
    """A resolved endpoint (ending in ``/api/v2``) and token, and where each came from."""

    endpoint: str
    token: str = field(repr=False)
    source: str
    """Where the settings came from: ``arguments``, ``environment``, a file, a local server."""

    def __repr__(self) -> str:
        return f"ClientConfig(endpoint={self.endpoint!r}, token=***, source={self.source!r})"


def normalize_endpoint(endpoint: str, *, source: str = "the endpoint") -> str:
    """``https://host`` or ``https://host/api/v2/`` → ``https://host/api/v2``."""
    text = endpoint.strip()
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"{source} {text!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"{source} {text!r} is not an http(s) URL; expected e.g. "
            "https://app.datarobot.com/api/v2 or http://127.0.0.1:8080/api/v2"
        )
    path = url.path.rstrip("/")
    if not path.endswith(API_PATH):
        path += API_PATH
    return str(url.copy_with(path=path, query=None, fragment=None))


def resolve_config(
    endpoint: str | None = None,
    token: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
) -> ClientConfig:
    """Find the endpoint and token by the precedence in the module docstring.

    Raises :class:`~workloadlab.errors.ConfigError` naming every place it looked when nothing
    (or only half) is found.
    """
    env = os.environ if env is None else env
    found: dict[str, tuple[str, str]] = {}  # setting -> (value, source)
    if endpoint:
        found["endpoint"] = (endpoint, "arguments")
    if token:
        found["token"] = (token, "arguments")
    for key, name in (("endpoint", ENDPOINT_ENV), ("token", TOKEN_ENV)):
        if key not in found and env.get(name):
            found[key] = (env[name], "environment")

    config_file = default_config_file(env)
    config_note = f"{config_file} (not found)"
    if len(found) < 2:
        explicit = bool(env.get(CONFIG_FILE_ENV))
        if config_file.is_file() or explicit:
            if not config_file.is_file():
                raise ConfigError(
                    f"${CONFIG_FILE_ENV} points to {config_file}, which does not exist"
                )
            config_note = f"{config_file} (no endpoint/token in it)"
            for key, value in read_drconfig(config_file).items():
                found.setdefault(key, (value, str(config_file)))

    connection_dir = data_dir if data_dir is not None else default_data_dir()
    connection_note = f"{connection_dir / CONNECTION_FILE} (not found)"
    if len(found) < 2:
        connection = read_connection(connection_dir)
        if connection is not None and not connection.pid_alive():
            connection_note = (
                f"{connection_dir / CONNECTION_FILE} (its server, pid {connection.pid}, "
                "is not running)"
            )
        elif connection is not None:
            local_endpoint = normalize_endpoint(connection.endpoint)
            if not found:
                source = f"local server ({connection_dir / CONNECTION_FILE})"
                return ClientConfig(local_endpoint, connection.token, source)
            if "endpoint" in found and _same(found["endpoint"][0], local_endpoint):
                found["token"] = (connection.token, f"local server ({connection_dir})")
            else:
                connection_note = (
                    f"{connection_dir / CONNECTION_FILE} (a local server at {local_endpoint}, "
                    "not used for another endpoint's token)"
                )

    if "endpoint" in found and "token" in found:
        (endpoint_value, endpoint_source), (token_value, token_source) = (
            found["endpoint"],
            found["token"],
        )
        source = (
            endpoint_source
            if endpoint_source == token_source
            else f"endpoint from {endpoint_source}, token from {token_source}"
        )
        return ClientConfig(
            normalize_endpoint(endpoint_value, source=f"the endpoint from {endpoint_source}"),
            token_value,
            source,
        )

    missing = " and ".join(key for key in ("endpoint", "token") if key not in found)
    raise ConfigError(
        f"no Workload API {missing} configured. Looked, in this order, at:\n"
        f"  - the endpoint= and token= arguments\n"
        f"  - the environment variables {ENDPOINT_ENV} and {TOKEN_ENV}\n"
        f"  - {config_note}\n"
        f"  - a local server's connection file: {connection_note}\n"
        "Set DATAROBOT_ENDPOINT and DATAROBOT_API_TOKEN for DataRobot, or use "
        "`await AsyncClient.local()` to start (or find) a local server."
    )


def _same(endpoint: str, normalized: str) -> bool:
    try:
        return normalize_endpoint(endpoint) == normalized
    except ConfigError:
        return False
