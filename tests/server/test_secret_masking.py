"""The masking rules of server/secrets.py, on their own (the real server's end-to-end tests are in
tests/test_server_credentials.py)."""

from __future__ import annotations

import json

from workloadlab.server.secrets import MASK, MIN_MASKED_LENGTH, Masker
from workloadlab.server.store import LogLine

SECRET = "sk-live-TESTSECRET-0123456789abcdef"
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    "BKcwggSjAgEAAoIBAQC7\n"
    "-----END PRIVATE KEY-----\n"
)


def line(message: str) -> LogLine:
    return LogLine("2026-11-27T10:00:00.000000Z", "info", message, "primary", "stdout")


def test_a_value_is_masked_wherever_it_appears_in_a_line() -> None:
    masker = Masker([SECRET])
    assert masker.mask(f"token={SECRET}") == "token=****"
    assert masker.mask(f"{SECRET}{SECRET} and {SECRET}.") == "******** and ****."
    assert masker.mask("nothing here") == "nothing here"
    assert masker.mask(SECRET[:-1]) == SECRET[:-1], "a part of a value is not the value"


def test_the_longest_value_wins_where_values_overlap() -> None:
    masker = Masker(["abcd", "abcdefgh"])
    assert masker.mask("xabcdefghx") == "x****x"


def test_a_multi_line_value_is_masked_line_by_line_and_in_its_json_form() -> None:
    masker = Masker([PEM])
    printed = [masker.mask(text) for text in PEM.splitlines()]
    assert printed == [MASK] * 4
    assert MASK in masker.mask(json.dumps({"key": PEM}))
    assert "MIIEvQ" not in masker.mask(json.dumps({"key": PEM}))
    quoted = 'pa"ss\\word'
    assert Masker([quoted]).mask(json.dumps({"password": quoted})) == '{"password": "****"}'


def test_short_values_are_not_masked() -> None:
    short = "x" * (MIN_MASKED_LENGTH - 1)
    masker = Masker([short, "", "   "])
    assert masker.mask(f"value={short}") == f"value={short}"
    assert Masker(["x" * MIN_MASKED_LENGTH]).mask("xxxx") == MASK


def test_log_lines_are_copied_only_where_masked() -> None:
    masker = Masker([SECRET])
    lines = [line("plain"), line(f"secret={SECRET}"), line("plain too")]
    masked = masker.mask_lines(lines)
    assert [x.message for x in masked] == ["plain", "secret=****", "plain too"]
    assert masked[0] is lines[0]
    assert masked[1] is not lines[1]
    assert lines[1].message == f"secret={SECRET}", "the input is not changed"
    untouched = [line("a"), line("b")]
    assert masker.mask_lines(untouched) is untouched
    assert Masker().mask_lines(untouched) is untouched


def test_values_added_later_are_masked_too() -> None:
    masker = Masker([SECRET])
    masker.add(["another-value"])
    assert masker.mask(f"{SECRET} another-value") == "**** ****"
