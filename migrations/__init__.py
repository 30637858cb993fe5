"""Schema creation and upgrades (``flask --app app init-db``).

Every database is built by the same steps, in order: a new one runs them all
from step 1, an older one the steps above the version it records in
``schema_version``. So a new schema and an upgraded one are the same by
construction, and an upgrade keeps the rows.

A step is a module ``migrations/vNNN_what.py`` with ``upgrade(migrator)``. It
creates its tables from frozen copies of them, written in the module as they
are at that version (``migrations.frozen``), and changes existing tables with
``playhouse.migrate`` operations only. A step never imports the application's
models: they describe the latest version, and a later step adding a column
would then find it already created on a database upgraded from before.

To add a step (a table, a column, an index):

1. Write ``migrations/vNNN_what.py`` (NNN = SCHEMA_VERSION + 1), e.g.::

       class Sirene(FrozenModel):          # a new table, as it is today
           siren = CharField(unique=True)
           class Meta:
               table_name = "sirene"

       def upgrade(migrator):
           create_tables(Sirene)
           migrate(migrator.add_column("user", "second_factor", CharField(null=True)))

   A NOT NULL column on an existing table needs a DEFAULT written in SQL
   (``constraints=[SQL("DEFAULT 0")]`` and ``allow_not_null=True``, see v003):
   it is then one ALTER, no table rebuild.
2. Register it in STEPS below.
3. Change ``models.py`` (and MODELS) to match. ``tests/test_migrations.py``
   checks that the steps build what the models describe and upgrades a
   database from every earlier version, on SQLite and PostgreSQL.

A released step is never edited: fix a mistake with a new step.

One migration runs at a time: on PostgreSQL behind an advisory lock, on SQLite
inside one ``BEGIN IMMEDIATE`` transaction. A second ``init-db`` started
meanwhile waits, then finds the schema up to date. On SQLite the foreign keys
are off while the steps run (a table rebuild would otherwise cascade deletes),
and checked before the commit.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from peewee import IntegerField, OperationalError, PeeweeException, PostgresqlDatabase
from playhouse.migrate import SchemaMigrator

from migrations import (
    v001_accounts,
    v002_structures,
    v003_audit_and_sign_in_throttle,
    v004_sirene_directory,
    v005_captcha_session_and_fetches,
    v006_sessions_and_manager_notices,
    v007_contact_email_confirmation,
    v008_drafts,
    v009_operators,
    v010_second_factors,
    v011_languages,
    v012_outbox_account,
    v013_ids_never_reused,
    v014_last_sign_in,
    v015_email_code_tries,
    v016_search_folded,
    v017_mail_about,
    v018_mail_given_up,
    v019_audit_subjects,
    v020_operators_index,
    v021_draft_page_saves,
)
from migrations.frozen import FrozenModel
from models import db

Step = Callable[[SchemaMigrator], None]

# version -> the step that brings the schema from version - 1 to version.
STEPS: dict[int, Step] = {
    1: v001_accounts.upgrade,
    2: v002_structures.upgrade,
    3: v003_audit_and_sign_in_throttle.upgrade,
    4: v004_sirene_directory.upgrade,
    5: v005_captcha_session_and_fetches.upgrade,
    6: v006_sessions_and_manager_notices.upgrade,
    7: v007_contact_email_confirmation.upgrade,
    8: v008_drafts.upgrade,
    9: v009_operators.upgrade,
    10: v010_second_factors.upgrade,
    11: v011_languages.upgrade,
    12: v012_outbox_account.upgrade,
    13: v013_ids_never_reused.upgrade,
    14: v014_last_sign_in.upgrade,
    15: v015_email_code_tries.upgrade,
    16: v016_search_folded.upgrade,
    17: v017_mail_about.upgrade,
    18: v018_mail_given_up.upgrade,
    19: v019_audit_subjects.upgrade,
    20: v020_operators_index.upgrade,
    21: v021_draft_page_saves.upgrade,
}
SCHEMA_VERSION = max(STEPS)

# Key of the PostgreSQL advisory lock that lets one migration run at a time.
MIGRATION_LOCK_KEY = 7_305_140_217
# How long a second init-db waits for the first one on SQLite (milliseconds).
SQLITE_MIGRATION_WAIT_MS = 10 * 60 * 1000


class MigrationError(RuntimeError):
    pass


class SchemaVersion(FrozenModel):
    """One row: the version of the schema the database is at."""

    version = IntegerField()

    class Meta:
        table_name = "schema_version"


def current_version() -> int:
    row = SchemaVersion.select().first()
    return row.version if row else 0


def _stamp(version: int) -> None:
    SchemaVersion.delete().execute()
    SchemaVersion.create(version=version)


def migrate(target: int | None = None) -> tuple[int, int]:
    """Bring the schema to ``target`` (SCHEMA_VERSION by default); returns
    (version before, version after). Never goes down."""
    target = SCHEMA_VERSION if target is None else target
    with _one_at_a_time():
        db.create_tables([SchemaVersion])
        before = current_version()
        version = before
        if before == 0 and db.table_exists("user"):
            version = 1  # made before schema_version existed: the first release
        migrator = SchemaMigrator.from_database(db.obj)
        for step in sorted(s for s in STEPS if version < s <= target):
            with db.atomic():
                STEPS[step](migrator)
                _stamp(step)
            version = step
        if version > before and not _on_postgresql():
            _check_foreign_keys()
        if version != current_version():
            _stamp(version)
        return before, version


@contextlib.contextmanager
def connection() -> Iterator[None]:
    """The migration's connection. On a new SQLite file, two init-db started
    at the same instant both switch it to WAL as they connect: SQLite answers
    the second « locked » at once, a lock upgrade it will not wait for. That
    connection is tried again until the first has done (as long as a second
    init-db waits for a migration)."""
    deadline = time.monotonic() + SQLITE_MIGRATION_WAIT_MS / 1000
    while True:
        try:
            db.connect()
            break
        except OperationalError as error:
            if _on_postgresql() or "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield
    finally:
        db.close()


def _on_postgresql() -> bool:
    return isinstance(db.obj, PostgresqlDatabase)


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    if _on_postgresql():
        with _postgres_lock():
            yield
    else:
        with _sqlite_lock():
            yield


@contextlib.contextmanager
def _postgres_lock() -> Iterator[None]:
    """A session advisory lock held for the whole migration (concurrent
    CREATE TABLE IF NOT EXISTS would fail there); each step commits alone."""
    db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        yield
    finally:
        # A dead connection has released the lock already.
        with contextlib.suppress(PeeweeException):
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


@contextlib.contextmanager
def _sqlite_lock() -> Iterator[None]:
    """The version check and every step in one BEGIN IMMEDIATE transaction:
    a second writer waits for the commit (busy_timeout raised meanwhile),
    then reads the new version. Foreign keys can only be switched outside a
    transaction; ``migrate`` checks them before the commit instead."""
    foreign_keys = db.pragma("foreign_keys")
    busy_timeout = db.pragma("busy_timeout")
    db.pragma("foreign_keys", 0)
    db.pragma("busy_timeout", SQLITE_MIGRATION_WAIT_MS)
    try:
        with db.atomic(lock_type="IMMEDIATE"):
            yield
    finally:
        db.pragma("busy_timeout", busy_timeout)
        db.pragma("foreign_keys", foreign_keys)


def _check_foreign_keys() -> None:
    """On SQLite, before the commit: what the steps did with the foreign keys off."""
    broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise MigrationError(f"Foreign keys broken by the migration: {broken[:5]}")
