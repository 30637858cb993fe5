"""11: the language an account reads the portal and its mail in, and the
language each mail of the outbox is written in."""

from __future__ import annotations

from peewee import SQL, CharField
from playhouse.migrate import SchemaMigrator, migrate


def upgrade(migrator: SchemaMigrator) -> None:
    # NOT NULL with a DEFAULT in one ALTER (no table rebuild): existing accounts read French.
    language = CharField(max_length=5, default="fr", constraints=[SQL("DEFAULT 'fr'")])
    written_in = CharField(max_length=5, default="fr", constraints=[SQL("DEFAULT 'fr'")])
    migrate(
        migrator.add_column("user", "language", language, allow_not_null=True),
        migrator.add_column("outbox_mail", "language", written_in, allow_not_null=True),
    )
