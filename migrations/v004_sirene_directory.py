"""4: INSEE's SIRENE directory (establishments, legal units) and its imports.

The two directory tables are replaced whole by each import (``sirene.load``
builds the new table beside the live one and renames it into place); this
step creates them empty, so that a fresh database answers « nothing loaded »."""

from __future__ import annotations

from peewee import BigIntegerField, CharField, DateTimeField, TextField
from playhouse.migrate import SchemaMigrator

from migrations.frozen import FrozenModel, create_tables


class SireneEstablishment(FrozenModel):
    siret = BigIntegerField(primary_key=True)
    record = TextField(null=True)

    class Meta:
        table_name = "sirene_establishment"


class SireneLegalUnit(FrozenModel):
    siren = BigIntegerField(primary_key=True)
    record = TextField(null=True)

    class Meta:
        table_name = "sirene_legal_unit"


class SireneImport(FrozenModel):
    kind = CharField(index=True)
    files = TextField()
    rows = BigIntegerField()
    started_at = DateTimeField()
    finished_at = DateTimeField()

    class Meta:
        table_name = "sirene_import"


def upgrade(_migrator: SchemaMigrator) -> None:
    create_tables(SireneEstablishment, SireneLegalUnit, SireneImport)
