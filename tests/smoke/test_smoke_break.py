"""The smoke file under hostile use: bytes that are not text, secrets hidden in keys, two
kernels (here: two shell CLIs) recording checks into the same file at once."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
import yaml

from workloadlab import smoke
from workloadlab.client import AsyncClient
from workloadlab.smoke.model import refuse_secrets

from clitools import run_cli
from harness import FAKE_TOKEN, LocalServer, free_port, hello_spec
from synctools import app_spec

SECRET = "sk-live-" + "a1B2c3D4e5F6g7H8i9J0kLmN"


def test_a_file_that_is_not_text_fails_as_a_smoke_error(smoke_path: Path) -> None:
    smoke_path.write_bytes(b"version: 1\nworkloads:\n  hello: {}\n# \xff\xfe caf\xe9\n")
    with pytest.raises(smoke.SmokeError, match="is not UTF-8 text") as caught:
        smoke.load(smoke_path)
    assert "\\xff" not in str(caught.value)


async def test_lock_readiness_fails_the_item_when_the_file_is_not_text(
    wl: AsyncClient, smoke_path: Path
) -> None:
    created = await wl.workloads.create(name="smoke-bytes", artifact=hello_spec(free_port()))
    await wl.workloads.wait_for_status(created.id, "running", timeout=30)
    _write_bytes(smoke_path, b"\x00\xff\xfe\xfd")
    readiness = await smoke.lock_readiness(wl, created.id, path=smoke_path)
    assert not readiness.ok
    assert readiness.failed[0].detail.startswith(f"smoke file {smoke_path}")
    await wl.workloads.delete(created.id)


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def test_a_secret_or_the_token_as_a_key_is_refused_without_repeating_it() -> None:
    for key, forbidden in ((SECRET, ()), ("tok-" + FAKE_TOKEN[-12:], (FAKE_TOKEN[-12:],))):
        holding = smoke.SmokeCheck.model_validate(
            {"request": {"path": "/"}, "expect": {"status": 200, "body": {"seen": {key: 1}}}}
        )
        with pytest.raises(smoke.SmokeError, match="not saved: the expected body") as caught:
            refuse_secrets(holding, forbidden)
        assert key not in str(caught.value)
        assert (forbidden[0] if forbidden else SECRET) not in str(caught.value)


def test_two_processes_recording_at_once_lose_no_check(
    server: LocalServer, smoke_path: Path, tmp_path: Path
) -> None:
    """Two CLIs (as two kernels) each save checks into one smoke file at the same time; a
    big file makes each read-modify-write long enough for them to overlap."""
    filler = smoke.SmokeFile()
    for n in range(600):
        check = smoke.SmokeCheck.model_validate(
            {"request": {"path": f"/item/{n}"}, "expect": {"status": 200, "body": {"n": n}}}
        )
        filler = filler.with_check("someone-else", f"c{n}", check)
    smoke.save(smoke_path, filler)
    spec = tmp_path / "race.yaml"
    spec.write_text(yaml.safe_dump(hello_spec(free_port())))
    created = run_cli(
        server.data_dir, "workload", "create", "--name", "smoke-race", "--spec-file", str(spec)
    )  # fmt: skip
    assert created.code == 0, created.stderr
    failures: list[str] = []

    def record(side: str) -> None:
        for n in range(6):
            done = run_cli(
                server.data_dir, "workload", "invoke", "/", "--id", "smoke-race",
                "--save", f"{side}{n}", "--fields", "greeting",
                WORKLOADLAB_SMOKE_FILE=str(smoke_path),
            )  # fmt: skip
            if done.code != 0:
                failures.append(done.stderr)

    threads = [threading.Thread(target=record, args=(side,)) for side in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    saved = smoke.load(smoke_path)
    assert sorted(saved.checks_of("smoke-race")) == sorted(
        f"{s}{n}" for s in "ab" for n in range(6)
    )
    assert len(saved.checks_of("someone-else")) == 600


ENDLESS_APP = """\
import http.server, json, os, time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/forever":  # an event stream that never ends
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while True:
                self.wfile.write(b"b\\r\\ndata: tick\\n\\r\\n")
                self.wfile.flush()
                time.sleep(0.05)
        if self.path == "/slow":
            time.sleep(20)
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def _endless_app(directory: Path) -> Path:
    directory.mkdir()
    app = directory / "app.py"
    app.write_text(ENDLESS_APP)
    return app


