"""13: ids never given twice, on SQLite too.

Without AUTOINCREMENT, SQLite gives the id of a deleted newest row to the
next row made: the account deleted last, and the next sign-up got its id.
A page opened before (an operator's account page, a manager's list of
requests) then acted on somebody else. The tables whose ids reach pages and
forms are rebuilt with AUTOINCREMENT, as SQLite documents for a change that
ALTER TABLE cannot make: a new table, the rows copied, the old one dropped,
the new one renamed, its indexes made again. The foreign keys that name the
table by name hold over the rebuild (they are off while steps run, and
checked before the commit). PostgreSQL's sequences never go back: nothing
to do there.
"""

from __future__ import annotations

import re

from peewee import SqliteDatabase
from playhouse.migrate import SchemaMigrator

TABLES = ("user", "structure", "membership", "outbox_mail", "second_factor")
# The id column as Peewee writes it, without AUTOINCREMENT.
_ID = re.compile(r'^(CREATE TABLE "(?P<table>\w+)" \("id" INTEGER NOT NULL PRIMARY KEY)(?! AUTOINCREMENT)')


def upgrade(migrator: SchemaMigrator) -> None:
    database = migrator.database
    if not isinstance(database, SqliteDatabase):
        return
    for table in TABLES:
        _rebuild_with_autoincrement(database, table)


def _rebuild_with_autoincrement(database: SqliteDatabase, table: str) -> None:
    (create,) = database.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    indexes = database.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
    ).fetchall()
    match = _ID.match(create)
    if match is None or match.group("table") != table:
        raise RuntimeError(f"Unexpected definition of {table}: {create[:120]}")
    rebuilt = f"{table}__rebuilt"
    rest = create[match.end() :]
    definition = f'CREATE TABLE "{rebuilt}" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT{rest}'
    columns = ", ".join(f'"{column.name}"' for column in database.get_columns(table))
    database.execute_sql(definition)
    # Copying the ids sets the table's counter (sqlite_sequence) to the largest.
    database.execute_sql(f'INSERT INTO "{rebuilt}" ({columns}) SELECT {columns} FROM "{table}"')  # noqa: S608
    database.execute_sql(f'DROP TABLE "{table}"')
    database.execute_sql(f'ALTER TABLE "{rebuilt}" RENAME TO "{table}"')
    for (index,) in indexes:
        database.execute_sql(index)
