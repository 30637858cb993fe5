"""``flask --app app backup PATH``: a consistent copy of the database in one
file, while the portal keeps running.

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies
  the database page by page under a read transaction, WAL included; the copy
  is written beside PATH and renamed into place, so PATH is never half-written.
  Restore: stop the portal, put the file in place of the database, start it.
- PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot, taken
  without blocking writers). Restore with ``pg_restore --clean --if-exists
  --no-owner -d DATABASE PATH``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from playhouse.db_url import parse


def backup_sqlite(database: str, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=1024)
        finally:
            copy.close()
    finally:
        source.close()
    os.replace(partial, target)


def backup_postgresql(url: str, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise click.ClickException("pg_dump not found: install the PostgreSQL client (postgresql-client).")
    partial = target.with_name(target.name + ".partial")
    # libpq understands postgresql:// URLs; Peewee's "+pool" suffix is ours.
    libpq_url = "postgresql://" + url.split("://", 1)[1]
    result = subprocess.run(  # noqa: S603 - fixed program, URL from the operator's settings
        [pg_dump, "--format=custom", "--no-owner", "--file", str(partial), "--dbname", libpq_url],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"pg_dump failed: {result.stderr.strip()}")
    os.replace(partial, target)


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(path: Path) -> None:
    """Copy the database, consistently, to PATH (one file) while the portal runs."""
    url = current_app.config["DATABASE_URL"]
    scheme = url.split("://", 1)[0]
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    if scheme.startswith("sqlite"):
        database = parse(url)["database"]
        if not database or database == ":memory:" or not Path(database).is_file():
            raise click.ClickException(f"No SQLite database file at {database!r}.")
        backup_sqlite(database, path)
    elif scheme.startswith("postgres"):
        backup_postgresql(url, path)
    else:
        raise click.ClickException(f"No backup method for {scheme}:// databases.")
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")
