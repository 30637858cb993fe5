"""Database binding: pooled connections, opened on a request's first query.

A request that runs no query (the error pages, a form shown again) never
touches the database, and static files never reach Flask at all (see
``assets``). Connections come from Peewee's pool: a connection's PRAGMAs run
once, when the pool opens it, not on every request; the end of a request
hands its connection back to the pool.
"""

from __future__ import annotations

import functools
import logging
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import click
from flask import Flask, current_app, g, has_app_context
from peewee import DatabaseError, Model, SqliteDatabase
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
# 40P01 (deadlock detected) and 40001 (serialization failure): two
# transactions crossed; the one PostgreSQL chose was rolled back and may be
# run again at once (``transaction``). Still there after the retries, it is
# answered as an outage: 503.
POSTGRES_RETRYABLE_CODES = frozenset({"40P01", "40001"})
POSTGRES_UNAVAILABLE_CODES = frozenset({"55P03"}) | POSTGRES_RETRYABLE_CODES


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


def retryable(error: BaseException) -> bool:
    """Whether a Peewee error is PostgreSQL rolling back one of two crossed
    transactions (a deadlock, a serialization failure): running it again
    from its start is what the server asks. Never SQLite's busy or locked:
    its write transactions take the lock as they begin (BEGIN IMMEDIATE) and
    wait busy_timeout for it (5 s) before failing, so a transaction that
    began never fails so, and one that could not begin has waited enough."""
    cause = getattr(error, "orig", None)
    module = type(cause).__module__ or ""
    return module.startswith("psycopg2") and getattr(cause, "pgcode", None) in POSTGRES_RETRYABLE_CODES


# A transaction crossed by another is run again at most this many times (the
# setting DATABASE_TRANSACTION_RETRIES), after a pause drawn at random
# between half and all of RETRY_BASE_SECONDS doubled at each retry: two
# requests that crossed do not cross again at the same instant.
TRANSACTION_RETRIES = 3
RETRY_BASE_SECONDS = 0.05
# What a transaction's function leaves on the request besides the database
# (mailer.queue: the ids of the mail to deliver once committed), put back
# as it was before a run that rolled back.
REQUEST_ENTRIES = ("queued_mail",)
_LOG = logging.getLogger("portail.database")

P = ParamSpec("P")
R = TypeVar("R")


def retry_pause(retry: int) -> float:
    """Seconds to wait before the ``retry``-th run again (1, 2, …): jittered."""
    ceiling = RETRY_BASE_SECONDS * 2 ** (retry - 1)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - a pause, not a secret


