"""12: the account each mail of the outbox is written for, so that deleting
the account deletes its mail, whatever address it went to (a contact
address since replaced, say)."""

from __future__ import annotations

from peewee import IntegerField
from playhouse.migrate import SchemaMigrator, migrate


def upgrade(migrator: SchemaMigrator) -> None:
    # The account's id, not a foreign key: mail outlives nothing by it, the
    # account's deletion removes its rows itself (rights.erase). Mail written
    # before this step has none; it goes by its address, as it did.
    migrate(
        migrator.add_column("outbox_mail", "account_id", IntegerField(null=True)),
        migrator.add_index("outbox_mail", ("account_id",), False),
    )
