"""Load INSEE stock files into the portal's database, then switch to them in
one step.

Each file is loaded into a new table beside the live one (``…_next``); the
portal keeps answering from the live table meanwhile. When the load is
complete, one transaction renames the live table away, the new one into its
place and records the import: readers see either the old directory or the
new one, never a mix. A file refused half-way (a malformed line, a damaged
zip) or holding no rows leaves the live table untouched and its ``…_next``
table dropped; an import killed half-way leaves that table behind, and the
next import drops it.

SQLite: batched ``executemany`` straight from the csv reader (no per-row
Python), the SIRET/SIREN as the rowid. PostgreSQL: ``COPY … FROM STDIN``.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from peewee import DatabaseError, PostgresqlDatabase, SqliteDatabase

from models import SireneImport, db, utcnow
from sirene.reader import (
    READ_ERRORS,
    ROW_ERRORS,
    LineTooLong,
    Rows,
    SireneFileError,
    StockFile,
    inspect,
    not_utf8,
    rows,
)
from sirene.schema import Kind

BATCH = 100_000  # rows per transaction (SQLite) / between progress reports
SQLITE_LOAD_PRAGMAS = {"cache_size": -65536}  # 64 MiB of page cache for the loader


@dataclass
class Result:
    stock: StockFile
    rows: int
    seconds: float
    cpu_seconds: float  # this process's, so the rate on a busy machine can be told apart
    removed: int = 0  # control characters deleted from the fields
    line_breaks: int = 0  # line breaks inside quoted fields made spaces, and blank lines skipped

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class Progress:
    """What the importer reports; the CLI draws it."""

    def start(self, stock: StockFile) -> None:
        pass

    def advance(self, rows: int, position: int) -> None:
        """``rows`` loaded so far, ``position`` bytes of csv read."""

    def done(self, result: Result) -> None:
        pass


def _describe(stock: StockFile) -> str:
    return stock.path.name + (f" ({stock.member})" if stock.member else "")


def import_files(paths: Iterable[str | Path], progress: Progress | None = None) -> list[Result]:
    """Check every file's header first (nothing is loaded if one is refused),
    then load and switch each in turn."""
    stocks = [inspect(path) for path in paths]
    seen: dict[str, Path] = {}
    for stock in stocks:
        if stock.kind.name in seen:
            first = seen[stock.kind.name]
            raise SireneFileError(f"{first} and {stock.path} are both {stock.kind.label} files.")
        seen[stock.kind.name] = stock.path
    progress = progress or Progress()
    return [_import(stock, progress) for stock in stocks]


# PostgreSQL advisory lock keys, one per kind of file (see _one_import_at_a_time).
IMPORT_LOCK_KEYS = {"establishments": 7_305_140_301, "legal_units": 7_305_140_302}


@contextmanager
def _one_import_at_a_time(kind: Kind) -> Iterator[None]:
    """Two imports of one kind of file would share its ``…_next`` table: the
    second would drop it under the first. The second is refused at once
    (SQLite: a lock on a file beside the database; PostgreSQL: an advisory
    lock), whatever process or machine runs it."""
    busy = SireneFileError(
        f"Another import of {kind.label} files is running: try again once it has finished."
    )
    if isinstance(db.obj, PostgresqlDatabase):
        key = IMPORT_LOCK_KEYS[kind.name]
        if not db.execute_sql("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            raise busy
        try:
            yield
        finally:
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (key,))
        return
    with open(f"{db.obj.database}.sirene-{kind.name}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        yield  # the lock goes with the file's closing


def _import(stock: StockFile, progress: Progress) -> Result:
    progress.start(stock)
    clock, cpu = time.monotonic(), time.process_time()
    with _one_import_at_a_time(stock.kind):
        count, removed, line_breaks = _loader_for(db.obj).load(stock, progress)
    result = Result(
        stock=stock,
        rows=count,
        seconds=time.monotonic() - clock,
        cpu_seconds=time.process_time() - cpu,
        removed=removed,
        line_breaks=line_breaks,
    )
    progress.done(result)
    return result


def _loader_for(database):
    if isinstance(database, SqliteDatabase):
        return SqliteLoader()
    if isinstance(database, PostgresqlDatabase):
        return PostgresLoader()
    raise SireneFileError(f"The SIRENE import supports SQLite and PostgreSQL, not {type(database).__name__}.")


def staging_table(kind: Kind) -> str:
    return f"{kind.table}_next"


def old_table(kind: Kind) -> str:
    return f"{kind.table}_old"


def _create_sql(kind: Kind, table: str, key_type: str, primary_key: bool) -> str:
    # A key is a SIRET or a SIREN: « -5 » is a number, not one of them.
    within = f"CHECK ({kind.key} BETWEEN 0 AND {10**kind.digits - 1})"
    key = f"{kind.key} {key_type} NOT NULL{' PRIMARY KEY' if primary_key else ''} {within}"
    return f"CREATE TABLE {table} ({key}, record TEXT)"


def _record(stock: StockFile, count: int, started) -> None:
    files = {"file": str(stock.path.resolve()), "member": stock.member}
    SireneImport.create(
        kind=stock.kind.name, files=json.dumps(files), rows=count, started_at=started, finished_at=utcnow()
    )


def _damaged(stock: StockFile, count: int, error: Exception) -> SireneFileError:
    return SireneFileError(f"{stock.path}: damaged or truncated near row {count + 1} ({error}).")


def _stopped(stock: StockFile, count: int, error: Exception) -> SireneFileError:
    return SireneFileError(
        f"{stock.path}: the database stopped the load near row {count + 1} ({error}); "
        "the directory is left as it was."
    )


def _malformed(stock: StockFile, read: Rows, error: Exception) -> SireneFileError:
    """A line the csv module, the header or the encoding refuses, by its number."""
    if isinstance(error, UnicodeDecodeError):
        return SireneFileError(f"{stock.path}: {not_utf8(error, read.line())}.")
    if isinstance(error, IndexError):
        error = "fewer columns than the header"
    # The text layer reads ahead only once the lines it holds are used: a
    # line too long, or a byte not UTF-8, is on the line after the last used.
    line = read.line() + 1 if isinstance(error, LineTooLong) else read.line()
    return SireneFileError(f"{stock.path}: malformed line {line} ({error}).")


def _bad_key(stock: StockFile, read: Rows, error: Exception) -> SireneFileError:
    kind = stock.kind
    if "UNIQUE" in str(error):
        return SireneFileError(
            f"{stock.path}: the {kind.key} on line {read.line()} is on an earlier line too ({error})."
        )
    line = read.line()
    return SireneFileError(
        f"{stock.path}: a {kind.key} that is not a number of {kind.digits} digits at most on line {line} "
        f"({error})."
    )


def _empty(stock: StockFile) -> SireneFileError:
    """A file of no rows is refused: loaded, it would empty the directory."""
    return SireneFileError(
        f"{stock.path}: no {stock.kind.label} in this file; the directory is left as it was."
    )


# A line break inside a quoted field, once loaded: a space, like any other
# control character of a field (see sirene.reader.Cleaned). Run only when the
# file had some (``Rows.line_breaks``): INSEE's files have none, and the rows
# stream on with no per-row work.
LINE_BREAKS_SQL = {
    "sqlite": (
        "UPDATE {table} SET record = replace(replace(replace(record, char(13, 10), ' '), char(13), ' '), "
        "char(10), ' ') WHERE instr(record, char(10)) OR instr(record, char(13))"
    ),
    "postgresql": (
        "UPDATE {table} SET record = translate(replace(record, chr(13) || chr(10), ' '), "
        "chr(13) || chr(10), '  ') WHERE strpos(record, chr(10)) > 0 OR strpos(record, chr(13)) > 0"
    ),
}


def _line_breaks_to_spaces(table: str, dialect: str) -> None:
    db.execute_sql(LINE_BREAKS_SQL[dialect].format(table=table))


def _switch(kind: Kind) -> None:
    """Inside the caller's transaction: the new table takes the live one's name."""
    live, new, old = kind.table, staging_table(kind), old_table(kind)
    db.execute_sql(f"ALTER TABLE {live} RENAME TO {old}")
    db.execute_sql(f"ALTER TABLE {new} RENAME TO {live}")


class SqliteLoader:
    def load(self, stock: StockFile, progress: Progress) -> tuple[int, int, int]:
        """Rows loaded, control characters removed, line breaks made spaces."""
        kind, started = stock.kind, utcnow()
        new = staging_table(kind)
        for table in (new, old_table(kind)):  # left by an interrupted import
            db.execute_sql(f"DROP TABLE IF EXISTS {table}")
        db.execute_sql(_create_sql(kind, new, "INTEGER", primary_key=True))
        for name, value in SQLITE_LOAD_PRAGMAS.items():
            db.execute_sql(f"PRAGMA {name} = {value}")
        # Table and column names come from sirene.schema, never from the file.
        # A key seen twice is refused, as PostgreSQL's primary key refuses it.
        sql = f"INSERT INTO {new} ({kind.key}, record) VALUES (?, ?)"  # noqa: S608
        try:
            count, removed, line_breaks = self._fill(stock, sql, progress)
            if not count:
                raise _empty(stock)
            if line_breaks:
                try:
                    with db.atomic():
                        _line_breaks_to_spaces(new, "sqlite")
                except (sqlite3.DatabaseError, DatabaseError) as error:
                    raise _stopped(stock, count, error) from error
        except SireneFileError:
            # A refused file leaves no half-loaded table (on a full disk, the next import drops it).
            with suppress(DatabaseError):
                db.execute_sql(f"DROP TABLE {new}")
            raise
        with db.atomic():
            _switch(kind)
            _record(stock, count, started)
        db.execute_sql(f"DROP TABLE {old_table(kind)}")
        return count, removed, line_breaks

    @staticmethod
    def _fill(stock: StockFile, sql: str, progress: Progress) -> tuple[int, int, int]:
        """Rows loaded, control characters removed, line breaks made spaces."""
        connection: sqlite3.Connection = db.connection()
        count = 0
        with rows(stock) as read:
            while True:
                before = connection.total_changes
                try:
                    with db.atomic():
                        connection.executemany(sql, islice(read.stream, BATCH))
                except sqlite3.IntegrityError as error:
                    raise _bad_key(stock, read, error) from error
                except ROW_ERRORS as error:
                    raise _malformed(stock, read, error) from error
                except READ_ERRORS as error:
                    raise _damaged(stock, count, error) from error
                except (sqlite3.DatabaseError, DatabaseError) as error:  # a full disk, most likely
                    raise _stopped(stock, count, error) from error
                loaded = connection.total_changes - before
                if not loaded:
                    return count, read.removed, read.line_breaks(count)
                count += loaded
                progress.advance(count, read.position())


class _CopyStream(io.TextIOBase):
    """The kept columns as csv text, read by ``copy_expert`` piece by piece."""

    def __init__(self, stream: Iterator[tuple[str, ...]], report: Callable[[int], None]) -> None:
        self.stream, self.report, self.count = stream, report, 0
        self.failure: Exception | None = None
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        buffer, writer = self.buffer, self.writer
        buffer.seek(0)
        buffer.truncate()
        target = max(size, 1 << 16)
        try:
            for row in self.stream:
                writer.writerow(row)
                self.count += 1
                if not self.count % BATCH:
                    self.report(self.count)
                if buffer.tell() >= target:
                    break
        except Exception as error:
            self.failure = error  # psycopg2 reports it as its own error, in several lines
            raise
        return buffer.getvalue()


class PostgresLoader:
    def load(self, stock: StockFile, progress: Progress) -> tuple[int, int, int]:
        import psycopg2

        kind, started = stock.kind, utcnow()
        new = staging_table(kind)
        columns = f"{kind.key}, record"
        with db.atomic(), rows(stock) as read:
            db.execute_sql(f"DROP TABLE IF EXISTS {new}")
            db.execute_sql(_create_sql(kind, new, "BIGINT", primary_key=False))
            copy = _CopyStream(read.stream, lambda count: progress.advance(count, read.position()))
            cursor = db.cursor()
            try:
                cursor.copy_expert(f"COPY {new} ({columns}) FROM STDIN WITH (FORMAT csv)", copy)
                # Named per load: the name of the table it was built for stays with it.
                db.execute_sql(
                    f"ALTER TABLE {new} ADD CONSTRAINT {kind.table}_key_{secrets.token_hex(4)} "
                    f"PRIMARY KEY ({kind.key})"
                )
            except (DatabaseError, psycopg2.Error, *ROW_ERRORS, *READ_ERRORS) as error:
                failure = copy.failure or error
                if isinstance(failure, ROW_ERRORS):
                    raise _malformed(stock, read, failure) from error
                if isinstance(failure, READ_ERRORS):
                    raise _damaged(stock, copy.count, failure) from error
                # A bad key, a duplicate: PostgreSQL's first line, and its detail, say which.
                lines = str(error).strip().splitlines() or [type(error).__name__]
                detail = "".join(f" {line.strip()}" for line in lines[1:] if line.startswith("DETAIL:"))
                raise SireneFileError(f"{stock.path}: refused by PostgreSQL: {lines[0]}{detail}") from error
            count = copy.count
            if not count:
                raise _empty(stock)
            if read.line_breaks(count):
                _line_breaks_to_spaces(new, "postgresql")
            progress.advance(count, read.position())
            _switch(kind)
            db.execute_sql(f"DROP TABLE {old_table(kind)}")
            _record(stock, count, started)
            return count, read.removed, read.line_breaks(count)
