"""Requests released at the same instant, for the races the database decides."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(calls: list[Callable]) -> list:
    """Run the calls in threads released together; their results, in the
    order they finished."""
    barrier = threading.Barrier(len(calls))
    results = []

    def run(call):
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
