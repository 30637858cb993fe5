"""SQLite's write lock held by another connection (a backup, a SIRENE
import): past busy_timeout the app's writes fail, which it answers 503."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator


@contextlib.contextmanager
def write_lock(database_url: str) -> Iterator[None]:
    """Another connection holds the write lock of ``database_url``'s file meanwhile."""
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()
