"""18: when the outbox gave a mail up (``given_up_at``): a recipient the mail
server refuses for good (a 5xx « no such user »), or a mail still undelivered
``MAIL_GIVE_UP_HOURS`` after it was written, or after an operator last asked
for it to be tried again (``retried_at``). Until now such a mail was tried
again every hour for ever, and kept for ever with what it says of people.

Mail written before this step is as it was: still retried; the outbox gives
it up by the same rules at its next failed attempt."""

from __future__ import annotations

from peewee import DateTimeField
from playhouse.migrate import SchemaMigrator, migrate


def upgrade(migrator: SchemaMigrator) -> None:
    migrate(
        migrator.add_column("outbox_mail", "given_up_at", DateTimeField(null=True)),
        migrator.add_index("outbox_mail", ("given_up_at",), False),
        migrator.add_column("outbox_mail", "retried_at", DateTimeField(null=True)),
    )
