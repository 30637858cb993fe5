"""Requests released at the same instant, for the races the database decides."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(calls: list[Callable]) -> list:
    """Run the calls in threads released together; their results, in the
    order of the calls."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def post_at_once(url: str, clients: list, forms: list) -> list:
    """Each client POSTs its form to ``url``, all released together; the
    responses, client by client."""
    pairs = zip(clients, forms, strict=True)
    return at_once([lambda c=client, f=form: c.post(url, data=f) for client, form in pairs])
