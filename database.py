"""Database binding: pooled connections, opened on a request's first query.

A request that runs no query (the error pages, a form shown again) never
touches the database, and static files never reach Flask at all (see
``assets``). Connections come from Peewee's pool: a connection's PRAGMAs run
once, when the pool opens it, not on every request; the end of a request
hands its connection back to the pool.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from playhouse.db_url import connect, parse

from models import db

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}

# The pooled flavour of each scheme (playhouse.db_url's names).
POOLED = {"sqlite": "sqlite+pool", "postgres": "postgres+pool", "postgresql": "postgresql+pool"}
# Seconds a request waits for a free connection when all are out (a sync
# worker uses one, plus one for the mail delivery thread).
POOL_WAIT = 10
POOL_SIZE = 8


def pooled(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{POOLED.get(scheme, scheme)}{sep}{rest}"


def open_database(url: str, lock_timeout_ms: int = 0):
    """``lock_timeout_ms`` (PostgreSQL; 0: none): how long a statement waits
    for a lock before it fails."""
    url = pooled(url)
    pool = {"max_connections": POOL_SIZE, "timeout": POOL_WAIT} if "+pool://" in url else {}
    if url.startswith("sqlite"):
        path = parse(url)["database"]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)  # e.g. a new instance folder
        # Write transactions take the lock up front so two writers queue on
        # busy_timeout instead of failing to upgrade a read lock.
        if pool:
            # A pooled connection serves one thread at a time, not always the one that opened it.
            pool["check_same_thread"] = False
        return connect(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", **pool)
    if pool:
        pool["stale_timeout"] = 300  # a connection idle for 5 minutes is replaced, not reused
    if lock_timeout_ms:
        pool["options"] = f"-c lock_timeout={int(lock_timeout_ms)}"
    # A password (or user) with @ : / % in it is written %XX in the URL, as
    # for pg_dump (backup.py): Peewee passes it on still encoded unless told.
    return connect(url, unquote_password=True, unquote_user=True, **pool)


def serves_requests() -> bool:
    """False inside a ``flask`` command (click's context), True under gunicorn."""
    return click.get_current_context(silent=True) is None


def init_app(app: Flask) -> None:
    # A request waits for a PostgreSQL lock at most DATABASE_LOCK_TIMEOUT_MS,
    # then answers 503 (views/errors.py): a migration or a SIRENE switch
    # queued behind the nightly pg_dump would otherwise hold every request on
    # its table, each worker in turn, until the dump ends. Commands wait as
    # long as they must (init-db's lock, an import's switch).
    timeout = app.config["DATABASE_LOCK_TIMEOUT_MS"] if serves_requests() else 0
    # Peewee opens the connection on the first query (autoconnect).
    db.initialize(open_database(app.config["DATABASE_URL"], timeout))

    @app.teardown_request
    def _release(_exc: BaseException | None) -> None:
        if not db.is_closed():
            db.close()  # back to the pool
