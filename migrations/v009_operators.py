"""9: the operator role, a structure's state (moderation, disabled) and the
history of the survey consent."""

from __future__ import annotations

from peewee import SQL, BooleanField, CharField, DateTimeField, ForeignKeyField
from playhouse.migrate import SchemaMigrator, migrate

from migrations.frozen import FrozenModel, create_tables


class User(FrozenModel):
    """Only what the foreign keys point at."""

    class Meta:
        table_name = "user"


class ConsentChange(FrozenModel):
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    consent = BooleanField()
    at = DateTimeField()

    class Meta:
        table_name = "consent_change"
        indexes = ((("user", "at"), False),)


def upgrade(migrator: SchemaMigrator) -> None:
    create_tables(ConsentChange)
    # NOT NULL with a DEFAULT in one ALTER each (no table rebuild).
    operator = BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")])
    status = CharField(default="active", constraints=[SQL("DEFAULT 'active'")])
    migrate(
        migrator.add_column("user", "is_operator", operator, allow_not_null=True),
        migrator.add_column("structure", "status", status, allow_not_null=True),
        migrator.add_index("structure", ("status",), False),
    )
