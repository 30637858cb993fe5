"""Database binding: pooled connections, opened on a request's first query.

A request that runs no query (the error pages, a form shown again) never
touches the database, and static files never reach Flask at all (see
``assets``). Connections come from Peewee's pool: a connection's PRAGMAs run
once, when the pool opens it, not on every request; the end of a request
hands its connection back to the pool.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
from flask import Flask
from playhouse.db_url import connect, parse

import folding
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
        database = connect(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", **pool)
        # PostgreSQL's translate(), which SQLite lacks: searches fold accents with it (folding).
        database.register_function(folding.translate, "translate", 3, deterministic=True)
        return database
    if pool:
        pool["stale_timeout"] = 300  # a connection idle for 5 minutes is replaced, not reused
    if lock_timeout_ms:
        # Added to the URL's own options (a search_path...), which a keyword would replace.
        given = parse(url).get("options")
        pool["options"] = " ".join(filter(None, [given, f"-c lock_timeout={int(lock_timeout_ms)}"]))
    # A password (or user) with @ : / % in it is written %XX in the URL, as
    # for pg_dump (backup.py): Peewee passes it on still encoded unless told.
    return connect(url, unquote_password=True, unquote_user=True, **pool)


# What says the database is out of reach for now, rather than that the code
# asked it something wrong. SQLite: its primary result codes for busy or
# locked, out of memory, read-only (a disk remounted so), I/O error, full
# disk, cannot open. PostgreSQL: no server code (no connection, or a lost
# one), SQLSTATE classes 08 (connection), 53 (resources: a full disk, too
# many connections), 57 (operator intervention: a shutdown, statement_timeout),
# 58 (system error) and 55P03 (lock_timeout).
SQLITE_UNAVAILABLE = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
POSTGRES_UNAVAILABLE_CLASSES = ("08", "53", "57", "58")
POSTGRES_UNAVAILABLE_CODES = frozenset({"55P03"})


def first_line(error: Exception) -> str:
    """A database error's first line (drivers add hints below it), or its kind."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def unavailable(error: BaseException) -> bool:
    """Whether a Peewee error is an outage (the request may succeed in a
    moment) and not a programming error: « no such column », a syntax error,
    a value of the wrong type, a query on an unbound database. Peewee keeps
    the driver's exception it wraps (``orig``); one it raises itself, with
    none, comes from the code."""
    cause = getattr(error, "orig", None)
    if cause is None:
        return False
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        return (
            isinstance(cause, sqlite3.OperationalError)
            and code is not None
            and code & 0xFF in SQLITE_UNAVAILABLE
        )
    module = type(cause).__module__ or ""
    if module.startswith("psycopg2"):
        code = getattr(cause, "pgcode", None)
        if code is None:
            return True  # no answer from the server: a connection refused or cut
        return code.startswith(POSTGRES_UNAVAILABLE_CLASSES) or code in POSTGRES_UNAVAILABLE_CODES
    return True  # another driver: its classes are all there is to go by


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
