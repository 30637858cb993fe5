"""6: signed-in sessions listed server-side (sign-out ends that session
only), and when a gestionnaire principal was last mailed about a requester."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField
from playhouse.migrate import SchemaMigrator, migrate

from migrations.frozen import FrozenModel, create_tables


class User(FrozenModel):
    """Only what the foreign keys point at."""

    class Meta:
        table_name = "user"


class UserSession(FrozenModel):
    key_hash = CharField(unique=True)
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    created_at = DateTimeField(index=True)

    class Meta:
        table_name = "user_session"


def upgrade(migrator: SchemaMigrator) -> None:
    create_tables(UserSession)
    migrate(migrator.add_column("membership", "manager_notified_at", DateTimeField(null=True)))
