"""15: how many tries each mailed code has taken, so that a code dies after
``EmailCode.MAX_TRIES`` (the rate limits alone let a stranger who knows the
password guess on across accounts, addresses and browsers)."""

from __future__ import annotations

from peewee import SQL, IntegerField
from playhouse.migrate import SchemaMigrator, migrate


def upgrade(migrator: SchemaMigrator) -> None:
    # NOT NULL with a DEFAULT in one ALTER: no table rebuild (see v003).
    tries = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    migrate(migrator.add_column("email_code", "tries", tries, allow_not_null=True))
