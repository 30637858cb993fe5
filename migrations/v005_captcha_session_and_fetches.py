"""5: captcha challenges bound to the session that opened them, with their
image and audio fetches counted. Challenges opened before have no owner and
simply stop working (they last ten minutes)."""

from __future__ import annotations

from peewee import SQL, CharField, IntegerField
from playhouse.migrate import SchemaMigrator, migrate


def upgrade(migrator: SchemaMigrator) -> None:
    # NOT NULL with a DEFAULT written in SQL: one ALTER each, no table rebuild.
    def counter() -> IntegerField:
        return IntegerField(default=0, constraints=[SQL("DEFAULT 0")])

    migrate(
        migrator.add_column(
            "captcha_challenge",
            "owner",
            CharField(default="", constraints=[SQL("DEFAULT ''")]),
            allow_not_null=True,
        ),
        migrator.add_column("captcha_challenge", "image_fetches", counter(), allow_not_null=True),
        migrator.add_column("captcha_challenge", "audio_fetches", counter(), allow_not_null=True),
    )
