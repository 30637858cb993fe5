"""8: drafts of half-filled steps (step 2 by browser session, step 6 and
« Mon compte » by account), kept on the server until they expire."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, TextField
from playhouse.migrate import SchemaMigrator

from migrations.frozen import FrozenModel, create_tables


class User(FrozenModel):
    """Only the key the draft refers to (the table exists since step 1)."""

    class Meta:
        table_name = "user"


class Draft(FrozenModel):
    key = CharField(primary_key=True)
    user = ForeignKeyField(User, null=True, on_delete="CASCADE")
    data = TextField(default="{}")
    saved_at = DateTimeField()
    expires_at = DateTimeField(index=True)

    class Meta:
        table_name = "draft"


def upgrade(migrator: SchemaMigrator) -> None:
    create_tables(Draft)
