#!/usr/bin/env bash
# Install workloadlab (editable) and what its tests need into the virtualenv VENV:
#   scripts/install-deps.sh VENV PYTHON [EXTRAS]
#
# With uv when it can be had (PyPI's `uv`, put in VENV/.tools by PYTHON's pip): about 10 s, and
# a few seconds from its cache (~/.cache/uv) on a second clone, against about 45 s for pip here
# (benchmarks/install.py measures both). Otherwise, or with WORKLOADLAB_INSTALLER=pip, pip as
# before. Either way it prints what it does instead of staying silent for a minute.
set -euo pipefail

VENV=$1
PYTHON=$2
EXTRAS=${3:-test}
UV="$VENV/.tools/bin/uv"

say() { echo "install-deps: $*" >&2; }

if [ "${WORKLOADLAB_INSTALLER:-uv}" = uv ] && [ ! -x "$UV" ]; then
    say "getting uv (PyPI) for the install"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --target "$VENV/.tools" uv 2>&1 | sed '/^WARNING: Location/d' >&2 ||
        say "could not get uv; pip installs instead"
fi

if [ "${WORKLOADLAB_INSTALLER:-uv}" = uv ] && [ -x "$UV" ] && "$UV" --version >/dev/null 2>&1; then
    say "uv pip install -e '.[$EXTRAS]' pip"
    # Compiled now, in parallel, once (as pip does): else every test worker and server compiles
    # the same modules on first import. pip too: a venv without it surprises people.
    if UV_COMPILE_BYTECODE=${UV_COMPILE_BYTECODE:-1} \
        "$UV" pip install --python "$VENV/bin/python" -e ".[$EXTRAS]" pip; then
        exit 0
    fi
    say "uv failed; pip installs instead"
fi

say "pip install -e '.[$EXTRAS]'"
"$VENV/bin/python" -m ensurepip --upgrade >/dev/null
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
    -e ".[$EXTRAS]" 2>&1 | sed '/^WARNING: Location/d'  # pip.conf's absent local indexes
