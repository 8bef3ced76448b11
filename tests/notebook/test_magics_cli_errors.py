"""The shell CLI says what the magic says for the same mistake: one command layer, two
front-ends. Each mistake is made in ``%workload`` (the magic's ``UsageError``) and in
``workloadlab workload`` (stderr, exit code 2 for a usage mistake, 1 otherwise), against the
module's real local server; the CLI names its own commands where the magic names its own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from workloadlab.shell.output import in_shell_words

from clitools import run_cli
from harness import LocalServer, free_port, hello_spec
from magictools import magic, spec_file


def test_the_cli_says_what_the_magic_says(
    shell: InteractiveShell, server: LocalServer, tmp_path: Path
) -> None:
    workload_id = magic(shell, f"create {spec_file(tmp_path)} --name same-words --no-wait").id
    bad = tmp_path / "bad.yaml"
    spec = hello_spec(free_port())
    spec["spec"]["containerGroups"][0]["containers"][0]["port"] = 80
    bad.write_text(yaml.safe_dump(spec))
    mistakes = [
        ("status no-such-workload", 1),
        ("create /no/such/spec.yaml", 1),
        (f"create {bad}", 1),
        (f"create {bad} --bogus", 2),
        (f"logs {workload_id} --tail 0", 1),
        (f"invoke / --data {{nope --id {workload_id}", 1),
        (f"diff 1 2 --id {workload_id}", 1),
        (f"deploy {workload_id} --new other --yes", 1),
        ("undeploy no-such-deployment --yes", 1),
        (f"restart {workload_id} --timeout soon", 2),
    ]
    for line, code in mistakes:
        with pytest.raises(UsageError) as caught:
            magic(shell, line)
        said = str(caught.value)
        ran = run_cli(server.data_dir, "workload", *line.split())
        assert (ran.code, ran.stderr.strip()) == (code, in_shell_words(said)), line
    assert "`workloadlab workload deployments`" in in_shell_words(
        "unknown deployment 'x' (no deployment has that id or name; see `%workload deployments`)"
    )
