"""What the commands that use the portal's tables check first."""

from __future__ import annotations

import functools
from pathlib import Path

import click
from peewee import DatabaseError, InterfaceError, SqliteDatabase

import database
import migrations
from models import db

INIT_DB = "flask --app app init-db"


def unreachable(error: Exception) -> click.ClickException:
    """The error's first line: drivers add hints below it."""
    return click.ClickException(f"Database unusable: {database.first_line(error)}")


def newer_schema(version: int) -> click.ClickException:
    """A database a newer version of the portal has migrated: init-db never
    goes down, so it is no remedy."""
    return click.ClickException(
        f"The database's schema is at version {version}, newer than this code's {migrations.SCHEMA_VERSION}: "
        "a newer version of the portal migrated it. Run that version, or restore a backup made before."
    )


def check_schema() -> None:
    """A one-line error unless the database answers with the schema this
    code was written for. A SQLite file that does not exist is not created."""
    database = db.obj
    on_file = isinstance(database, SqliteDatabase) and database.database != ":memory:"
    if on_file and not Path(database.database).is_file():
        raise click.ClickException(f"No database at {database.database}: run `{INIT_DB}` first.")
    try:
        with db.connection_context():
            try:
                version = migrations.current_version()
            except DatabaseError:  # no schema_version table: never initialised
                version = 0
    except (DatabaseError, InterfaceError) as error:
        raise unreachable(error) from None
    if version > migrations.SCHEMA_VERSION:
        raise newer_schema(version)
    if version != migrations.SCHEMA_VERSION:
        raise click.ClickException(
            f"The database's schema is at version {version}, this code needs {migrations.SCHEMA_VERSION}: "
            f"run `{INIT_DB}` first."
        )


def needs_schema(command):
    """For a command's callback, inside the app context."""

    @functools.wraps(command)
    def checked(*args, **kwargs):
        check_schema()
        return command(*args, **kwargs)

    return checked
