"""Schema creation and upgrades (``flask --app app init-db``).

A new database gets every table at once and is stamped with SCHEMA_VERSION. An
existing one runs the steps above its recorded version, in order, each in a
transaction, so an upgrade keeps the data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from peewee import SQL, DateTimeField, IntegerField, PeeweeException, PostgresqlDatabase
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as migrate_schema

from models import MODELS, AuditEvent, Membership, SchemaVersion, Structure, User, db

Step = Callable[[SchemaMigrator], None]

# version -> step that brings the schema from version - 1 to version.
STEPS: dict[int, Step] = {}


def _structures(_migrator: SchemaMigrator) -> None:
    """2: structures and the memberships that attach accounts to them."""
    db.create_tables([Structure, Membership])


STEPS[2] = _structures


def _audit_and_sign_in_throttle(migrator: SchemaMigrator) -> None:
    """3: the audit table and the sign-in throttle's columns."""
    db.create_tables([AuditEvent])
    table = User._meta.table_name
    # NOT NULL with a DEFAULT in one ALTER: no table rebuild (which, on SQLite,
    # would drop the user table under the foreign keys that point to it).
    failures = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    migrate_schema(
        migrator.add_column(table, "failed_sign_ins", failures, allow_not_null=True),
        migrator.add_column(table, "last_failed_sign_in_at", DateTimeField(null=True)),
    )


STEPS[3] = _audit_and_sign_in_throttle
SCHEMA_VERSION = max(STEPS, default=1)


def current_version() -> int:
    row = SchemaVersion.select().first()
    return row.version if row else 0


def _stamp(version: int) -> None:
    SchemaVersion.delete().execute()
    SchemaVersion.create(version=version)


# Key of the PostgreSQL advisory lock that lets one migration run at a time.
MIGRATION_LOCK_KEY = 7_305_140_217


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    """Several workers may run init-db at once: on PostgreSQL they queue on a
    session advisory lock held for the whole migration (concurrent CREATE
    TABLE IF NOT EXISTS would fail there). SQLite is left as it is."""
    if not isinstance(db.obj, PostgresqlDatabase):
        yield
        return
    db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        yield
    finally:
        # A dead connection has released the lock already.
        with contextlib.suppress(PeeweeException):
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


def migrate() -> tuple[int, int]:
    """Bring the schema to SCHEMA_VERSION; returns (before, after)."""
    with _one_at_a_time():
        return _migrate()


def _migrate() -> tuple[int, int]:
    with db.atomic():
        db.create_tables([SchemaVersion])
        before = current_version()
        if before == 0 and not User.table_exists():
            db.create_tables(MODELS)
            _stamp(SCHEMA_VERSION)
            return before, SCHEMA_VERSION
    migrator = SchemaMigrator.from_database(db.obj)
    version = before or 1
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with db.atomic():
            STEPS[target](migrator)
            _stamp(target)
        version = target
    if before == 0:
        with db.atomic():
            _stamp(version)
    return before, version
