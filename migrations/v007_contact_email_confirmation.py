"""7: when the contact e-mail was confirmed (a link mailed to it)."""

from __future__ import annotations

from peewee import DateTimeField
from playhouse.migrate import SchemaMigrator, migrate


def upgrade(migrator: SchemaMigrator) -> None:
    # Accounts made before this step have an unconfirmed contact e-mail: their
    # mail goes to the login e-mail until « Mon compte » confirms it.
    migrate(migrator.add_column("user", "contact_email_confirmed_at", DateTimeField(null=True)))
