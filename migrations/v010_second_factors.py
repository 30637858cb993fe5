"""10: second factors (authenticator app, codes by e-mail, passkeys),
recovery codes and the codes mailed at sign-in."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField
from playhouse.migrate import SchemaMigrator

from migrations.frozen import FrozenModel, create_tables


class User(FrozenModel):
    """Only what the foreign keys point at."""

    class Meta:
        table_name = "user"


class SecondFactor(FrozenModel):
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    kind = CharField()
    name = CharField(max_length=100)
    secret = TextField(null=True)
    last_step = IntegerField(null=True)
    credential_id = CharField(null=True, unique=True)
    public_key = TextField(null=True)
    sign_count = IntegerField(null=True)
    created_at = DateTimeField()
    confirmed_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)

    class Meta:
        table_name = "second_factor"
        indexes = ((("user", "kind"), False),)


class RecoveryCode(FrozenModel):
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    code_hash = CharField()
    created_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "recovery_code"
        indexes = ((("user", "code_hash"), False),)


class EmailCode(FrozenModel):
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    code_hash = CharField()
    created_at = DateTimeField()
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "email_code"
        indexes = ((("user", "used_at"), False),)


def upgrade(migrator: SchemaMigrator) -> None:
    create_tables(SecondFactor, RecoveryCode, EmailCode)
