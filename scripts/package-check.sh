#!/usr/bin/env bash
# What `pip install 'workloadlab[lab]'` gives a user: a non-editable install of the project at
# SRC (a built wheel) into a new virtualenv, with JupyterLab, the server extension enabled by the
# wheel's own config, one version everywhere, and the CLI.
#   scripts/package-check.sh SRC PYTHON [UV]
set -euo pipefail

SRC=$(cd "$1" && pwd)
PYTHON=$2
UV=${3:-}
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT

"$PYTHON" -m venv --without-pip "$venv"
if [ -n "$UV" ] && [ -x "$UV" ]; then
    UV_COMPILE_BYTECODE=0 "$UV" pip install --quiet --python "$venv/bin/python" "$SRC[lab]"
else
    "$venv/bin/python" -m ensurepip --upgrade >/dev/null
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$SRC[lab]"
fi

fail() { echo "package check: $*" >&2; exit 1; }
"$venv/bin/jupyter" lab --version >/dev/null || fail "the lab extra gives no working jupyter lab"
extensions=$("$venv/bin/jupyter" server extension list 2>&1)
grep -q "workloadlab.jupyter.*enabled" <<<"$extensions" ||
    fail "the installed wheel does not enable the server extension"
"$venv/bin/python" - <<'PY' || fail "the version differs between the package and its metadata"
import importlib.metadata, workloadlab
assert workloadlab.__version__ == importlib.metadata.version("workloadlab"), workloadlab.__version__
PY
"$venv/bin/workloadlab" serve --help >/dev/null || fail "the workloadlab command does not run"
echo "package: pip install 'workloadlab[lab]' gives jupyter lab with the extension enabled"
