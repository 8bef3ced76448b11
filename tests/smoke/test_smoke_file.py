"""The smoke file and the judging of answers, on plain data: field paths, the stable order of
the file, secrets never stored (nor echoed), a broken file named by place, each kind of
difference in words and as a diff, draft vs deployed verdicts."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from workloadlab.client import CheckName
from workloadlab.client.readiness import recorded_smoke_check
from workloadlab.smoke import Comparison, SmokeCheck, SmokeError, SmokeFile, load, save
from workloadlab.smoke.compare import comparison_text
from workloadlab.smoke.fields import MISSING, FieldError, resolve, to_pointer
from workloadlab.smoke.model import refuse_secrets, safe_headers
from workloadlab.smoke.running import judge
from workloadlab.smoke.storage import HEADER, dump

SECRET = "sk-live-" + "a1B2c3D4e5F6g7H8i9J0kLmN"


def check(path: str = "/", **expect: Any) -> SmokeCheck:
    return SmokeCheck.model_validate(
        {"request": {"path": path}, "expect": {"status": 200, **expect}}
    )


def test_dotted_paths_and_pointers_are_both_stored_as_pointers() -> None:
    assert to_pointer("greeting") == "/greeting"
    assert to_pointer("items.0.name") == "/items/0/name"
    assert to_pointer("/items/0/name") == "/items/0/name"
    assert to_pointer("a/b.c") == "/a~1b/c", "a slash inside a dotted step is escaped"
    for bad in ("", "a..b", "/a/~2"):
        with pytest.raises(FieldError):
            to_pointer(bad)


def test_a_pointer_finds_the_value_or_says_missing() -> None:
    doc = {"items": [{"name": "x"}], "a/b": 1, "t~": 2}
    assert resolve(doc, "/items/0/name") == "x"
    assert resolve(doc, "/a~1b") == 1
    assert resolve(doc, "/t~0") == 2
    assert resolve(doc, "") == doc
    for missing in ("/items/1/name", "/items/x", "/nope", "/items/0/name/deeper"):
        assert resolve(doc, missing) is MISSING


def test_the_file_is_written_in_one_stable_order(smoke_path: Path) -> None:
    greeting = check(fields={"path": "/", "greeting": "hello"}, budgetMs=200)
    health = check("/healthz", body="ok")
    one = SmokeFile().with_check("hello", "health", health).with_check("hello", "a", greeting)
    other = SmokeFile().with_check("hello", "a", greeting).with_check("hello", "health", health)
    other = other.with_check("another", "x", health).without("another", "x")
    assert dump(one) == dump(other)
    assert dump(one) == HEADER + (
        "version: 1\n"
        "workloads:\n"
        "  hello:\n"
        "    a:\n"
        "      request:\n"
        "        method: GET\n"
        "        path: /\n"
        "      expect:\n"
        "        status: 200\n"
        "        fields:\n"
        "          /greeting: hello\n"
        "          /path: /\n"
        "        budgetMs: 200\n"
        "    health:\n"
        "      request:\n"
        "        method: GET\n"
        "        path: /healthz\n"
        "      expect:\n"
        "        status: 200\n"
        "        body: ok\n"
    )
    save(smoke_path, one)
    assert load(smoke_path) == one
    assert stat.S_IMODE(smoke_path.stat().st_mode) == 0o644, "a file for version control"
    assert load(smoke_path.with_name("absent.yaml")) == SmokeFile()


def test_credential_headers_are_never_stored() -> None:
    kept, dropped = safe_headers(
        {"Authorization": "Bearer x", "Cookie": "s=1", "X-Api-Key": "k", "X-Request-Id": "7"}
    )
    assert kept == {"X-Request-Id": "7"}
    assert dropped == ["Authorization", "Cookie", "X-Api-Key"]


def test_a_check_holding_a_secret_is_refused_without_repeating_it() -> None:
    for holding, where in (
        (check(fields={"/key": SECRET}), "expected /key"),
        (check(body={"nested": [SECRET]}), "expected body/nested/0"),
        (
            SmokeCheck.model_validate(
                {"request": {"path": "/", "body": {"q": SECRET}}, "expect": {"status": 200}}
            ),
            "request body/q",
        ),
    ):
        with pytest.raises(SmokeError) as caught:
            refuse_secrets(holding)
        assert f"not saved: the {where} looks like" in str(caught.value)
        assert SECRET not in str(caught.value)
    in_query = SmokeCheck.model_validate(
        {"request": {"path": f"/predict?key={SECRET}"}, "expect": {"status": 200}}
    )
    with pytest.raises(SmokeError, match="not saved: the request path looks like") as caught:
        refuse_secrets(in_query)
    assert SECRET not in str(caught.value)
    with pytest.raises(SmokeError, match="holds the API token"):
        refuse_secrets(check(body={"echo": "token-1234"}), ["token-1234"])
    refuse_secrets(check(fields={"/greeting": "hello"}), ["token-1234"])  # nothing to refuse


def test_a_broken_file_is_named_by_place_never_by_value(smoke_path: Path) -> None:
    smoke_path.write_text("version: 1\nworkloads:\n  hello: [\n")
    with pytest.raises(SmokeError, match=r"is not valid YAML at line \d"):
        load(smoke_path)
    smoke_path.write_text(f"version: 1\nworkloads:\n  hello:\n    a:\n      request: {SECRET}\n")
    with pytest.raises(SmokeError) as caught:
        load(smoke_path)
    assert "workloads.hello.a.request" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_each_kind_of_difference_reads_as_expected_and_got() -> None:
    fields = check(fields={"/greeting": "hello", "/n": 1}, budgetMs=100)
    passed = judge("hello", "greeting", fields, 200, {"greeting": "hello", "n": 1.0}, 12.4)
    assert passed.ok
    assert passed.summary == "greeting (GET /): 200 in 12 ms, as expected"

    failed = judge("hello", "greeting", fields, 500, {"greeting": "bonjour"}, 250)
    assert not failed.ok
    assert failed.summary == (
        'greeting (GET /): status: expected 200, got 500; /greeting: expected "hello", got'
        ' "bonjour"; /n: expected 1, got (missing); latency: expected ≤ 100 ms, got 250 ms'
    )
    assert failed.diff_lines() == [
        "- status: 200",
        "+ status: 500",
        '- /greeting: "hello"',
        '+ /greeting: "bonjour"',
        "- /n: 1",
        "+ /n: (missing)",
        "- latency: ≤ 100 ms",
        "+ latency: 250 ms",
    ]
    whole = check(body={"a": [1, 2], "b": True})
    differing = judge("hello", "whole", whole, 200, {"a": [1, 3], "b": 1, "c": None}, 1)
    assert [str(d) for d in differing.differences] == [
        "/a/1: expected 2, got 3",
        "/b: expected true, got 1",
        "/c: expected (missing), got null",
    ]


def test_the_checklist_item_names_each_failed_check() -> None:
    fields = check(fields={"/greeting": "hello"})
    good = judge("hello", "a", fields, 200, {"greeting": "hello"}, 1)
    bad = judge("hello", "b", fields, 200, {"greeting": "hi"}, 1)
    item = recorded_smoke_check([good, bad])
    assert item.name == CheckName.RECORDED_SMOKE
    assert not item.ok
    assert item.detail == 'b (GET /): /greeting: expected "hello", got "hi"'
    assert recorded_smoke_check([good]).detail == "1 passed: a"


def test_draft_and_deployed_are_the_same_on_what_the_check_compares() -> None:
    fields = check(fields={"/greeting": "hello"})
    draft = judge("hello", "greeting", fields, 200, {"greeting": "hello", "pid": 1}, 1)
    deployed = judge("hello", "greeting", fields, 200, {"greeting": "hello", "pid": 2}, 1)
    other = judge("hello", "greeting", fields, 200, {"greeting": "hi"}, 1)
    assert Comparison("greeting", draft, deployed).verdict == "same", "pid is not compared"
    assert Comparison("greeting", draft, other).verdict == "different: /greeting"
    assert comparison_text([Comparison("greeting", draft, other)]).splitlines() == [
        "check     draft answer                deployed answer          same?",
        'greeting  200 {"/greeting": "hello"}  200 {"/greeting": "hi"}  different: /greeting',
    ]
