"""2: structures and the memberships that attach accounts to them."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField
from playhouse.migrate import SchemaMigrator

from migrations.frozen import FrozenModel, create_tables


class User(FrozenModel):
    """Only what the foreign keys point at."""

    class Meta:
        table_name = "user"


class Structure(FrozenModel):
    identifier_type = CharField()
    identifier = CharField()
    company_name = CharField(max_length=100)
    label = CharField(max_length=100, null=True)
    email = CharField(null=True)
    phone = CharField(null=True)
    address = CharField(max_length=38)
    address_2 = CharField(max_length=38, null=True)
    address_3 = CharField(max_length=38, null=True)
    city = CharField(max_length=38)
    postal_code = CharField(max_length=10)
    country = CharField(max_length=2)
    non_diffusible = BooleanField(default=False)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = "structure"
        indexes = ((("identifier_type", "identifier"), True),)


class Membership(FrozenModel):
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    structure = ForeignKeyField(Structure, backref="+", on_delete="CASCADE")
    role = CharField(default="utilisateur")
    status = CharField(default="pending", index=True)
    requested_at = DateTimeField()
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "membership"
        indexes = ((("user", "structure"), True),)


# At most one gestionnaire principal per structure.
Membership.add_index(
    Membership.index(
        Membership.structure,
        unique=True,
        where=(Membership.role == "gestionnaire_principal"),
        name="membership_one_manager",
    )
)


def upgrade(_migrator: SchemaMigrator) -> None:
    create_tables(Structure, Membership)
