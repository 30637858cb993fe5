"""11: the language an account reads the portal and its mail in."""

from __future__ import annotations

from peewee import SQL, CharField
from playhouse.migrate import SchemaMigrator, migrate


def upgrade(migrator: SchemaMigrator) -> None:
    # NOT NULL with a DEFAULT in one ALTER (no table rebuild): existing accounts read French.
    language = CharField(max_length=5, default="fr", constraints=[SQL("DEFAULT 'fr'")])
    migrate(migrator.add_column("user", "language", language, allow_not_null=True))
