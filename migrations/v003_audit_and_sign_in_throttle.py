"""3: the audit table and the sign-in throttle's columns on ``user``."""

from __future__ import annotations

from peewee import SQL, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField
from playhouse.migrate import SchemaMigrator, migrate

from migrations.frozen import FrozenModel, create_tables


class User(FrozenModel):
    """Only what the foreign keys point at."""

    class Meta:
        table_name = "user"


class AuditEvent(FrozenModel):
    at = DateTimeField(index=True)
    user = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    account = CharField(null=True, index=True)
    client_address = CharField(null=True)
    event = CharField(index=True)
    outcome = CharField()
    details = TextField(null=True)

    class Meta:
        table_name = "audit_event"


def upgrade(migrator: SchemaMigrator) -> None:
    create_tables(AuditEvent)
    # NOT NULL with a DEFAULT in one ALTER: no table rebuild (which, on SQLite,
    # would drop the user table under the foreign keys that point to it).
    failures = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    migrate(
        migrator.add_column("user", "failed_sign_ins", failures, allow_not_null=True),
        migrator.add_column("user", "last_failed_sign_in_at", DateTimeField(null=True)),
    )
