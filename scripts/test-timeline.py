#!/usr/bin/env python3
"""Where a parallel pytest run's wall time goes, from the lines ``WORKLOADLAB_TEST_TIMELINE``
made tests/conftest.py write: when each pytest process and session started and ended; per
worker its end, busy and CPU seconds and its groups in order (the worker that ends last is the
critical path); then the groups, longest first.

Usage: scripts/test-timeline.py TIMELINE [--groups N]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Span:
    """A run of consecutive tests of one group on one worker (or a group's totals)."""

    group: str
    start: float
    end: float
    wall: float = 0.0
    cpu: float = 0.0
    tests: int = 0

    def add(self, test: dict[str, str | float]) -> None:
        self.end = max(self.end, float(test["end"]))
        self.wall += float(test["end"]) - float(test["start"])
        self.cpu += float(test["cpu"])
        self.tests += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("timeline", type=Path)
    parser.add_argument("--groups", type=int, default=25, help="how many groups to list")
    args = parser.parse_args()
    lines = [json.loads(line) for line in args.timeline.read_text().splitlines() if line]
    tests = sorted((line for line in lines if "id" in line), key=lambda test: test["start"])
    sessions = sorted((line for line in lines if "session" in line), key=lambda s: s["time"])
    begin = min([tests[0]["start"], *(session["time"] for session in sessions)])
    print(f"{len(tests)} tests, {max(test['end'] for test in tests) - begin:.1f} s wall")
    for session in sessions:
        print(f"  {session['time'] - begin:6.1f} {session['worker']}: {session['session']}")
    workers: dict[str, list[Span]] = defaultdict(list)
    totals: dict[str, Span] = {}
    for test in tests:
        spans = workers[test["worker"]]
        if not spans or spans[-1].group != test["group"]:
            spans.append(Span(test["group"], test["start"], test["end"]))
        spans[-1].add(test)
        totals.setdefault(test["group"], Span(test["group"], 0, 0)).add(test)
    for worker, spans in sorted(workers.items()):
        busy = sum(span.wall for span in spans)
        cpu = sum(span.cpu for span in spans)
        end = spans[-1].end - begin
        print(f"\n{worker}: ends at {end:.1f} s, busy {busy:.1f} s, cpu {cpu:.1f} s")
        for span in spans:
            start, stop = span.start - begin, span.end - begin
            print(
                f"  {start:6.1f} {stop:6.1f}  {stop - start:5.1f} s"
                f"  cpu {span.cpu:5.1f}  {span.tests:3} {span.group}"
            )
    print(f"\nlongest groups (of {len(totals)}): wall, cpu, tests")
    for span in sorted(totals.values(), key=lambda span: -span.wall)[: args.groups]:
        print(f"  {span.wall:6.1f} {span.cpu:6.1f} {span.tests:4}  {span.group}")
    wall = sum(span.wall for span in totals.values())
    print(f"\nsum of test wall {wall:.1f} s, cpu {sum(s.cpu for s in totals.values()):.1f} s")


if __name__ == "__main__":
    main()