def transaction(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` in one transaction that is run again as a whole when
    PostgreSQL rolls it back for a deadlock or a serialization failure
    (``attempts``): the use cases whose body is their transaction."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        models = [value for value in (*args, *kwargs.values()) if isinstance(value, Model)]
        for attempt in attempts(_name(function), keep=models):
            with attempt:
                return function(*args, **kwargs)
        raise AssertionError("unreachable: the last attempt returns or raises")

    return run


def attempts(name: str | None = None, keep: Iterable[Model] = ()) -> Iterator[_Attempt]:
    """The runs of one transaction, in place of ``with db.atomic():``::

        for attempt in database.attempts():
            with attempt:
                ...  # the transaction's statements

    Each ``with attempt`` is a ``db.atomic()``. When PostgreSQL rolls it back
    for a deadlock or a serialization failure (``retryable``), the error is
    logged in one line (the SQLSTATE and the use case, nothing of the rows)
    and the body runs again from its start after a short random pause, up
    to DATABASE_TRANSACTION_RETRIES times; then the error goes on
    (views/errors.py answers 503 with Retry-After). Any other error goes on
    at once. Inside a transaction already open, one run only (a savepoint):
    the crossing rolled back the whole transaction, which its outermost
    ``attempts`` runs again.

    Nothing leaves the process before the commit: mail is written to the
    outbox in the transaction and delivered after the request (mailer), so a
    run rolled back sends nothing and the run that commits sends its mail
    once; the request's list of mail to deliver is put back as it was before
    each run. What the body changes must therefore be in the database, or in
    values it computes afresh: a rate limit it counts (Redis) may count a
    retried run twice. The model objects in ``keep`` (``transaction``: the
    function's arguments) are put back as they were before each run again:
    a compare-and-set copies what it stored onto its object, which the
    rollback does not undo."""
    if name is None:
        caller = sys._getframe(1)
        name = f"{caller.f_globals.get('__name__')}.{caller.f_code.co_qualname}"
    if db.in_transaction():
        yield _Attempt(name, 0, 0)
        return
    retries = _retries()
    keep = list(keep)
    for retry in range(retries + 1):
        attempt = _Attempt(name, retry, retries, keep)
        yield attempt
        if attempt.done:
            return


@contextmanager
def snapshot() -> Iterator[None]:
    """Several reads that see the database at one moment, for a page that
    lists the same rows by their state in several queries (the console's
    « Courriels »): without it, a mail delivered between two of them is
    listed both as waiting and as sent. SQLite: a deferred transaction, which
    takes no write lock (WAL: readers never block writers); PostgreSQL:
    REPEATABLE READ, whose statements all see the snapshot of its first. It
    writes nothing; inside a transaction already open, that one's view."""
    if db.in_transaction():
        yield
        return
    if isinstance(db.obj, SqliteDatabase):
        reading = db.atomic(lock_type="DEFERRED")
    else:
        reading = db.atomic(isolation_level="REPEATABLE READ")
    with reading:
        yield


class _Attempt:
    """One run of a transaction (``attempts``)."""

    def __init__(self, name: str, retry: int, retries: int, keep: list[Model] = ()) -> None:
        self.name, self.retry, self.retries = name, retry, retries
        self.keep = keep
        self.done = False

    def __enter__(self) -> _Attempt:
        self.kept = _request_entries()
        # The rows as the run found them in these objects (``keep``): a model
        # method copies what it stored onto its object, which the rollback
        # does not undo; a compare-and-set against them would then fail.
        self.as_read = [(model, dict(model.__data__), set(model._dirty)) for model in self.keep]
        self.atomic = db.atomic()
        self.atomic.__enter__()
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        try:
            self.atomic.__exit__(kind, error, traceback)  # commits, or rolls back
        except DatabaseError as at_commit:  # a serialization failure may come at COMMIT
            error = at_commit
            if not self._again(error):
                raise
            return True
        if error is None:
            self.done = True
            return False
        return isinstance(error, DatabaseError) and self._again(error)

    def _again(self, error: DatabaseError) -> bool:
        """Whether to run again: then logged, the request's entries put back, paused."""
        if self.retry >= self.retries or not retryable(error):
            return False
        _restore(self.kept)
        for model, data, dirty in self.as_read:
            model.__data__, model._dirty = dict(data), set(dirty)
        pause = retry_pause(self.retry + 1)
        _LOG.warning(
            "Transaction %s rolled back by the database (%s): run again in %d ms (retry %d of %d)",
            self.name,
            error.orig.pgcode,
            round(pause * 1000),
            self.retry + 1,
            self.retries,
        )
        time.sleep(pause)
        return True


def _name(function: Callable) -> str:
    module = getattr(function, "__module__", None) or type(function).__module__
    return f"{module}.{getattr(function, '__qualname__', type(function).__qualname__)}"


def _retries() -> int:
    if has_app_context():
        return int(current_app.config.get("DATABASE_TRANSACTION_RETRIES", TRANSACTION_RETRIES))
    return TRANSACTION_RETRIES


def _request_entries() -> dict | None:
    if not has_app_context():
        return None
    return {name: list(g.get(name) or ()) for name in REQUEST_ENTRIES}


def _restore(kept: dict | None) -> None:
    if kept is None:
        return
    for name, value in kept.items():
        setattr(g, name, value)


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
