"""21: a draft remembers which page's save it holds, and its number among
that page's saves (``Draft.keep``): a save that left the page before another
and reached the server after it no longer replaces it."""

from __future__ import annotations

from peewee import CharField, IntegerField
from playhouse.migrate import SchemaMigrator, migrate


def upgrade(migrator: SchemaMigrator) -> None:
    migrate(
        migrator.add_column("draft", "page", CharField(max_length=32, null=True)),
        migrator.add_column("draft", "page_save", IntegerField(null=True)),
    )