async def test_an_endless_stream_or_a_slow_answer_fails_its_check_in_bounded_time(
    wl: AsyncClient, smoke_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check whose answer never ends (an event stream) or comes long after its budget must
    fail, not hold Lock & Deploy for ever (or until the client's read timeout)."""
    artifact = app_spec(_endless_app(tmp_path / "app"), free_port())
    created = await wl.workloads.create(name="smoke-endless", artifact=artifact)
    await wl.workloads.wait_for_status(created.id, "running", timeout=30)
    stored = smoke.SmokeFile()
    for name, check in (
        ("forever", {"request": {"path": "/forever"}, "expect": {"status": 200, "body": "x"}}),
        ("slow", {"request": {"path": "/slow"}, "expect": {"status": 200, "budgetMs": 300}}),
    ):
        stored = stored.with_check("smoke-endless", name, smoke.SmokeCheck.model_validate(check))
    smoke.save(smoke_path, stored)
    monkeypatch.setattr(smoke.running, "ANSWER_SECONDS", 2.0)
    began = time.monotonic()
    async with asyncio.timeout(15):
        readiness = await smoke.lock_readiness(wl, created.id, path=smoke_path)
    took = time.monotonic() - began
    assert not readiness.ok
    detail = readiness.failed[0].detail
    assert "forever (GET /forever): no answer within 2 s" in detail
    assert "slow (GET /slow): latency: expected ≤ 300 ms, got more (no answer yet)" in detail
    assert took < 10, f"the checks took {took:.1f} s"
    await wl.workloads.delete(created.id)


def test_a_symlinked_smoke_file_stays_a_link(tmp_path: Path) -> None:
    """The smoke file linked from a shared checkout: a save writes through the link."""
    shared = tmp_path / "shared" / "checks.yaml"
    smoke.save(shared, smoke.SmokeFile())
    link = tmp_path / "notebooks" / "workloadlab-smoke.yaml"
    link.parent.mkdir()
    link.symlink_to(shared)
    check = smoke.SmokeCheck.model_validate({"request": {"path": "/"}, "expect": {"status": 200}})
    smoke.update(link, lambda found: found.with_check("hello", "root", check))
    assert link.is_symlink()
    assert list(smoke.load(shared).checks_of("hello")) == ["root"]


def test_big_fields_are_refused_like_a_big_body() -> None:
    big = {"request": {"path": "/"}, "expect": {"status": 200, "fields": {"/data": ["x"] * 40_000}}}
    with pytest.raises(smoke.SmokeError, match=r"fields chosen are 1[0-9]{2} KiB; choose smaller"):
        refuse_secrets(smoke.SmokeCheck.model_validate(big))


def test_yaml_aliases_are_refused_and_never_written(smoke_path: Path) -> None:
    """Aliases let 1 KB of YAML stand for 10⁹ values (a 'billion laughs' file from a pull
    request): loading is instant, sending the body hangs the kernel. The file needs none."""
    text = "version: 1\nworkloads:\n  hello:\n"
    text += "    c0:\n      request: {path: /, body: &a0 [x, x, x]}\n      expect: {status: 200}\n"
    for n in range(1, 9):
        body = ", ".join([f"*a{n - 1}"] * 10)
        text += f"    c{n}:\n      request: {{path: /, body: &a{n} [{body}]}}\n"
        text += "      expect: {status: 200}\n"
    smoke_path.write_text(text)
    with pytest.raises(smoke.SmokeError, match=r"line 8: YAML aliases \(\*name\) are not allowed"):
        smoke.load(smoke_path)
    shared = {"q": [1, 2]}
    stored = smoke.SmokeFile()
    for name in ("one", "two"):
        check = {
            "request": {"method": "POST", "path": "/", "body": shared},
            "expect": {"status": 200},
        }
        stored = stored.with_check("hello", name, smoke.SmokeCheck.model_validate(check))
    smoke.save(smoke_path, stored)
    assert list(smoke.load(smoke_path).checks_of("hello")) == ["one", "two"]
