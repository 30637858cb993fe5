"""16: the names the console searches, stored folded (``folding.fold``: no
accents, lower case), so that a search is a plain LIKE on a column: folding
each row in the query was, on SQLite, a call into Python for each row (a
search among 10,000 accounts took ten times as long: README). An account's
« Prénom Nom » and « Nom Prénom », a line each; a structure's raison
sociale, and its libellé and city, a line each. The models keep them from
now on (``models.BaseModel.FOLDED``); this step fills them for the rows
already there, a batch of rows at a time."""

from __future__ import annotations

from peewee import SQL, Case, CharField, TextField
from playhouse.migrate import SchemaMigrator, migrate

from folding import fold
from migrations.frozen import FrozenModel

# Rows read and written at a time: one UPDATE each, whose values stay within
# SQLite's oldest bound on a statement's parameters (999).
BATCH = 100


class User(FrozenModel):
    first_name = CharField(max_length=100)
    last_name = CharField(max_length=100)
    folded_name = TextField()

    class Meta:
        table_name = "user"


class Structure(FrozenModel):
    company_name = CharField(max_length=100)
    label = CharField(max_length=100, null=True)
    city = CharField(max_length=38)
    folded_name = TextField()
    folded_place = TextField()

    class Meta:
        table_name = "structure"


def _folded_column() -> TextField:
    # NOT NULL with a DEFAULT in one ALTER: no table rebuild (see v003).
    return TextField(default="", constraints=[SQL("DEFAULT ''")])


def upgrade(migrator: SchemaMigrator) -> None:
    migrate(
        migrator.add_column("user", "folded_name", _folded_column(), allow_not_null=True),
        migrator.add_column("structure", "folded_name", _folded_column(), allow_not_null=True),
        migrator.add_column("structure", "folded_place", _folded_column(), allow_not_null=True),
    )
    _fill(User, (User.first_name, User.last_name), {User.folded_name: _both_orders})
    _fill(
        Structure,
        (Structure.company_name, Structure.label, Structure.city),
        {
            Structure.folded_name: lambda row: fold(row.company_name),
            Structure.folded_place: lambda row: fold(f"{row.label or ''}\n{row.city}"),
        },
    )


def _both_orders(user: User) -> str:
    return fold(f"{user.first_name} {user.last_name}\n{user.last_name} {user.first_name}")


def _fill(model, sources: tuple, columns: dict) -> None:
    """Each row's folded columns, BATCH rows at a time in the order of their ids."""
    last = 0
    while True:
        rows = list(model.select(model.id, *sources).where(model.id > last).order_by(model.id).limit(BATCH))
        if not rows:
            return
        ids = [row.id for row in rows]
        values = {
            column: Case(model.id, [(row.id, of(row)) for row in rows]) for column, of in columns.items()
        }
        model.update(values).where(model.id.in_(ids)).execute()
        last = ids[-1]
