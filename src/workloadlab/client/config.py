"""Where the client finds its endpoint, token, ``ssl_verify`` and ``token_type``: the way
DataRobot's Python SDK and CLI do.

Sources, in this order; the first that sets an endpoint or a token is the one used:

1. the arguments ``endpoint=`` and ``token=``;
2. ``$DATAROBOT_CONFIG_FILE`` (the SDK's file: when set, the SDK reads it *instead of* the
   environment variables, so it comes before them here too);
3. the environment: ``DATAROBOT_ENDPOINT`` (or ``DATAROBOT_API_ENDPOINT``, which the CLI also
   reads) and ``DATAROBOT_API_TOKEN``, with ``DATAROBOT_SSL_VERIFY``;
4. ``$DATAROBOT_CLI_CONFIG`` (the CLI's file), else ``~/.config/datarobot/drconfig.yaml``, the
   file both tools read by default (keys ``endpoint``, ``token``, ``ssl_verify``,
   ``token_type``, and the CLI's ``ca-cert``);
5. the local server's connection file (``server.json`` in
   :func:`~workloadlab.connection.default_data_dir`), while its server runs.

**No mixing** (the SDK's rule, so a token is never sent to another host): the endpoint and the
token come from one source. A source with only one of them is a :class:`ConfigError` naming
the missing variable or key; a named file that does not exist is one too. Endpoints are
accepted with or without ``/api/v2`` (DataRobot's CLI writes them without).

``ssl_verify`` (``True``, ``False`` or the path of a CA bundle file or directory) and
``token_type`` (``Bearer`` or ``Token``) come from the arguments, else from the keys of the
file the endpoint came from, else (``ssl_verify``) from ``DATAROBOT_SSL_VERIFY``, else ``True``
and ``Bearer``.

Where this differs from DataRobot's SDK, and why:

- An ``endpoint=`` argument (or variable) without a token takes the token of a later source
  with *the same* endpoint (the SDK refuses it): ``%workload connect --endpoint URL`` and
  ``DATAROBOT_ENDPOINT=<the local server>`` then name a configured pair; nothing is mixed
  across hosts. A ``token=`` alone is refused, as in the SDK.
- A file's ``ssl_verify``/``token_type`` apply only to that file's endpoint (the SDK applies the
  default file's to any endpoint): ``ssl_verify: false`` or a CA bundle was written for one
  host, and carrying it to another weakens or breaks that host's TLS.
- ``DATAROBOT_SSL_VERIFY`` may also name a CA bundle (the SDK reads a boolean only): an
  on-premises install sets its CA the way it would turn checks off.
- ``token_type`` defaults to ``Bearer`` (the SDK's default is ``Token``): the API contract,
  DataRobot's CLI and the local server use ``Bearer``, which DataRobot accepts for API keys.
- A ``$DATAROBOT_CONFIG_FILE`` with neither endpoint nor token falls through to the variables,
  and ``DATAROBOT_SSL_VERIFY`` applies to it when it sets no ``ssl_verify`` (the SDK then
  ignores every variable): variables set on purpose should not vanish behind an unrelated file.
- A ``$DATAROBOT_CLI_CONFIG`` that does not exist is an error (the CLI silently ignores it): a
  named file that is not there is a typo. ``XDG_CONFIG_HOME`` is not read (the SDK does not;
  the CLI does): point ``DATAROBOT_CLI_CONFIG`` at such a file.

No message names the token: an endpoint that does not parse is not quoted either, since it may
be a token pasted into the wrong variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from workloadlab.connection import CONNECTION_FILE, default_data_dir, read_connection
from workloadlab.drconfig import (
    CONFIG_FILE_ENV,
    cli_config_file,
    read_drconfig,
    sdk_config_file,
)
from workloadlab.errors import ConfigError

ENDPOINT_ENV = "DATAROBOT_ENDPOINT"
CLI_ENDPOINT_ENV = "DATAROBOT_API_ENDPOINT"
TOKEN_ENV = "DATAROBOT_API_TOKEN"
SSL_VERIFY_ENV = "DATAROBOT_SSL_VERIFY"
API_PATH = "/api/v2"
TOKEN_TYPES = {"bearer": "Bearer", "token": "Token"}
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "on", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "off", "0"})

SslVerify = bool | str | os.PathLike[str]


@dataclass(frozen=True)
class ClientConfig:
    """A resolved endpoint (ending in ``/api/v2``) and token, where they came from, and how to
    reach the endpoint."""

    endpoint: str
    token: str = field(repr=False)
    source: str
    """Where the settings came from: ``arguments``, ``environment``, a file, a local server."""
    ssl_verify: bool | str = True
    """Verify the server's certificate (``True``), don't (``False``), or with this CA bundle."""
    token_type: str = "Bearer"
    """The ``Authorization`` scheme: ``Bearer`` or ``Token``."""

    def __repr__(self) -> str:
        return (
            f"ClientConfig(endpoint={self.endpoint!r}, token=***, source={self.source!r}, "
            f"ssl_verify={self.ssl_verify!r}, token_type={self.token_type!r})"
        )


@dataclass(frozen=True)
class _Source:
    """One place that may configure the client, and the names of its settings (for errors)."""

    name: str
    endpoint: str | None
    token: str | None = field(repr=False)
    endpoint_name: str
    """What holds the endpoint (``DATAROBOT_ENDPOINT``, ``endpoint=``, a file's key)."""
    without_token: str = ""
    """The error's words for an endpoint without a token."""
    without_endpoint: str = ""
    """The error's words for a token without an endpoint."""
    ssl_verify: Any = None
    ssl_verify_name: str = ""
    token_type: str | None = None
    token_type_name: str = ""


def normalize_endpoint(endpoint: str, *, source: str = "the endpoint") -> str:
    """``https://host`` or ``https://host/api/v2/`` → ``https://host/api/v2``.

    The rejected text is not quoted in the error: it may be a token in the wrong place.
    """
    expected = "expected e.g. https://app.datarobot.com/api/v2 or http://127.0.0.1:8080/api/v2"
    try:
        url = httpx.URL(endpoint.strip())
    except httpx.InvalidURL:
        raise ConfigError(f"{source} is not an http(s) URL; {expected}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"{source} is not an http(s) URL; {expected}")
    path = url.path.rstrip("/")
    if not path.endswith(API_PATH):
        path += API_PATH
    return str(url.copy_with(path=path, query=None, fragment=None))


def resolve_config(
    endpoint: str | None = None,
    token: str | None = None,
    *,
    ssl_verify: SslVerify | None = None,
    token_type: str | None = None,
    env: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
) -> ClientConfig:
    """Find the endpoint, token and TLS settings by the rules in the module docstring.

    Raises :class:`~workloadlab.errors.ConfigError` for a half-configured source, a bad value,
    or nothing configured (naming every place it looked).
    """
    env = os.environ if env is None else env
    looked: list[str] = []
    wanted: _Source | None = None  # a source with an endpoint and no token
    for source in _sources(endpoint, token, env, data_dir, looked):
        if wanted is not None:
            if source.endpoint and source.token and _same(source.endpoint, wanted.endpoint):
                return _config(source, ssl_verify, token_type, env, via=wanted)
            continue
        if source.endpoint and source.token:
            return _config(source, ssl_verify, token_type, env)
        if source.token:
            raise ConfigError(
                f"{source.without_endpoint}: a token is only sent to the endpoint configured "
                "with it. Set both, or neither."
            )
        if source.endpoint:
            normalize_endpoint(source.endpoint, source=source.endpoint_name)
            wanted = source
    if wanted is not None:
        raise ConfigError(
            f"{wanted.without_token}, and no other configuration has a token for "
            f"{normalize_endpoint(str(wanted.endpoint))}: a token is only sent to the endpoint "
            "configured with it. Set both, or neither."
        )
    places = "".join(f"\n  - {place}" for place in looked)
    raise ConfigError(
        f"no Workload API endpoint and token configured. Looked, in this order, at:{places}\n"
        f"Set {ENDPOINT_ENV} and {TOKEN_ENV} for DataRobot, or use "
        "`await AsyncClient.local()` to start (or find) a local server."
    )


def datarobot_configured() -> bool:
    """Whether DataRobot is configured (env or drconfig.yaml), as opposed to the local server."""
    if os.environ.get("DATAROBOT_ENDPOINT"):
        return True
    try:
        config = resolve_config(None, None)
    except ConfigError:
        return False
    return not config.source.startswith("local")


def _sources(
    endpoint: str | None,
    token: str | None,
    env: Mapping[str, str],
    data_dir: Path | None,
    looked: list[str],
) -> Iterator[_Source]:
    """The sources in order, read as they are reached; ``looked`` notes each place."""
    looked.append("the endpoint= and token= arguments")
    yield _Source(
        "arguments", endpoint, token, "endpoint=",
        "endpoint= was given without token=", "token= was given without endpoint=",
    )  # fmt: skip

    sdk_file = sdk_config_file(env)
    if sdk_file is not None:
        yield _file_source(sdk_file, CONFIG_FILE_ENV, looked)

    fallback = not env.get(ENDPOINT_ENV) and env.get(CLI_ENDPOINT_ENV)
    variable = CLI_ENDPOINT_ENV if fallback else ENDPOINT_ENV
    looked.append(f"the environment variables {ENDPOINT_ENV} and {TOKEN_ENV}")
    yield _Source(
        "environment", env.get(variable) or None, env.get(TOKEN_ENV) or None, variable,
        f"{variable} is set but {TOKEN_ENV} is not", f"{TOKEN_ENV} is set but {variable} is not",
    )  # fmt: skip

    cli_file, file_variable = cli_config_file(env)
    yield _file_source(cli_file, file_variable, looked)

    connection_dir = data_dir if data_dir is not None else default_data_dir()
    path = connection_dir / CONNECTION_FILE
    connection = read_connection(connection_dir)
    if connection is None:
        looked.append(f"a local server's connection file: {path} (not found)")
    elif not connection.pid_alive():
        looked.append(
            f"a local server's connection file: {path} (its server, pid {connection.pid}, "
            "is not running)"
        )
    else:
        looked.append(f"a local server's connection file: {path}")
        yield _Source(f"local server ({path})", connection.endpoint, connection.token, str(path))


def _file_source(path: Path, variable: str | None, looked: list[str]) -> _Source:
    """A drconfig.yaml as a source; a file named by ``variable`` must exist."""
    name = f"${variable} ({path})" if variable else str(path)
    if not path.is_file():
        if variable:
            raise ConfigError(f"${variable} points to {path}, which does not exist")
        looked.append(f"{path} (not found)")
        return _Source(name, None, None, "")
    looked.append(f"{path} (no endpoint or token in it)")
    data = read_drconfig(path)
    ssl_verify = data.get("ssl_verify")
    ssl_verify_name = f"the `ssl_verify` key of {path}"
    if "ca-cert" in data and (ssl_verify is None or _boolean(ssl_verify) is True):
        # DataRobot's CLI keeps its CA bundle here
        ssl_verify, ssl_verify_name = data["ca-cert"], f"the `ca-cert` key of {path}"
    return _Source(
        name,
        data.get("endpoint"),
        data.get("token"),
        f"the `endpoint` key of {path}",
        f"{path} has an endpoint but no `token` key",
        f"{path} has a token but no `endpoint` key",
        ssl_verify,
        ssl_verify_name,
        data.get("token_type"),
        f"the `token_type` key of {path}",
    )


def _config(
    source: _Source,
    ssl_verify: SslVerify | None,
    token_type: str | None,
    env: Mapping[str, str],
    *,
    via: _Source | None = None,
) -> ClientConfig:
    """The configuration of a complete source, with the arguments' settings over its own."""
    assert source.endpoint is not None
    assert source.token is not None
    name = source.name if via is None else f"{via.name} (token from {source.name})"
    if ssl_verify is not None:
        verify = parse_ssl_verify(ssl_verify, "ssl_verify=")
    elif source.ssl_verify is not None:
        verify = parse_ssl_verify(source.ssl_verify, source.ssl_verify_name)
    elif env.get(SSL_VERIFY_ENV):
        verify = parse_ssl_verify(env[SSL_VERIFY_ENV], SSL_VERIFY_ENV)
    else:
        verify = True
    if token_type is not None:
        scheme = parse_token_type(token_type, "token_type=")
    elif source.token_type is not None:
        scheme = parse_token_type(source.token_type, source.token_type_name)
    else:
        scheme = "Bearer"
    return ClientConfig(
        normalize_endpoint(source.endpoint, source=source.endpoint_name), source.token, name,
        verify, scheme,
    )  # fmt: skip


def parse_ssl_verify(value: SslVerify, name: str) -> bool | str:
    """``True``/``False`` (or a word for one), else the path of an existing CA bundle."""
    if isinstance(value, bool):
        return value
    word = _boolean(value)
    if word is not None:
        return word
    path = Path(os.fspath(value)).expanduser()
    if not path.exists():
        raise ConfigError(
            f"{name} is neither true, false nor the path of an existing CA bundle "
            "(a PEM file or a directory of them)"
        )
    return str(path)


def parse_token_type(value: str, name: str) -> str:
    """``Bearer`` or ``Token``, whatever the case; the rejected value is not quoted."""
    scheme = TOKEN_TYPES.get(str(value).strip().lower())
    if scheme is None:
        raise ConfigError(f"{name} must be Bearer or Token")
    return scheme


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def _same(endpoint: str, other: str | None) -> bool:
    try:
        return normalize_endpoint(endpoint) == normalize_endpoint(str(other))
    except ConfigError:
        return False
