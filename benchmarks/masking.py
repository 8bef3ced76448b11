"""What masking secret values costs per stored log line, against what levelling a line costs.

Every line a workload prints passes through its :class:`~workloadlab.server.secrets.Masker`
(the server's token at least) on its way to the database, and through ``line_level`` just before
(the baseline: the per-line work that was already there). Measured in one run, in-process, on
50,000 lines of ~90 characters of which 1 % hold a secret: microseconds per line for the
baseline, then for maskers of 1 value (the token alone: every workload), 4 values (a few
credentials), and 4 values plus a 28-line PEM key (33 pieces). Goal: masking costs at most the
baseline (ratio <= 1): at the 5,000 lines a second a workload may store, a few ms of CPU a second.

    .venv/bin/python benchmarks/masking.py [--lines 50000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Callable, Sequence

from _common import goal_text, print_table
from workloadlab.server.runtimes.levels import line_level
from workloadlab.server.secrets import Masker
from workloadlab.server.store import LogLine


def lines_with(count: int, secret: str) -> list[LogLine]:
    """``count`` log lines like an app's, 1 % of them with ``secret`` in the middle."""
    made = []
    for index in range(count):
        text = f"2026-11-27 10:00:00,{index % 1000:03d} INFO request {index} served in 12 ms"
        if index % 100 == 0:
            text += f" with key {secret} for user 42"
        else:
            text += " for user 42 from 10.0.0.7"
        made.append(LogLine("2026-11-27T10:00:00.000000Z", "info", text, "primary", "stdout"))
    return made


def best_of(rounds: int, work: Callable[[], object]) -> float:
    """The fastest of ``rounds`` runs of ``work``, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - began)
    return best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    secret = "sk-live-" + secrets.token_urlsafe(24)
    token = secrets.token_urlsafe(32)
    credentials = [secret, *(secrets.token_urlsafe(24) for _ in range(3))]
    pem = "\n".join(
        ["-----BEGIN PRIVATE KEY-----"]
        + [secrets.token_urlsafe(48)[:64] for _ in range(26)]
        + ["-----END PRIVATE KEY-----"]
    )
    lines = lines_with(args.lines, secret)
    baseline = best_of(args.rounds, lambda: [line_level(x.message, "info") for x in lines])
    rows = [["line_level (baseline)", f"{baseline / len(lines) * 1e6:.2f}", "1.00"]]
    ratios = []
    for label, values in (
        ("mask: token only", [token]),
        ("mask: 4 values", [token, *credentials[1:], secret]),
        ("mask: 4 values + PEM key", [token, *credentials[1:], secret, pem]),
    ):
        masker = Masker(values)
        masked = masker.mask_lines(lines)
        assert (secret in "".join(x.message for x in masked)) == label.endswith("only")
        spent = best_of(args.rounds, lambda m=masker: m.mask_lines(lines))
        ratios.append(spent / baseline)
        rows.append([label, f"{spent / len(lines) * 1e6:.2f}", f"{spent / baseline:.2f}"])
    print(f"{len(lines):,} lines, best of {args.rounds} rounds")
    print_table(["work per line", "µs", "× baseline"], rows)
    print(f"worst masking / baseline: {goal_text(max(ratios), 1.0)}")


if __name__ == "__main__":
    main()
