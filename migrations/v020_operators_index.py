"""20: the operators found by an index of their own, partial (the few
accounts with ``is_operator``): each console action reads them again in its
transaction (``User.acts_as_operator``: the last open operator's account is
never closed), as do a request to a structure without a gestionnaire
principal (the operators are told) and the console's list. Until now each
read the whole ``user`` table."""

from __future__ import annotations

from peewee import BooleanField
from playhouse.migrate import SchemaMigrator

from migrations.frozen import FrozenModel


class User(FrozenModel):
    is_operator = BooleanField()

    class Meta:
        table_name = "user"


User.add_index(User.index(User.id, where=User.is_operator, name="user_operators"))


def upgrade(_migrator: SchemaMigrator) -> None:
    User._schema.create_indexes(safe=False)
