"""``workloadlab lint SPEC``: the pre-flight rules on a spec file, before anything is sent.

It reads a YAML or JSON file (``-`` for stdin) holding what ``%workload create`` takes (a
create body, an artifact, a container spec or one container) and prints the findings of
:func:`workloadlab.models.preflight.check_spec` one per line, or as JSON (``--output json``).
The rules are judged for where the spec will run (``--target``: DataRobot by default; the local
server's ``process`` or ``container`` runtime). It needs no server, so the checks only a machine
can answer (the entrypoint's executable, the image, resources) are skipped and said so: the
local server runs them at create (``POST /local/preflight``).

Exit status: 0 when there is no error (warnings do not fail), 1 when there is one, 2 for a
usage mistake (no such file, not YAML/JSON, not a spec), 130 when interrupted (Ctrl-C while it
reads stdin).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from workloadlab.models.preflight import (
    Target,
    blocking,
    check_spec,
    skipped_machine_checks,
    spec_of,
    summary,
)

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""LibYAML's safe loader where PyYAML has it (a 9 MB spec: 0.3 s instead of 13 s)."""
SKIPPED = "lint reads the file alone; the local server runs them at create"


def register(commands: Any) -> None:
    """Add ``lint`` to the CLI's subcommands (``argparse`` sub-parsers); it runs :func:`run`."""
    lint = commands.add_parser(
        "lint",
        help="check a spec file with the pre-flight rules",
        description="Check a YAML/JSON spec (an artifact, a container spec or a container) "
        "before it is sent: exit 0 clean or warnings only, 1 on errors, 2 on usage mistakes.",
    )
    lint.add_argument("spec", metavar="SPEC", help="a YAML or JSON file, - for stdin")
    lint.add_argument(
        "--output",
        "-o",
        choices=["text", "json"],
        default=argparse.SUPPRESS,  # keeps a global `workloadlab -o json lint` (text if none)
        help="(text; also before lint)",
    )
    lint.add_argument(
        "--target",
        choices=[target.value for target in Target],
        default=Target.DATAROBOT.value,
        help="where it will run: some rules depend on it (datarobot)",
    )
    lint.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Lint the file; the exit status."""
    try:
        data = _read(args.spec)
    except (OSError, ValueError) as exc:
        print(f"workloadlab lint: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C while it waits for stdin
        print("workloadlab lint: interrupted", file=sys.stderr)
        return 130
    if spec_of(data) is None:
        print(
            f"workloadlab lint: {args.spec} is not a spec: expected an artifact (name, spec), a"
            " container spec (containerGroups) or a container (imageUri, entrypoint, ...)",
            file=sys.stderr,
        )
        return 2
    target = Target(args.target)
    findings = check_spec(data, target) + skipped_machine_checks(SKIPPED)
    failed = bool(blocking(findings))
    if args.output == "json":
        body = {
            "spec": args.spec,
            "target": target.value,
            "ok": not failed,
            "findings": [finding.model_dump(mode="json") for finding in findings],
        }
        print(json.dumps(body, indent=2))
    else:
        print(f"{args.spec}: {summary(findings)} (target: {target.value})")
        for finding in findings:
            print(f"  {finding.line()}")
    return 1 if failed else 0


def _read(source: str) -> Any:
    """The file's data (YAML includes JSON); ``ValueError`` when it cannot be read as such."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).expanduser().read_text()
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {source}: not UTF-8 text") from None
    try:
        return json.loads(text)  # JSON is YAML, read 10-100x faster this way
    except RecursionError:
        raise ValueError(f"cannot read {source}: nested too deeply for a spec") from None
    except ValueError:
        pass
    try:
        return yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ValueError(f"cannot read {source}{where}: not valid YAML or JSON") from None
    except RecursionError:  # the parser recurses per level of nesting
        raise ValueError(f"cannot read {source}: nested too deeply for a spec") from None
