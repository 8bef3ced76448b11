"""How much ``%load_ext workloadlab`` adds to a fresh IPython.

Each run is a fresh interpreter that imports IPython and ipywidgets and makes a shell (the
baseline), and, for the measured variant, then runs ``%load_ext workloadlab``. Both time only
that work inside the child (not interpreter start-up); runs alternate so machine noise hits
both alike. Goal: the median difference is at most 0.3 s.

    python benchmarks/load_ext.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CHILD = """
import time
started = time.perf_counter()
import IPython
try:
    import ipywidgets
except ImportError:
    ipywidgets = None
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
if {load}:
    shell.run_line_magic("load_ext", "workloadlab")
    assert "workload" in shell.magics_manager.magics["line"]
print(time.perf_counter() - started, ipywidgets is not None)
"""


def measure(load: bool) -> tuple[float, bool]:
    """Seconds one fresh interpreter spends on the baseline (+ ``%load_ext`` if ``load``)."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(load=load)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), out[1] == "True"


def main() -> int:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs of each (10)")
    args = parser.parse_args()
    measure(True)  # warm the file cache (bytecode, site-packages) for both
    baseline: list[float] = []
    loaded: list[float] = []
    widgets = True
    for _ in range(args.repeat):
        seconds, widgets = measure(False)
        baseline.append(seconds)
        loaded.append(measure(True)[0])
    base, ours = statistics.median(baseline), statistics.median(loaded)
    print(f"%load_ext workloadlab in a fresh IPython: {args.repeat} runs each, alternating")
    what = "import IPython + ipywidgets" if widgets else "import IPython (ipywidgets missing)"
    print(f"  baseline ({what}, make a shell): median {base * 1000:7.1f} ms")
    print(f"  baseline + %load_ext workloadlab:  median {ours * 1000:7.1f} ms")
    added = ours - base
    verdict = "met" if added <= 0.3 else "NOT met"
    print(
        f"  added by %load_ext: {added * 1000:.1f} ms, ratio {ours / base:.2f} "
        f"(goal: at most 300 ms more: {verdict})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
