"""1: accounts, their link tokens, captcha challenges and the mail outbox
(the schema of the first release)."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField
from playhouse.migrate import SchemaMigrator

from migrations.frozen import FrozenModel, create_tables


class User(FrozenModel):
    email = CharField(unique=True)
    first_name = CharField(max_length=100)
    last_name = CharField(max_length=100)
    phone = CharField(null=True)
    contact_email = CharField()
    survey_consent = BooleanField(default=False)
    terms_accepted_at = DateTimeField()
    password_hash = CharField(null=True)
    status = CharField(default="pending", index=True)
    created_at = DateTimeField()
    activated_at = DateTimeField(null=True)
    session_epoch = IntegerField(default=0)

    class Meta:
        table_name = "user"


class Token(FrozenModel):
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    purpose = CharField()
    token_hash = CharField(unique=True)
    created_at = DateTimeField()
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "token"
        indexes = ((("user", "purpose"), False),)


class CaptchaChallenge(FrozenModel):
    id = CharField(primary_key=True)
    created_at = DateTimeField()
    expires_at = DateTimeField(index=True)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "captcha_challenge"


class OutboxMail(FrozenModel):
    recipient = CharField()
    subject = CharField()
    body_text = TextField()
    body_html = TextField(null=True)
    created_at = DateTimeField()
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(index=True)
    claimed_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True, index=True)
    last_error = TextField(null=True)

    class Meta:
        table_name = "outbox_mail"


def upgrade(_migrator: SchemaMigrator) -> None:
    create_tables(User, Token, CaptchaChallenge, OutboxMail)
