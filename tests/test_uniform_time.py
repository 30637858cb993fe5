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


def test_nothing_is_held_before_a_slow_branch_was_seen():
    assert timed("reset", slow=False, work=0.0) < 0.02


def test_operations_learn_apart():
    timed("reset", slow=True, work=0.03)
    assert timed("resend", slow=False, work=0.0) < 0.02


def test_the_hold_is_capped_so_a_stalled_disk_does_not_hold_every_answer(monkeypatch):
    monkeypatch.setattr(uniform_time, "MAX_HOLD", 0.01)
    timed("reset", slow=True, work=0.1)
    assert timed("reset", slow=False, work=0.0) < 0.08
