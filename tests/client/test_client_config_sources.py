"""No mixing of configuration sources (DataRobot's SDK rule), the SDK's and the CLI's files,
``ssl_verify`` and ``token_type`` by source, and the token kept out of every message."""

from __future__ import annotations

from pathlib import Path

import pytest

from workloadlab.client import AsyncClient, resolve_config
from workloadlab.errors import ConfigError

from clienttools import CLOUD_TOKEN

ENV = "https://env.example.com/api/v2"
FILE = "https://file.example.com/api/v2"
FILE_TOKEN = "file-token-5a4c3e2f1d0b9a87"


def _drconfig(home: Path, text: str) -> Path:
    path = home / ".config" / "datarobot" / "drconfig.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _refused(*tokens: str, **arguments: str) -> str:
    """The ConfigError's message of resolving with ``arguments``; no token appears in it."""
    with pytest.raises(ConfigError) as caught:
        resolve_config(**arguments)  # type: ignore[arg-type]
    message = str(caught.value)
    for token in tokens:
        assert token not in message
        assert token not in repr(caught.value)
    return message


def test_an_environment_endpoint_never_takes_the_config_file_token(
    monkeypatch: pytest.MonkeyPatch, isolated_config: Path
) -> None:
    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)
    _drconfig(isolated_config, f"endpoint: {FILE}\ntoken: {FILE_TOKEN}\n")
    message = _refused(FILE_TOKEN)
    assert "DATAROBOT_ENDPOINT is set but DATAROBOT_API_TOKEN is not" in message


def test_an_environment_token_never_goes_to_another_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", CLOUD_TOKEN)
    message = _refused(CLOUD_TOKEN, endpoint="https://elsewhere.example.com")
    assert "endpoint= was given without token=" in message
    # A token argument never goes to a configured endpoint either (the SDK refuses it too).
    message = _refused(CLOUD_TOKEN, "arg-token-1234", token="arg-token-1234")
    assert "token= was given without endpoint=" in message


def test_an_endpoint_argument_takes_the_pair_configured_for_it(
    monkeypatch: pytest.MonkeyPatch, isolated_config: Path
) -> None:
    """``%workload connect --endpoint URL`` with the same URL configured: its own token."""
    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", CLOUD_TOKEN)
    config = resolve_config("https://env.example.com/")
    assert (config.endpoint, config.token) == (ENV, CLOUD_TOKEN)
    monkeypatch.delenv("DATAROBOT_ENDPOINT")
    monkeypatch.delenv("DATAROBOT_API_TOKEN")
    _drconfig(isolated_config, f"endpoint: {FILE}\ntoken: {FILE_TOKEN}\nssl_verify: false\n")
    config = resolve_config(FILE)
    assert (config.token, config.ssl_verify) == (FILE_TOKEN, False)


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        (f"endpoint: {FILE}\n", "no `token` key"),
        (f"token: {FILE_TOKEN}\n", "no `endpoint` key"),
    ],
)
def test_a_half_configured_file_names_the_missing_key(
    isolated_config: Path, text: str, missing: str
) -> None:
    path = _drconfig(isolated_config, text)
    message = _refused(FILE_TOKEN)
    assert f"{path} has" in message
    assert missing in message


def test_a_token_variable_alone_is_an_error_even_with_a_complete_file(
    monkeypatch: pytest.MonkeyPatch, isolated_config: Path
) -> None:
    monkeypatch.setenv("DATAROBOT_API_TOKEN", CLOUD_TOKEN)
    _drconfig(isolated_config, f"endpoint: {FILE}\ntoken: {FILE_TOKEN}\n")
    message = _refused(CLOUD_TOKEN, FILE_TOKEN)
    assert "DATAROBOT_API_TOKEN is set but DATAROBOT_ENDPOINT is not" in message


def test_the_sdk_config_file_variable_comes_before_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As in DataRobot's SDK: ``$DATAROBOT_CONFIG_FILE`` is read instead of the variables."""
    sdk_file = tmp_path / "sdk.yaml"
    sdk_file.write_text(f"endpoint: {FILE}\ntoken: {FILE_TOKEN}\n")
    monkeypatch.setenv("DATAROBOT_CONFIG_FILE", str(sdk_file))
    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", CLOUD_TOKEN)
    config = resolve_config()
    assert (config.endpoint, config.token) == (FILE, FILE_TOKEN)
    assert config.source == f"$DATAROBOT_CONFIG_FILE ({sdk_file})"


