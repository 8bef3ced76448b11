"""Configuration precedence: arguments > environment > drconfig.yaml > the local server
(the mixing refusal and the SDK's and CLI's files: ``test_client_config_sources.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workloadlab.client import AsyncClient, resolve_config
from workloadlab.client.config import normalize_endpoint
from workloadlab.connection import ServerConnection, write_connection
from workloadlab.errors import ConfigError

ARG = "https://arg.example.com/api/v2"
ENV = "https://env.example.com/api/v2"


def _drconfig(home: Path, text: str) -> Path:
    path = home / ".config" / "datarobot" / "drconfig.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def _local_server(data_dir: Path, *, pid: int | None = None) -> None:
    write_connection(
        data_dir,
        ServerConnection("http://127.0.0.1:8123/api/v2", "local-token", pid or os.getpid()),
    )


def test_arguments_win(monkeypatch: pytest.MonkeyPatch, isolated_config: Path) -> None:
    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", "env-token")
    _drconfig(isolated_config, "endpoint: https://file.example.com\ntoken: file-token\n")
    config = resolve_config(ARG, "arg-token")
    assert (config.endpoint, config.token, config.source) == (ARG, "arg-token", "arguments")


def test_environment_beats_the_config_file(
    monkeypatch: pytest.MonkeyPatch, isolated_config: Path
) -> None:
    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", "env-token")
    _drconfig(isolated_config, "endpoint: https://file.example.com\ntoken: file-token\n")
    config = resolve_config()
    assert (config.endpoint, config.token) == (ENV, "env-token")
    assert config.source == "environment"


@pytest.mark.parametrize(
    "written",
    [
        "https://app.eu.datarobot.com",
        "https://app.eu.datarobot.com/",
        "https://app.eu.datarobot.com/api/v2",
        "https://app.eu.datarobot.com/api/v2/",
    ],
)
def test_drconfig_endpoint_with_or_without_api_v2(isolated_config: Path, written: str) -> None:
    _drconfig(isolated_config, f"endpoint: {written}\ntoken: file-token\nssl_verify: true\n")
    config = resolve_config()
    assert config.endpoint == "https://app.eu.datarobot.com/api/v2"
    assert config.token == "file-token"


def test_datarobot_config_file_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_config: Path
) -> None:
    _drconfig(isolated_config, "endpoint: https://home.example.com\ntoken: home\n")
    other = tmp_path / "elsewhere.yaml"
    other.write_text("endpoint: https://other.example.com/api/v2\ntoken: other\n")
    monkeypatch.setenv("DATAROBOT_CONFIG_FILE", str(other))
    assert resolve_config().endpoint == "https://other.example.com/api/v2"

    monkeypatch.setenv("DATAROBOT_CONFIG_FILE", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match=r"DATAROBOT_CONFIG_FILE points to .*missing\.yaml"):
        resolve_config()


def test_broken_config_files(isolated_config: Path) -> None:
    path = _drconfig(isolated_config, "endpoint: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        resolve_config()
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="should be a mapping"):
        resolve_config()
    path.write_text("endpoint: ftp://files.example.com\ntoken: t\n")
    with pytest.raises(ConfigError, match="not an http"):
        resolve_config()


def test_the_local_server_comes_last(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_config: Path
) -> None:
    data_dir = tmp_path / "no-local-server"  # $WORKLOADLAB_DATA_DIR of isolated_config
    _local_server(data_dir)
    config = resolve_config()
    assert (config.endpoint, config.token) == ("http://127.0.0.1:8123/api/v2", "local-token")
    assert config.source.startswith("local server")

    # Anything configured beats it; a half configuration does not borrow its token ...
    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)
    with pytest.raises(ConfigError, match="DATAROBOT_ENDPOINT is set but DATAROBOT_API_TOKEN"):
        resolve_config()
    # ... unless the endpoint is the local server's own.
    monkeypatch.setenv("DATAROBOT_ENDPOINT", "http://127.0.0.1:8123")
    assert resolve_config().token == "local-token"


def test_a_dead_local_server_is_not_used(tmp_path: Path) -> None:
    data_dir = tmp_path / "no-local-server"
    _local_server(data_dir, pid=2**22 + 12345)  # above pid_max: never a live process
    with pytest.raises(ConfigError, match="is not running"):
        resolve_config()


def test_nothing_configured_says_where_it_looked(isolated_config: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        AsyncClient()
    message = str(caught.value)
    assert message.startswith("no Workload API endpoint and token configured")
    for place in (
        "endpoint= and token= arguments",
        "DATAROBOT_ENDPOINT and DATAROBOT_API_TOKEN",
        "drconfig.yaml (not found)",
        "server.json (not found)",
        "AsyncClient.local()",
    ):
        assert place in message


def test_token_without_endpoint_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAROBOT_API_TOKEN", "env-token")
    with pytest.raises(ConfigError, match="DATAROBOT_API_TOKEN is set but DATAROBOT_ENDPOINT"):
        resolve_config()


def test_normalize_endpoint() -> None:
    assert normalize_endpoint("http://127.0.0.1:8080") == "http://127.0.0.1:8080/api/v2"
    assert normalize_endpoint(" https://h/proxy/api/v2/ ") == "https://h/proxy/api/v2"
    assert normalize_endpoint("https://h/dr") == "https://h/dr/api/v2"
    with pytest.raises(ConfigError):
        normalize_endpoint("app.datarobot.com")


async def test_the_client_shows_where_its_config_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATAROBOT_ENDPOINT", "https://app.datarobot.com")
    monkeypatch.setenv("DATAROBOT_API_TOKEN", "env-token")
    async with AsyncClient() as client:
        assert client.endpoint == "https://app.datarobot.com/api/v2"
        assert client.config_source == "environment"
    assert client.is_closed
