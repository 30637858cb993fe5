"""Database binding: one connection per request on the models' proxy."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from playhouse.db_url import connect, parse

from models import db

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}


def open_database(url: str):
    if url.startswith("sqlite"):
        path = parse(url)["database"]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)  # e.g. a new instance folder
        # Write transactions take the lock up front so two writers queue on
        # busy_timeout instead of failing to upgrade a read lock.
        return connect(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", timeout=5)
    return connect(url)


def init_app(app: Flask) -> None:
    db.initialize(open_database(app.config["DATABASE_URL"]))

    @app.before_request
    def _connect() -> None:
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        if not db.is_closed():
            db.close()
