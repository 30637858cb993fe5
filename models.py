"""Peewee models and the state changes they own.

Models are declared once on a database proxy; ``database.init_app`` binds it to
the configured database. Times are stored as naive UTC datetimes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask_login import UserMixin
from peewee import (
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

db = DatabaseProxy()


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One row: the version of the schema the database is at."""

    version = IntegerField()


class User(UserMixin, BaseModel):
    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"

    email = CharField(unique=True)  # login e-mail, normalised, lower case
    first_name = CharField(max_length=100)
    last_name = CharField(max_length=100)
    phone = CharField(null=True)  # E.164
    contact_email = CharField()
    survey_consent = BooleanField(default=False)
    terms_accepted_at = DateTimeField()
    password_hash = CharField(null=True)
    status = CharField(default=PENDING, index=True)
    created_at = DateTimeField(default=utcnow)
    activated_at = DateTimeField(null=True)
    # Part of the session's user id: bumping it signs the user out everywhere.
    session_epoch = IntegerField(default=0)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.status == self.ACTIVE

    def get_id(self) -> str:  # Flask-Login
        return f"{self.id}:{self.session_epoch}"

    @classmethod
    def from_session_id(cls, session_id: str) -> User | None:
        user_id, _, epoch = session_id.partition(":")
        if not (user_id.isdigit() and epoch.isdigit()):
            return None
        return cls.get_or_none(
            (cls.id == int(user_id)) & (cls.session_epoch == int(epoch)) & (cls.status == cls.ACTIVE)
        )

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return cls.get_or_none(cls.email == email.lower())

    def activate(self, password_hash: str) -> None:
        """Set the first password and make the account usable."""
        now = utcnow()
        self.password_hash = password_hash
        self.status = self.ACTIVE
        self.activated_at = self.activated_at or now
        self.session_epoch += 1
        self.save()

    def set_password_hash(self, password_hash: str) -> None:
        """Store a rehashed password (same password, stronger parameters)."""
        User.update(password_hash=password_hash).where(User.id == self.id).execute()
        self.password_hash = password_hash


class Token(BaseModel):
    """A single-use link token; only its SHA-256 is stored."""

    ACTIVATION = "activation"
    RESET = "reset"

    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    purpose = CharField()
    token_hash = CharField(unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "purpose"), False),)

    @classmethod
    def issue(cls, user: User, purpose: str, ttl: timedelta) -> str:
        """Create a token, revoking the user's older ones of that purpose."""
        now = utcnow()
        cls.update(used_at=now).where(
            (cls.user == user) & (cls.purpose == purpose) & cls.used_at.is_null()
        ).execute()
        raw = secrets.token_urlsafe(32)
        cls.create(user=user, purpose=purpose, token_hash=sha256(raw), created_at=now, expires_at=now + ttl)
        return raw

    @classmethod
    def _usable(cls, raw: str, purpose: str):
        return (
            (cls.token_hash == sha256(raw))
            & (cls.purpose == purpose)
            & cls.used_at.is_null()
            & (cls.expires_at > utcnow())
        )

    @classmethod
    def peek(cls, raw: str, purpose: str) -> Token | None:
        """The token if it could be consumed now; changes nothing."""
        return cls.get_or_none(cls._usable(raw, purpose))

    @classmethod
    def consume(cls, raw: str, purpose: str) -> Token | None:
        """Mark the token used; of concurrent callers exactly one gets it."""
        won = cls.update(used_at=utcnow()).where(cls._usable(raw, purpose)).execute()
        if won != 1:
            return None
        return cls.get(cls.token_hash == sha256(raw))

    @classmethod
    def last_issued_at(cls, user: User, purpose: str) -> datetime | None:
        token = (
            cls.select(cls.created_at)
            .where((cls.user == user) & (cls.purpose == purpose))
            .order_by(cls.created_at.desc())
            .first()
        )
        return token.created_at if token else None


class CaptchaChallenge(BaseModel):
    """A captcha to solve once. Its answer is derived from the id with the
    server's secret (see ``challenges``), so the answer is stored nowhere."""

    id = CharField(primary_key=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    used_at = DateTimeField(null=True)

    @classmethod
    def open(cls, ttl: timedelta) -> CaptchaChallenge:
        now = utcnow()
        return cls.create(id=secrets.token_urlsafe(18), created_at=now, expires_at=now + ttl)

    @classmethod
    def live(cls, challenge_id: str) -> CaptchaChallenge | None:
        return cls.get_or_none((cls.id == challenge_id) & cls.used_at.is_null() & (cls.expires_at > utcnow()))

    @classmethod
    def use(cls, challenge_id: str) -> bool:
        """Spend the challenge's one attempt; False if it was not live."""
        won = (
            cls.update(used_at=utcnow())
            .where((cls.id == challenge_id) & cls.used_at.is_null() & (cls.expires_at > utcnow()))
            .execute()
        )
        return won == 1


class OutboxMail(BaseModel):
    """A mail written in the transaction of the change that causes it, then
    delivered (and retried) by ``mailer``."""

    recipient = CharField()
    subject = CharField()
    body_text = TextField()
    body_html = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow, index=True)
    claimed_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True, index=True)
    last_error = TextField(null=True)

    MAX_BACKOFF = timedelta(hours=1)

    @classmethod
    def due(cls, limit: int = 50) -> list[OutboxMail]:
        now = utcnow()
        return list(
            cls.select()
            .where(
                cls.sent_at.is_null()
                & (cls.next_attempt_at <= now)
                & (cls.claimed_until.is_null() | (cls.claimed_until < now))
            )
            .order_by(cls.id)
            .limit(limit)
        )

    def claim(self, lease: timedelta) -> bool:
        """Take the mail for delivery; of concurrent workers one wins."""
        now = utcnow()
        won = (
            OutboxMail.update(claimed_until=now + lease)
            .where(
                (OutboxMail.id == self.id)
                & OutboxMail.sent_at.is_null()
                & (OutboxMail.claimed_until.is_null() | (OutboxMail.claimed_until < now))
            )
            .execute()
        )
        return won == 1

    def mark_sent(self) -> None:
        self.sent_at = utcnow()
        self.attempts += 1
        self.claimed_until = None
        self.last_error = None
        self.save()

    def mark_failed(self, error: str) -> None:
        self.attempts += 1
        delay = min(timedelta(seconds=30 * 2 ** (self.attempts - 1)), self.MAX_BACKOFF)
        self.next_attempt_at = utcnow() + delay
        self.claimed_until = None
        self.last_error = error[:1000]
        self.save()


MODELS: list[type[BaseModel]] = [SchemaVersion, User, Token, CaptchaChallenge, OutboxMail]
