"""The probe schedule: quick tries after a start, failures counted on the spec's schedule."""

from __future__ import annotations

from workloadlab.models import Probe
from workloadlab.server.probes import ProbeKind, ProbeSchedule, Verdict


def schedule(**probe: float) -> ProbeSchedule:
    return ProbeSchedule(
        ProbeKind.READINESS,
        Probe(path="/readyz", **probe),
        started=0.0,
        quick=True,
        first_gap=0.005,
        growth=1.5,
        flat_window=1.0,
    )


def test_no_answer_keeps_the_quick_gap_flat_for_the_window() -> None:
    s = schedule(period_seconds=10)
    now = 0.0
    gaps = []
    for _ in range(20):
        assert s.record(None, now) is None
        gaps.append(s.next_at - now)
        now = s.next_at
    assert all(abs(gap - 0.005) < 1e-9 for gap in gaps)


def test_an_answer_that_is_not_ready_backs_off_at_once() -> None:
    s = schedule(period_seconds=10)
    now, gaps = 0.0, []
    for _ in range(6):
        s.record(503, now)
        gaps.append(s.next_at - now)
        now = s.next_at
    assert gaps == sorted(gaps)
    assert gaps[-1] > gaps[0] * 5


def test_failures_count_only_on_the_specs_schedule() -> None:
    s = schedule(period_seconds=1, failure_threshold=3, initial_delay_seconds=0)
    verdicts = [s.record(None, t / 1000) for t in range(0, 999, 5)]
    assert Verdict.FAILED not in verdicts, "quick tries within one period count once"
    assert s.failures == 1
    assert s.record(None, 1.0) is None
    assert s.record(None, 2.0) is Verdict.FAILED


def test_success_threshold_then_the_period() -> None:
    s = schedule(period_seconds=10, success_threshold=2)
    assert s.record(200, 0.0) is None
    assert s.record(204, 0.005) is Verdict.PASSED
    assert s.next_at - 0.005 == 10
