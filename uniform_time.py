"""Answers whose time does not tell which branch ran (account enumeration).

For a known address, « Mot de passe oublié ? » and « Renvoyer le courriel »
write a token and an outbox row; for an unknown one they do the same queries
and templates but write nothing (``accounts._as_long_as_a_link``). What is
left — the writes, the delivery thread's wake-up — still shows in a median of
a few dozen tries. So every answer of such an operation is also held until
the time its slow branch usually takes (nearly the slowest of its last
answers, learned per process) has passed. The hold is capped, and a branch
slower than that is not held at all.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, has_app_context

WINDOW = 64  # slow-branch times kept per operation
QUANTILE = 0.98
MAX_HOLD = 0.5  # seconds: a stalled disk must not hold every answer for long

_lock = threading.Lock()
_outside_apps: dict[str, deque[float]] = {}


def _slow_times() -> dict[str, deque[float]]:
    """What this app learned (each app of a process learns on its own)."""
    if not has_app_context():
        return _outside_apps
    return current_app.extensions.setdefault("uniform_time", {})


@dataclass
class Branch:
    """Set ``slow`` when the request took the branch whose time must be hidden;
    ``hold`` off when the answer tells its branch anyway (a refusal shown as
    such), so that it does not keep a worker waiting for nothing."""

    slow: bool = False
    hold: bool = True


def usual_slow_time(operation: str) -> float:
    with _lock:
        times = sorted(_slow_times().get(operation, ()))
    if not times:
        return 0.0
    return times[int(QUANTILE * (len(times) - 1))]


def forget() -> None:
    """Drop what was learned (tests start each app from nothing)."""
    with _lock:
        _slow_times().clear()


@contextmanager
def held(operation: str) -> Iterator[Branch]:
    """Run the block, then wait until the operation's usual slow time."""
    start = time.perf_counter()
    branch = Branch()
    yield branch
    elapsed = time.perf_counter() - start
    target = usual_slow_time(operation)
    if branch.slow:
        with _lock:
            _slow_times().setdefault(operation, deque(maxlen=WINDOW)).append(elapsed)
    wait = min(target - elapsed, MAX_HOLD)
    if wait > 0 and branch.hold:
        time.sleep(wait)
