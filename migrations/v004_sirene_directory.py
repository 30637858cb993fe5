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
    diffusion = TextField(null=True)
    state = TextField(null=True)
    head_office = TextField(null=True)
    sign = TextField(null=True)
    usual_name = TextField(null=True)
    street_number = TextField(null=True)
    repetition = TextField(null=True)
    street_type = TextField(null=True)
    street_name = TextField(null=True)
    complement = TextField(null=True)
    postal_code = TextField(null=True)
    city = TextField(null=True)
    city_code = TextField(null=True)
    special_distribution = TextField(null=True)
    cedex_code = TextField(null=True)
    cedex_label = TextField(null=True)
    foreign_city = TextField(null=True)
    country_code = TextField(null=True)
    country_name = TextField(null=True)

    class Meta:
        table_name = "sirene_establishment"


class SireneLegalUnit(FrozenModel):
    siren = BigIntegerField(primary_key=True)
    diffusion = TextField(null=True)
    state = TextField(null=True)
    denomination = TextField(null=True)
    usual_first_name = TextField(null=True)
    first_name = TextField(null=True)
    usage_name = TextField(null=True)
    last_name = TextField(null=True)

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
