"""Sizes and durations as ``workloadlab serve`` takes them."""

from __future__ import annotations

import pytest

from workloadlab.cli import build_parser
from workloadlab.server.settings import ServerSettings, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("32MiB", 32 * 1024 * 1024),
        ("512k", 512 * 1024),
        ("1G", 1024**3),
        ("2.5MB", int(2.5 * 1024 * 1024)),
        (" 10 KiB ", 10 * 1024),
        ("1048576", 1048576),
        ("7b", 7),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "x", "1Q", "-3", "MiB"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_log_cap_bytes_option(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).log_cap_bytes == ServerSettings().log_cap_bytes
    assert ServerSettings().log_cap_bytes == 32 * 1024 * 1024
    assert parser.parse_args(["serve", "--log-cap-bytes", "8MiB"]).log_cap_bytes == 8 * 1024**2
    for bad in ("512KiB", "lots"):
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "--log-cap-bytes", bad])
    assert "at least 1MiB" in capsys.readouterr().err
