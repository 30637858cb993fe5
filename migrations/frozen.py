"""The base of the frozen table descriptions the steps create from.

A step describes the tables it creates as they were at its version, with
peewee models of its own (never the application's models, which keep moving):
a later step that adds a column to ``user`` then finds ``user`` as the earlier
steps left it, whichever version the database started from. Frozen models are
bound to the application's database proxy and name their table explicitly.
"""

from __future__ import annotations

from peewee import Model

from models import db


class FrozenModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def create_tables(*frozen: type[FrozenModel]) -> None:
    """Create these tables and their indexes; an existing one is an error
    (the version table said it was not there)."""
    db.create_tables(frozen, safe=False)
