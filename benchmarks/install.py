"""How long ``make setup``'s install takes with pip (the baseline) and with uv.

Each run makes a fresh virtualenv in a temp dir (``python -m venv --without-pip``, as
``make setup`` does) and installs ``-e '.[test]'`` into it with ``scripts/install-deps.sh``,
forced to one installer by ``WORKLOADLAB_INSTALLER``. Both use their caches as a second clone
would (pip's wheel cache, uv's cache); the first run of each warms them and is not counted.
Runs alternate so machine noise hits both alike. Not a test: it prints a table and the ratio.

    python benchmarks/install.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def install(installer: str) -> float:
    """Seconds to create a venv and install the project into it with ``installer``."""
    with tempfile.TemporaryDirectory(prefix=f"install-{installer}-") as scratch:
        venv = Path(scratch) / "venv"
        env = {**os.environ, "WORKLOADLAB_INSTALLER": installer}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        subprocess.run(
            [str(ROOT / "scripts" / "install-deps.sh"), str(venv), sys.executable, "test"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        took = time.perf_counter() - started
        subprocess.run([str(venv / "bin" / "python"), "-c", "import workloadlab"], check=True)
        return took


def main() -> int:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="counted runs of each (2)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"pip": [], "uv": []}
    for installer in times:  # warm both caches
        print(f"warming {installer}: {install(installer):.1f} s", flush=True)
    for _ in range(args.repeat):
        for installer, runs in times.items():
            runs.append(install(installer))
            print(f"{installer}: {runs[-1]:.1f} s", flush=True)
    pip, uv = statistics.median(times["pip"]), statistics.median(times["uv"])
    print(f"\nmedian of {args.repeat}: pip {pip:.1f} s, uv {uv:.1f} s: uv takes {uv / pip:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