def test_the_cli_config_file_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_config: Path
) -> None:
    _drconfig(isolated_config, "endpoint: https://home.example.com\ntoken: home-token\n")
    cli_file = tmp_path / "cli.yaml"
    cli_file.write_text(f"endpoint: https://file.example.com\ntoken: {FILE_TOKEN}\n")
    monkeypatch.setenv("DATAROBOT_CLI_CONFIG", str(cli_file))
    config = resolve_config()  # instead of ~/.config/datarobot/drconfig.yaml, as the CLI does
    assert (config.endpoint, config.token) == (FILE, FILE_TOKEN)
    assert config.source == f"$DATAROBOT_CLI_CONFIG ({cli_file})"

    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)  # the environment comes first
    monkeypatch.setenv("DATAROBOT_API_TOKEN", CLOUD_TOKEN)
    assert resolve_config().endpoint == ENV

    monkeypatch.setenv("DATAROBOT_CLI_CONFIG", str(tmp_path / "typo.yaml"))
    monkeypatch.delenv("DATAROBOT_ENDPOINT")
    monkeypatch.delenv("DATAROBOT_API_TOKEN")
    message = _refused(FILE_TOKEN)
    assert "DATAROBOT_CLI_CONFIG points to" in message
    assert "typo.yaml" in message


def test_the_cli_endpoint_variable_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """DataRobot's CLI reads ``DATAROBOT_API_ENDPOINT`` when ``DATAROBOT_ENDPOINT`` is unset."""
    monkeypatch.setenv("DATAROBOT_API_ENDPOINT", "https://env.example.com")
    monkeypatch.setenv("DATAROBOT_API_TOKEN", CLOUD_TOKEN)
    assert resolve_config().endpoint == ENV


def test_swapped_variables_never_echo_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token pasted into DATAROBOT_ENDPOINT (a classic slip) is not repeated in the error."""
    monkeypatch.setenv("DATAROBOT_ENDPOINT", CLOUD_TOKEN)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", ENV)
    message = _refused(CLOUD_TOKEN)
    assert "DATAROBOT_ENDPOINT is not an http(s) URL" in message


def test_ssl_verify_and_token_type_come_with_the_endpoint(
    monkeypatch: pytest.MonkeyPatch, isolated_config: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    _drconfig(
        isolated_config,
        f"endpoint: {FILE}\ntoken: {FILE_TOKEN}\nssl_verify: {bundle}\ntoken_type: Token\n",
    )
    config = resolve_config()
    assert (config.ssl_verify, config.token_type) == (str(bundle), "Token")
    # Arguments win over the file.
    config = resolve_config(ssl_verify=False, token_type="bearer")
    assert (config.ssl_verify, config.token_type) == (False, "Bearer")

    # The file's settings are written for its own endpoint: not carried to the environment's.
    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", CLOUD_TOKEN)
    config = resolve_config()
    assert (config.ssl_verify, config.token_type) == (True, "Bearer")
    monkeypatch.setenv("DATAROBOT_SSL_VERIFY", "False")
    assert resolve_config().ssl_verify is False
    monkeypatch.setenv("DATAROBOT_SSL_VERIFY", str(bundle))
    assert resolve_config().ssl_verify == str(bundle)


def test_the_cli_ca_cert_key_is_the_ca_bundle(isolated_config: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("")
    _drconfig(isolated_config, f"endpoint: {FILE}\ntoken: {FILE_TOKEN}\nca-cert: {bundle}\n")
    assert resolve_config().ssl_verify == str(bundle)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATAROBOT_SSL_VERIFY", "/no/such/ca-bundle.pem", "DATAROBOT_SSL_VERIFY is neither"),
        ("DATAROBOT_SSL_VERIFY", "maybe", "DATAROBOT_SSL_VERIFY is neither"),
    ],
)
def test_bad_ssl_verify_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv("DATAROBOT_ENDPOINT", ENV)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", CLOUD_TOKEN)
    monkeypatch.setenv(variable, value)
    message = _refused(CLOUD_TOKEN)
    assert expected in message
    assert value not in message


def test_a_bad_token_type_is_refused_without_echoing_it(isolated_config: Path) -> None:
    _drconfig(isolated_config, f"endpoint: {FILE}\ntoken: {FILE_TOKEN}\ntoken_type: {FILE_TOKEN}\n")
    message = _refused(FILE_TOKEN)
    assert "`token_type` key" in message
    assert "Bearer or Token" in message
    with pytest.raises(ConfigError, match="token_type= must be Bearer or Token"):
        resolve_config(ENV, CLOUD_TOKEN, token_type="Basic x")


async def test_reprs_show_the_token_type_never_the_token(isolated_config: Path) -> None:
    _drconfig(isolated_config, f"endpoint: {FILE}\ntoken: {FILE_TOKEN}\ntoken_type: Token\n")
    config = resolve_config()
    assert "token_type='Token'" in repr(config)
    async with AsyncClient() as client:
        shown = [repr(config), str(config), repr(client), repr(client._http._transport)]
    for text in shown:
        assert FILE_TOKEN not in text


def test_a_broken_yaml_line_is_not_quoted(isolated_config: Path) -> None:
    """PyYAML quotes the offending line; for drconfig.yaml that may be the token's."""
    _drconfig(isolated_config, f'endpoint: {FILE}\ntoken: "{FILE_TOKEN}\n')
    message = _refused(FILE_TOKEN)
    assert "is not valid YAML (line" in message
