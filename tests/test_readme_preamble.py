"""The README's curl preamble, run as a reader would: before the local server has written its
connection file, it waits (instead of failing with a traceback), then exports the endpoint and
token of the server that came up."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from harness import LocalServer

README = Path(__file__).resolve().parents[1] / "README.md"


def curl_preamble() -> str:
    """The first bash block of the section "The seed's workflow with curl", without the line
    that starts the server (the test starts it)."""
    section = README.read_text().split("## The seed's workflow with curl", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    lines = block.group(1).splitlines()
    assert lines[0].startswith("make lab &")
    return "\n".join(lines[1:])


def test_the_curl_preamble_waits_for_the_server_then_exports_its_endpoint(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    script = curl_preamble() + '\necho "endpoint=$DATAROBOT_ENDPOINT"\necho "auth=$AUTH"\n'
    env = {**os.environ, "WORKLOADLAB_DATA_DIR": str(data_dir)}
    reader = subprocess.Popen(
        ["bash", "-euc", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout is not None
        first = reader.stdout.readline()  # the preamble says it waits, before any server exists
        assert first.startswith("waiting for the local server"), first
        assert reader.poll() is None
        server = LocalServer(data_dir).start()
        try:
            out, err = reader.communicate(timeout=30)
        finally:
            server.stop()
    finally:
        reader.kill()
    assert reader.returncode == 0, err
    assert "Traceback" not in err
    assert f"endpoint={server.endpoint}\n" in out
    assert f"auth=Authorization: Bearer {server.token}\n" in out
