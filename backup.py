"""``flask --app app backup PATH``: a consistent copy of the database in one
file, while the portal keeps running.

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies
  the database page by page under a read transaction, WAL included.
  Restore: stop the portal, put the file in place of the database, start it.
- PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot, taken
  without blocking writers). Restore with ``pg_restore --clean --if-exists
  --no-owner -d DATABASE PATH``. The password goes to pg_dump in its
  environment, never on its command line (which every local user can read).

Either way the copy is written to a new file beside PATH, readable by its
owner only (it holds every account), and renamed into place once complete:
PATH is never half-written, and a failed copy leaves nothing behind. PATH
may be an earlier backup, which is replaced, but neither the database itself
nor any other file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from playhouse.db_url import parse

# How a file that may be replaced begins: a SQLite database, a pg_dump archive.
BACKUP_MAGICS = (b"SQLite format 3\x00", b"PGDMP")


def _partial(target: Path) -> Path:
    """A new, empty file beside ``target``, mode 0600 whatever the umask."""
    handle, name = tempfile.mkstemp(prefix=target.name + ".", suffix=".partial", dir=target.parent)
    os.close(handle)
    return Path(name)


@contextlib.contextmanager
def _written_into_place(target: Path) -> Iterator[Path]:
    """The file to write; renamed to ``target`` if the block succeeds,
    removed otherwise."""
    partial = _partial(target)
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _check_target(target: Path, database: Path | None) -> None:
    if database is not None:
        live = database.resolve()
        if target in {live} | {live.with_name(live.name + end) for end in ("-wal", "-shm", "-journal")}:
            raise click.ClickException(f"{target} is the database itself: choose another path.")
    if not target.exists():
        return
    if not target.is_file():
        raise click.ClickException(f"{target} exists and is not a file.")
    with target.open("rb") as existing:
        start = existing.read(16)
    if start and not start.startswith(BACKUP_MAGICS):
        raise click.ClickException(
            f"{target} exists and is not a backup: it is left as it is (remove it or choose another path)."
        )


def backup_sqlite(database: str, target: Path) -> None:
    with _written_into_place(target) as partial:
        source = sqlite3.connect(database)
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy, pages=1024)
            finally:
                copy.close()
        finally:
            source.close()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL for libpq (Peewee's "+pool" suffix is ours) without its
    password, and the environment that gives the password instead."""
    parts = urlsplit("postgresql://" + url.split("://", 1)[1])
    environment = dict(os.environ)
    if parts.password is None:
        return urlunsplit(parts), environment
    environment["PGPASSWORD"] = unquote(parts.password)
    user = parts.netloc.rpartition("@")[0].split(":", 1)[0]
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}")), environment


def backup_postgresql(url: str, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise click.ClickException("pg_dump not found: install the PostgreSQL client (postgresql-client).")
    libpq_url, environment = _libpq(url)
    with _written_into_place(target) as partial:
        result = subprocess.run(  # noqa: S603 - fixed program, URL from the operator's settings
            [pg_dump, "--format=custom", "--no-owner", "--file", str(partial), "--dbname", libpq_url],
            capture_output=True,
            text=True,
            check=False,
            env=environment,
        )
        if result.returncode != 0:
            raise click.ClickException(f"pg_dump failed: {result.stderr.strip()}")


def _a_file(path: str) -> Path:
    """PATH as given: one ending with a slash names a folder, which the copy
    would otherwise be written as (a file of that name)."""
    if path.endswith(("/", os.sep)):
        example = f"{path}portail-{date.today().isoformat()}.db"
        raise click.BadParameter(f"{path!r} names a folder: give the backup file's name, e.g. {example}.")
    return Path(path)


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, writable=True), callback=lambda _c, _p, v: _a_file(v))
def backup(path: Path) -> None:
    """Copy the database, consistently, to PATH (one file) while the portal runs."""
    url = current_app.config["DATABASE_URL"]
    scheme = url.split("://", 1)[0]
    path = path.resolve()
    if scheme.startswith("sqlite"):
        database = parse(url)["database"]
        if not database or database == ":memory:" or not Path(database).is_file():
            raise click.ClickException(f"No SQLite database file at {database!r}.")
        method, live = backup_sqlite, Path(database)
    elif scheme.startswith("postgres"):
        method, database, live = backup_postgresql, url, None
    else:
        raise click.ClickException(f"No backup method for {scheme}:// databases.")
    try:
        _check_target(path, live)
        path.parent.mkdir(parents=True, exist_ok=True)
        method(database, path)
    except (OSError, sqlite3.Error) as error:
        raise click.ClickException(f"No backup written to {path}: {error}.") from None
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")
