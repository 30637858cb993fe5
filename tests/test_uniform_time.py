"""uniform_time: an answer of the fast branch is held until the slow branch's
usual time; the hold is capped; nothing is held before a slow branch was seen."""

from __future__ import annotations

import time

import pytest

import uniform_time


@pytest.fixture(autouse=True)
def fresh():
    uniform_time.forget()
    yield
    uniform_time.forget()


def timed(operation: str, slow: bool, work: float) -> float:
    start = time.perf_counter()
    with uniform_time.held(operation) as branch:
        time.sleep(work)
        branch.slow = slow
    return time.perf_counter() - start


def test_the_fast_branch_takes_as_long_as_the_slow_one_enumeration_attack():
    for _ in range(5):
        timed("reset", slow=True, work=0.03)
    assert timed("reset", slow=False, work=0.0) >= 0.029


class Clock:
    """``uniform_time``'s clock, stood in: what it waits is read, not timed
    (a busy machine's scheduler must not decide these tests)."""

    def __init__(self):
        self.now = 0.0
        self.slept: list[float] = []

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    stand_in = Clock()
    monkeypatch.setattr(uniform_time, "time", stand_in)
    return stand_in


def on_clock(clock: Clock, operation: str, slow: bool, work: float) -> float:
    start = clock.now
    with uniform_time.held(operation) as branch:
        clock.now += work
        branch.slow = slow
    return clock.now - start


def test_nothing_is_held_before_a_slow_branch_was_seen(clock):
    assert on_clock(clock, "reset", slow=False, work=0.001) == pytest.approx(0.001)
    assert clock.slept == []


def test_operations_learn_apart(clock):
    on_clock(clock, "reset", slow=True, work=0.03)
    assert on_clock(clock, "resend", slow=False, work=0.001) == pytest.approx(0.001)
    assert clock.slept == []
    assert on_clock(clock, "reset", slow=False, work=0.001) == pytest.approx(0.03)


def test_the_hold_is_capped_so_a_stalled_disk_does_not_hold_every_answer(monkeypatch, clock):
    monkeypatch.setattr(uniform_time, "MAX_HOLD", 0.01)
    on_clock(clock, "reset", slow=True, work=0.1)
    assert on_clock(clock, "reset", slow=False, work=0.0) == pytest.approx(0.01)
    assert clock.slept == [pytest.approx(0.01)]
