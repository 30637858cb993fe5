"""Peewee models and the state changes they own.

Models are declared once on a database proxy; ``database.init_app`` binds it to
the configured database. Times are stored as naive UTC datetimes.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask_login import UserMixin
from peewee import (
    EXCLUDED,
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    DatabaseProxy,
    DateTimeField,
    Field,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    Model,
    Node,
    NodeList,
    SqliteDatabase,
    TextField,
    Value,
    fn,
)

from folding import fold, folded
from rules.email import lookup_email
from rules.identifiers import ASSIGNED_TYPES, IDENTIFIER_TYPES, IdentifierType, new_assigned_identifier
from statements import Prepared, create, slot

db = DatabaseProxy()


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Serial(AutoField):
    """An id never given twice. Without AUTOINCREMENT, SQLite gives the id of
    a deleted newest row to the next one: a page opened before (an
    operator's « Désactiver », a manager's « Approuver ») would then act on
    somebody else. PostgreSQL's sequences never go back. Tables whose ids
    reach pages and forms use it (migrations/v013_ids_never_reused.py)."""

    def ddl(self, ctx):
        definition = super().ddl(ctx)
        if isinstance(self.model._meta.database.obj, SqliteDatabase):
            return NodeList((definition, SQL("AUTOINCREMENT")))
        return definition


class ChangedMeanwhile(Exception):
    """What an edit was checked against changed before its write (two
    requests sent at the same time): nothing stored; the edit is to be
    checked again against what is stored now (views.checked_again_once)."""


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False

    # Columns kept folded (``folding.fold``) for the console's searches, a
    # plain LIKE on them instead of a fold of each row (on SQLite a call
    # into Python): {column: its parts, fields and texts, joined}. Every
    # INSERT and UPDATE of the model computes them (``_with_folded``), so no
    # write path, not even a bulk ``update()`` past ``save()``, leaves one behind.
    FOLDED: dict[str, tuple] = {}

    @classmethod
    def insert(cls, __data=None, **insert):
        return super().insert(cls._with_folded(cls._normalize_data(__data, insert), inserting=True))

    @classmethod
    def insert_many(cls, rows, fields=None):
        if cls.FOLDED:
            names = None if fields is None else [getattr(f, "name", f) for f in fields]
            rows = [cls._folded_row(row, names) for row in rows]
            fields = None
        return super().insert_many(rows, fields)

    @classmethod
    def _folded_row(cls, row, names: list | None) -> dict:
        data = row if isinstance(row, dict) else dict(zip(names, row, strict=True))
        return cls._with_folded(cls._normalize_data(data, None), inserting=True)

    @classmethod
    def insert_from(cls, query, fields):
        if cls.FOLDED:
            raise TypeError(f"{cls.__name__}: an INSERT … SELECT would leave its folded columns empty")
        return super().insert_from(query, fields)

    @classmethod
    def update(cls, __data=None, **update):
        return super().update(cls._with_folded(cls._normalize_data(__data, update), inserting=False))

    @classmethod
    def _with_folded(cls, values: dict, inserting: bool) -> dict:
        """``values`` (field: value) with each folded column their change
        touches: computed in Python from plain values; in SQL (``folded``)
        when a part is an expression (a ``slot``, a ``Case``) or, in an
        UPDATE, a column left as it is (its value in the row)."""
        if not cls.FOLDED:
            return values
        if not isinstance(values, dict):
            raise TypeError(f"{cls.__name__}: rows are written as dicts, so that its folded columns are kept")
        given = {getattr(field, "name", None): value for field, value in values.items()}
        for name, parts in cls.FOLDED.items():
            sources = {part.name for part in parts if isinstance(part, Field)}
            if not inserting and name not in given and not sources & given.keys():
                continue
            pieces = [cls._piece(part, given, inserting) for part in parts]
            if any(isinstance(piece, Node) for piece in pieces):
                sql = [piece if isinstance(piece, Node) else Value(piece) for piece in pieces]
                value = folded(functools.reduce(lambda left, right: left.concat(right), sql))
            else:
                value = fold("".join(pieces))
            values = {key: v for key, v in values.items() if getattr(key, "name", None) != name}
            values[cls._meta.fields[name]] = value
        return values

    @staticmethod
    def _piece(part, given: dict, inserting: bool):
        """A part's text: a literal, the value given, or the column (as stored)."""
        if not isinstance(part, Field):
            return part
        if part.name in given:
            value = given[part.name]
        elif inserting:
            value = part.default() if callable(part.default) else part.default
        else:
            return fn.COALESCE(part, "")
        if isinstance(value, Node):
            return fn.COALESCE(value, "")
        return "" if value is None else str(part.db_value(value))

    def _as_read(self, names: tuple[str, ...]):
        """This row, while the named columns still hold what this object
        read (the condition of a compare-and-set UPDATE)."""
        model = type(self)
        where = model._meta.primary_key == self._pk
        for name in names:
            column, value = getattr(model, name), getattr(self, name)
            where &= column.is_null() if value is None else column == value
        return where


class SchemaVersion(BaseModel):
    """One row: the version of the schema the database is at."""

    version = IntegerField()


class User(UserMixin, BaseModel):
    id = Serial()
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
    # Sign-in throttle: failures in a row and the time of the last one.
    failed_sign_ins = IntegerField(default=0)
    last_failed_sign_in_at = DateTimeField(null=True)
    # When its owner followed the link mailed to the contact e-mail; until
    # then (and always when it is the login e-mail) mail goes to the login e-mail.
    contact_email_confirmed_at = DateTimeField(null=True)
    # When a session was last started for the account (every way of signing
    # in, the second factor passed): what « Dernière connexion » shows.
    last_signed_in_at = DateTimeField(null=True)

    # What a sign-up (step 2) and the activation page set.
    SIGN_UP_DETAILS = ("first_name", "last_name", "phone", "contact_email", "survey_consent")
    # What « Mon compte » edits (the login e-mail never changes).
    PROFILE = ("first_name", "last_name", "phone", "contact_email")
    # Reaches « Administration »; granted from the command line only.
    is_operator = BooleanField(default=False)
    # The language the portal and its mail speak to this account (i18n.LANGUAGES).
    language = CharField(max_length=5, default="fr")
    # « Prénom Nom » and « Nom Prénom », a line each, folded: what the
    # console's search reads (operations.search_accounts), kept by every write.
    folded_name = TextField(default="")
    FOLDED = {"folded_name": (first_name, " ", last_name, "\n", last_name, " ", first_name)}

    def choose_language(self, language: str) -> None:
        if self.language != language:
            self.language = language
            self.save(only=[User.language])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def contact_email_confirmed(self) -> bool:
        return self.contact_email == self.email or self.contact_email_confirmed_at is not None

    @property
    def notification_email(self) -> str:
        """Where notifications go: the contact e-mail once confirmed, else
        the login e-mail."""
        return self.contact_email if self.contact_email_confirmed else self.email

    def replace_sign_up_details(self, details: dict) -> bool:
        """A new sign-up of a still pending account: its details replace the
        previous sign-up's. False (nothing changed) once the account is active."""
        changes = self._sign_up_changes(details)
        changed = User.update(**changes).where((User.id == self.id) & (User.status == User.PENDING)).execute()
        if changed:
            self._take(changes)
        return changed == 1

    def _sign_up_changes(self, details: dict) -> dict:
        """What a sign-up's details change, on a new sign-up as on activation:
        the details, the terms accepted now, the contact e-mail to confirm."""
        changes = {name: details[name] for name in self.SIGN_UP_DETAILS}
        return {**changes, "terms_accepted_at": utcnow(), "contact_email_confirmed_at": None}

    def _take(self, changes: dict) -> None:
        """``changes``, saved, on this object too; a changed survey consent
        goes to its history (which stays true)."""
        consent_before = self.survey_consent
        for name, value in changes.items():
            setattr(self, name, value)
        if "survey_consent" in changes and bool(changes["survey_consent"]) != bool(consent_before):
            ConsentChange.create(user=self, consent=changes["survey_consent"])

    def update_profile(self, changes: dict) -> bool:
        """Change its PROFILE fields, only while they are all still as this
        object read them (an edit checked against them: another change
        committed meanwhile wins). A new contact e-mail is unconfirmed, and
        links sent to the former one die. False when nothing was stored: the
        object then holds the profile as stored now, to be checked again."""
        changes = {name: changes[name] for name in self.PROFILE if name in changes}
        if changes.get("contact_email", self.contact_email) != self.contact_email:
            changes["contact_email_confirmed_at"] = None
        if User.update(**changes).where(self._as_read(self.PROFILE)).execute() != 1:
            self._read_again((*self.PROFILE, "contact_email_confirmed_at"))
            return False
        for name, value in changes.items():
            setattr(self, name, value)
        if "contact_email_confirmed_at" in changes:
            Token.revoke(self, Token.CONTACT)
        return True

    def _read_again(self, names: tuple[str, ...]) -> None:
        """These fields as stored now (changed by another request since this
        object was read)."""
        stored = User.select(*(getattr(User, name) for name in names)).where(User.id == self.id).get()
        for name in names:
            setattr(self, name, getattr(stored, name))

    def confirm_contact_email(self) -> None:
        self.contact_email_confirmed_at = utcnow()
        User.update(contact_email_confirmed_at=self.contact_email_confirmed_at).where(
            User.id == self.id
        ).execute()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.status == self.ACTIVE

    def get_id(self) -> str:  # Flask-Login
        return f"{self.id}:{self.session_epoch}"

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return cls.get_or_none(cls.email == lookup_email(email))

    def activate(self, password_hash: str, details: dict) -> bool:
        """The details checked on the activation page replace the sign-up's,
        the first password is set and the account becomes usable: one UPDATE,
        made only while the account is pending (False once it is not)."""
        changes = self._sign_up_changes(details)
        changes.update(
            password_hash=password_hash,
            status=self.ACTIVE,
            activated_at=self.activated_at or changes["terms_accepted_at"],
        )
        if not _ACTIVATE.execute(id=self.id, **changes):
            return False
        self._take(changes)
        self.session_epoch += 1
        return True

    def lock(self) -> None:
        """Hold the account's row until the transaction ends, on PostgreSQL
        (SQLite's write lock queues such transactions already): of two
        requests checking what was last done to it (a double submit), the
        second reads what the first did."""
        if db.obj.for_update:
            list(User.select(User.id).where(User.id == self.id).for_update())

    def record_sign_in(self) -> None:
        """A session starts for the account: its last sign-in is now."""
        self.last_signed_in_at = utcnow()
        _RECORD_SIGN_IN.execute(id=self.id, now=self.last_signed_in_at)

    def set_password_hash(self, password_hash: str) -> None:
        """Store a rehashed password (same password, stronger parameters)."""
        User.update(password_hash=password_hash).where(User.id == self.id).execute()
        self.password_hash = password_hash

    def change_password(self, password_hash: str) -> None:
        """A new password: every open session ends (the epoch moves on) and
        the sign-in throttle starts afresh."""
        User.update(
            password_hash=password_hash,
            session_epoch=User.session_epoch + 1,
            failed_sign_ins=0,
            last_failed_sign_in_at=None,
        ).where(User.id == self.id).execute()
        # Reset links sent before the change die with the old password.
        Token.revoke(self, Token.RESET)
        UserSession.close_all(self)
        fresh = User.get_by_id(self.id)
        self.password_hash, self.session_epoch = fresh.password_hash, fresh.session_epoch
        self.failed_sign_ins, self.last_failed_sign_in_at = 0, None

    def sign_out_everywhere(self) -> None:
        """« Se déconnecter partout »: every session ends, and with the epoch
        every device cookie issued for it (devices.py)."""
        User.update(session_epoch=User.session_epoch + 1).where(User.id == self.id).execute()
        UserSession.close_all(self)
        self.session_epoch = User.get_by_id(self.id).session_epoch

    def disable(self) -> bool:
        """An operator closes the account: no sign-in, no session. False if
        it was disabled already."""
        changed = (
            User.update(status=User.DISABLED, session_epoch=User.session_epoch + 1)
            .where((User.id == self.id) & (User.status != User.DISABLED))
            .execute()
        )
        if changed:
            UserSession.close_all(self)
            fresh = User.get_by_id(self.id)
            self.status, self.session_epoch = fresh.status, fresh.session_epoch
        return changed == 1

    def enable(self) -> bool:
        """Reopen a disabled account: active again if it had been activated,
        pending otherwise. False if it was not disabled."""
        status = Case(None, [(User.activated_at.is_null(), User.PENDING)], User.ACTIVE)
        changed = (
            User.update(status=status).where((User.id == self.id) & (User.status == User.DISABLED)).execute()
        )
        if changed:
            self.status = User.get_by_id(self.id).status
        return changed == 1

    def set_operator(self, operator: bool) -> bool:
        """Grant or revoke the operator role; True if it changed."""
        changed = (
            User.update(is_operator=operator)
            .where((User.id == self.id) & (User.is_operator != operator))
            .execute()
        )
        self.is_operator = operator
        return changed == 1

    def is_last_operator(self) -> bool:
        """Whether this account is the portal's only operator with an open
        account: without it nobody could run « Administration », nor decide
        the requests to structures that have no gestionnaire principal. Read
        inside the transaction that would take the role or the account away
        (``_open_operator_ids`` locks the rows), so that two operators leaving
        at once do not both go."""
        return User._open_operator_ids() == [self.id]

    def acts_as_operator(self) -> bool:
        """Whether this account is still an operator with an open account,
        read inside the transaction of a console change that could take an
        operator away (closing or deleting an account): a request let in
        before another operator closed or deleted this one does nothing, so
        that two operators closing each other at once do not both go. Locks
        the operators' rows as ``is_last_operator`` does."""
        return self.id in User._open_operator_ids()

    def holds_operator_role(self) -> bool:
        """Whether this account is an operator with an open account now, read
        again inside the caller's transaction (a console action's): on
        PostgreSQL its row is held (FOR SHARE) until that transaction ends,
        so a revocation or a closing under way is waited for and read as it
        left the row (SQLite's write lock already queues the two)."""
        query = User.select(User.id).where(
            (User.id == self.id) & User.is_operator & (User.status == User.ACTIVE)
        )
        if db.obj.for_update:
            query = query.for_update("FOR SHARE")
        return query.first() is not None

    @staticmethod
    def _open_operator_ids() -> list[int]:
        """The operators with an open account, their rows locked in one order
        on PostgreSQL (SQLite's write lock queues such transactions already)."""
        operators = User.select(User.id, User.status).where(User.is_operator).order_by(User.id)
        if db.obj.for_update:
            operators = operators.for_update()
        return [row.id for row in operators if row.status == User.ACTIVE]

    def sign_in_blocked_until(self, after: int, base: timedelta, cap: timedelta) -> datetime | None:
        """From the ``after``-th failure in a row, no attempt is accepted for a
        delay that doubles with each failure, up to ``cap``: a slowdown, never
        a lockout."""
        if self.failed_sign_ins < after or self.last_failed_sign_in_at is None:
            return None
        doublings = min(self.failed_sign_ins - after, 32)  # 2**32 periods are past any cap
        return self.last_failed_sign_in_at + min(base * 2**doublings, cap)

    def record_failed_sign_in(self, window: timedelta) -> None:
        """Count a failure; failures older than ``window`` are forgotten."""
        now = utcnow()
        stale = User.last_failed_sign_in_at.is_null() | (User.last_failed_sign_in_at < now - window)
        User.update(
            failed_sign_ins=Case(None, [(stale, 1)], User.failed_sign_ins + 1),
            last_failed_sign_in_at=now,
        ).where(User.id == self.id).execute()
        fresh = User.get_by_id(self.id)
        self.failed_sign_ins, self.last_failed_sign_in_at = fresh.failed_sign_ins, now

    def clear_failed_sign_ins(self) -> None:
        if self.failed_sign_ins:
            User.update(failed_sign_ins=0, last_failed_sign_in_at=None).where(User.id == self.id).execute()
            self.failed_sign_ins, self.last_failed_sign_in_at = 0, None


# Each sign-up's activation (User.activate).
_ACTIVATE = Prepared(
    lambda: User.update(
        {
            User.session_epoch: User.session_epoch + 1,
            **{
                getattr(User, name): slot(name, getattr(User, name))
                for name in (
                    *User.SIGN_UP_DETAILS,
                    "terms_accepted_at",
                    "contact_email_confirmed_at",
                    "password_hash",
                    "status",
                    "activated_at",
                )
            },
        }
    ).where((User.id == slot("id")) & (User.status == User.PENDING))
)


# The few operators, found without reading every account: each console
# action reads them again (User.acts_as_operator), as does a request the
# operators decide (structures._tell_operators).
User.add_index(User.index(User.id, where=User.is_operator, name="user_operators"))


class UserSession(BaseModel):
    """A signed-in session, listed server-side: the session cookie carries
    its key, and signing out deletes the row, so a copy of the cookie made
    before is signed out too. Only the key's hash is stored."""

    key_hash = CharField(unique=True)
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "user_session"

    @classmethod
    def open(cls, user: User) -> str:
        """A new session for ``user``; returns the key for the cookie."""
        key = secrets.token_urlsafe(32)
        _SESSION_OPEN.execute(key_hash=sha256(key), user_id=user.id, now=utcnow())
        return key

    @classmethod
    def signed_in_user(cls, session_id: str, key: str | None, max_age: timedelta) -> User | None:
        """The active account of a session cookie, in one query: its epoch
        (``session_id``, "user:epoch") has not moved, and the session ``key``
        is still listed, younger than ``max_age``."""
        user_id, _, epoch = session_id.partition(":")
        if not (user_id.isdigit() and epoch.isdigit() and key and isinstance(key, str)):
            return None
        return _SIGNED_IN.first(
            user_id=int(user_id), epoch=int(epoch), key_hash=sha256(key), since=utcnow() - max_age
        )

    @classmethod
    def close(cls, key: str | None) -> None:
        if key and isinstance(key, str):
            cls.delete().where(cls.key_hash == sha256(key)).execute()

    @classmethod
    def close_all(cls, user: User) -> None:
        cls.delete().where(cls.user == user.id).execute()

    @classmethod
    def purge(cls, max_age: timedelta) -> int:
        return cls.delete().where(cls.created_at <= utcnow() - max_age).execute()


# Each sign-in opens one.
_SESSION_OPEN = Prepared(
    lambda: UserSession.insert(
        {
            UserSession.key_hash: slot("key_hash"),
            UserSession.user: slot("user_id"),
            UserSession.created_at: slot("now", UserSession.created_at),
        }
    )
)
# Each sign-in and activation.
_RECORD_SIGN_IN = Prepared(
    lambda: User.update({User.last_signed_in_at: slot("now", User.last_signed_in_at)}).where(
        User.id == slot("id")
    )
)
# Every signed-in request runs it (sessions.load_user).
_SIGNED_IN = Prepared(
    lambda: (
        User.select()
        .join(UserSession)
        .where(
            (User.id == slot("user_id"))
            & (User.session_epoch == slot("epoch"))
            & (User.status == User.ACTIVE)
            & (UserSession.key_hash == slot("key_hash"))
            & (UserSession.created_at > slot("since", UserSession.created_at))
        )
        .limit(1)
    )
)


class Token(BaseModel):
    """A single-use link token; only its SHA-256 is stored."""

    ACTIVATION = "activation"
    RESET = "reset"
    CONTACT = "contact"  # confirms the contact e-mail

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
        cls.revoke(user, purpose)
        raw = secrets.token_urlsafe(32)
        _TOKEN_ISSUE.execute(
            user_id=user.id, purpose=purpose, hash=sha256(raw), now=now, expires_at=now + ttl
        )
        return raw

    @classmethod
    def revoke(cls, user: User, purpose: str) -> None:
        """End every open token of that purpose."""
        _TOKEN_REVOKE.execute(user_id=user.id, purpose=purpose, now=utcnow())

    @classmethod
    def _usable(cls):
        """Not used, not expired, of its purpose (prepared: see the statements below)."""
        return (
            (cls.token_hash == slot("hash"))
            & (cls.purpose == slot("purpose"))
            & cls.used_at.is_null()
            & (cls.expires_at > slot("now", cls.expires_at))
        )

    @classmethod
    def owner_id(cls, raw: str, purpose: str) -> int | None:
        """The account a token of that purpose was issued to, whether or not
        it can still be used; None for an unknown token."""
        token = _TOKEN_BY_HASH.first(hash=sha256(raw))
        return token.user_id if token is not None and token.purpose == purpose else None

    @classmethod
    def peek(cls, raw: str, purpose: str) -> Token | None:
        """The token if it could be consumed now; changes nothing."""
        return _TOKEN_USABLE.first(hash=sha256(raw), purpose=purpose, now=utcnow())

    @classmethod
    def consume(cls, raw: str, purpose: str) -> Token | None:
        """Mark the token used; of concurrent callers exactly one gets it."""
        won = _TOKEN_CONSUME.execute(hash=sha256(raw), purpose=purpose, now=utcnow())
        if won != 1:
            return None
        return _TOKEN_BY_HASH.first(hash=sha256(raw))

    @classmethod
    def _with_owner(cls):
        """Tokens read with their account (``token.user``) in the same query."""
        return cls.select(cls, User).join(User)

    @classmethod
    def last_issued_at(cls, user: User, purpose: str) -> datetime | None:
        token = (
            cls.select(cls.created_at)
            .where((cls.user == user) & (cls.purpose == purpose))
            .order_by(cls.created_at.desc())
            .first()
        )
        return token.created_at if token else None


# The links of the sign-up (activation), the reset and the contact e-mail.
_TOKEN_USABLE = Prepared(lambda: Token._with_owner().where(Token._usable()).limit(1))
_TOKEN_CONSUME = Prepared(
    lambda: Token.update({Token.used_at: slot("now", Token.used_at)}).where(Token._usable())
)
_TOKEN_BY_HASH = Prepared(lambda: Token._with_owner().where(Token.token_hash == slot("hash")).limit(1))
_TOKEN_ISSUE = Prepared(
    lambda: Token.insert(
        {
            Token.user: slot("user_id"),
            Token.purpose: slot("purpose"),
            Token.token_hash: slot("hash"),
            Token.created_at: slot("now", Token.created_at),
            Token.expires_at: slot("expires_at", Token.expires_at),
        }
    )
)
_TOKEN_REVOKE = Prepared(
    lambda: Token.update({Token.used_at: slot("now", Token.used_at)}).where(
        (Token.user == slot("user_id")) & (Token.purpose == slot("purpose")) & Token.used_at.is_null()
    )
)


class CaptchaChallenge(BaseModel):
    """A captcha to solve once, in the session that opened it. Its answer is
    derived from the id with the server's secret (see ``challenges``), so the
    answer is stored nowhere."""

    id = CharField(primary_key=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    used_at = DateTimeField(null=True)
    owner = CharField(default="")  # a hash of the opening session's captcha key
    image_fetches = IntegerField(default=0)
    audio_fetches = IntegerField(default=0)

    @classmethod
    def open(cls, ttl: timedelta, owner: str = "") -> CaptchaChallenge:
        now = utcnow()
        challenge = cls(id=secrets.token_urlsafe(18), created_at=now, expires_at=now + ttl, owner=owner)
        _CAPTCHA_OPEN.execute(id=challenge.id, now=now, expires_at=challenge.expires_at, owner=owner)
        return challenge

    @classmethod
    def _live(cls, challenge_id, owner, now):
        """Live at ``now``, and opened by ``owner`` (any owner when None).
        Values or slots: the prepared statements below use it too."""
        live = (cls.id == challenge_id) & cls.used_at.is_null() & (cls.expires_at > now)
        return live if owner is None else live & (cls.owner == owner)

    @classmethod
    def _live_to(cls):
        """``_live`` with the slots of the prepared statements below."""
        return cls._live(slot("id"), slot("owner"), slot("now", cls.expires_at))

    @classmethod
    def live(cls, challenge_id: str, owner: str | None = None) -> CaptchaChallenge | None:
        return cls.get_or_none(cls._live(challenge_id, owner, utcnow()))

    @classmethod
    def use(cls, challenge_id: str, owner: str | None = None) -> bool:
        """Spend the challenge's one attempt; False if it was not live."""
        if owner is None:  # whoever opened it
            return cls.update(used_at=utcnow()).where(cls._live(challenge_id, None, utcnow())).execute() == 1
        return _CAPTCHA_USE.execute(id=challenge_id, owner=owner, now=utcnow()) == 1

    @classmethod
    def fetch(cls, challenge_id: str, owner: str, medium: str, most: int) -> bool:
        """Count one fetch of the challenge's image or audio; False once
        ``most`` were fetched (or if the challenge is not live)."""
        return _CAPTCHA_FETCH[medium].execute(id=challenge_id, owner=owner, now=utcnow(), most=most) == 1

    @classmethod
    def _counted(cls, field):
        return cls.update({field: field + 1}).where(cls._live_to() & (field < slot("most")))


# Each sign-up opens a challenge, fetches its image once and answers once.
_CAPTCHA_OPEN = Prepared(
    lambda: CaptchaChallenge.insert(
        {
            CaptchaChallenge.id: slot("id"),
            CaptchaChallenge.created_at: slot("now", CaptchaChallenge.created_at),
            CaptchaChallenge.expires_at: slot("expires_at", CaptchaChallenge.expires_at),
            CaptchaChallenge.owner: slot("owner"),
            CaptchaChallenge.image_fetches: 0,
            CaptchaChallenge.audio_fetches: 0,
        }
    )
)
_CAPTCHA_USE = Prepared(
    lambda: CaptchaChallenge.update({CaptchaChallenge.used_at: slot("now", CaptchaChallenge.used_at)}).where(
        CaptchaChallenge._live_to()
    )
)
_CAPTCHA_FETCH = {
    "image": Prepared(lambda: CaptchaChallenge._counted(CaptchaChallenge.image_fetches)),
    "audio": Prepared(lambda: CaptchaChallenge._counted(CaptchaChallenge.audio_fetches)),
}


class OutboxMail(BaseModel):
    """A mail written in the transaction of the change that causes it, then
    delivered (and retried) by ``mailer``."""

    id = Serial()

    recipient = CharField()
    subject = CharField()
    language = CharField(max_length=5, default="fr")  # what subject and bodies are written in
    # The account the mail is written for (its reader): deleting the account
    # deletes its mail, to whichever address it went. Not a foreign key.
    account_id = IntegerField(null=True, index=True)
    # The account the mail is about when that is not its reader (a requester
    # named to their structure's manager or to the operators, a successor or
    # a former manager named in a hand-over): erasing that account withdraws
    # the mail, whatever its text says (``rights.forget``). Not a foreign key.
    about_id = IntegerField(null=True, index=True)
    body_text = TextField()
    body_html = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow, index=True)
    claimed_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True, index=True)
    last_error = TextField(null=True)
    # When delivery stopped being tried (``mark_failed``): the server refused
    # it for good, or it was still undelivered past its window. Listed apart
    # in « Courriels », tried again only when an operator says so.
    given_up_at = DateTimeField(null=True, index=True)
    retried_at = DateTimeField(null=True)  # an operator's « Réessayer »: the give-up window starts again

    MAX_BACKOFF = timedelta(hours=1)

    @classmethod
    def purge(cls, days: int) -> int:
        """Delete mail sent, or given up, more than ``days`` ago: what a mail
        says of people (names, structures) is not kept past delivery for
        long. Mail still being tried stays, whatever its age."""
        before = utcnow() - timedelta(days=days)
        return cls.delete().where((cls.sent_at < before) | (cls.given_up_at < before)).execute()

    @classmethod
    def written_for_since(cls, user: User, since: datetime) -> bool:
        """Whether any mail was written for ``user`` since ``since``."""
        return cls.select().where((cls.account_id == user.id) & (cls.created_at > since)).exists()

    @classmethod
    def due(cls, limit: int = 50) -> list[OutboxMail]:
        now = utcnow()
        return list(
            cls.select()
            .where(
                cls.sent_at.is_null()
                & cls.given_up_at.is_null()
                & (cls.next_attempt_at <= now)
                & (cls.claimed_until.is_null() | (cls.claimed_until < now))
            )
            .order_by(cls.id)
            .limit(limit)
        )

    def claim(self, lease: timedelta) -> bool:
        """Take the mail for delivery; of concurrent workers one wins. Only a
        mail still due: a worker holding an older list of due mail cannot
        take one another worker has since tried, delivered or given up."""
        now = utcnow()
        until = now + lease
        won = (
            OutboxMail.update(claimed_until=until)
            .where(
                (OutboxMail.id == self.id)
                & OutboxMail.sent_at.is_null()
                & OutboxMail.given_up_at.is_null()
                & (OutboxMail.next_attempt_at <= now)
                & (OutboxMail.claimed_until.is_null() | (OutboxMail.claimed_until < now))
            )
            .execute()
        )
        if won != 1:
            return False
        # What other workers or an operator wrote since this mail was listed
        # (an attempt, a retry): its failure is judged on that.
        self.attempts, self.created_at, self.retried_at = (
            OutboxMail.select(OutboxMail.attempts, OutboxMail.created_at, OutboxMail.retried_at)
            .where(OutboxMail.id == self.id)
            .tuples()
            .get()
        )
        self.claimed_until = until
        return True

    def mark_sent(self) -> None:
        """Delivered: whoever holds it now, it is not to be sent again."""
        now = utcnow()
        OutboxMail.update(
            sent_at=now,
            attempts=OutboxMail.attempts + 1,
            claimed_until=None,
            last_error=None,
            given_up_at=None,
        ).where((OutboxMail.id == self.id) & OutboxMail.sent_at.is_null()).execute()
        self.sent_at, self.attempts, self.claimed_until, self.last_error = now, self.attempts + 1, None, None
        self.given_up_at = None

    @classmethod
    def retry_now(cls, mail_id: int | None = None) -> int:
        """Make unsent mail (one, or all), given up or not, due now, unless a
        worker holds it; its give-up window starts again from now."""
        now = utcnow()
        query = cls.update(next_attempt_at=now, given_up_at=None, retried_at=now).where(
            cls.sent_at.is_null() & (cls.claimed_until.is_null() | (cls.claimed_until < now))
        )
        if mail_id is not None:
            query = query.where(cls.id == mail_id)
        return query.execute()

    @classmethod
    def withdraw(cls, mark: str) -> int:
        """Delete the mail not delivered yet whose HTML body holds ``mark``
        (a notice's link to the request it is about, ending with the
        attribute's quote: « #approval-4" » is not in « #approval-42" »), unless
        a worker is delivering it now; returns how many. For a notice about a
        request closed before it went out: it would ask a decision on nothing."""
        now = utcnow()
        return (
            cls.delete()
            .where(
                cls.sent_at.is_null()
                & (cls.claimed_until.is_null() | (cls.claimed_until < now))
                & cls.body_html.contains(mark)
            )
            .execute()
        )

    def mark_failed(self, error: str, *, for_good: bool = False, window: timedelta | None = None) -> bool:
        """A delivery failed: tried again with backoff, or given up when the
        server refused it ``for_good`` or it has waited more than ``window``
        since it was written (or an operator last retried it). Written only
        while this worker's claim holds: another worker that took the mail
        since (a lease run out) is not overwritten. Returns whether it was
        given up."""
        now = utcnow()
        delay = min(timedelta(seconds=30 * 2**self.attempts), self.MAX_BACKOFF)
        waited = now - max(self.created_at, self.retried_at or self.created_at)
        give_up = for_good or (window is not None and waited >= window)
        changes = {
            "attempts": OutboxMail.attempts + 1,
            "next_attempt_at": now + delay,
            "claimed_until": None,
            "last_error": error[:1000],
            "given_up_at": now if give_up else None,
        }
        held = (
            (OutboxMail.id == self.id)
            & OutboxMail.sent_at.is_null()
            & OutboxMail.given_up_at.is_null()
            & (OutboxMail.claimed_until == self.claimed_until)  # IS NULL for a mail never claimed
        )
        if OutboxMail.update(**changes).where(held).execute() != 1:
            return False
        for name, value in changes.items():
            setattr(self, name, self.attempts + 1 if name == "attempts" else value)
        return give_up


class Structure(BaseModel):
    """A company (or a person) on the portal, identified by its type of
    identifier and its normalised identifier, unique together."""

    id = Serial()
    identifier_type = CharField()  # a code of rules.identifiers.IDENTIFIER_TYPES
    identifier = CharField()  # normalised: no spaces, upper case
    company_name = CharField(max_length=100)  # raison sociale
    label = CharField(max_length=100, null=True)
    email = CharField(null=True)
    phone = CharField(null=True)  # E.164
    address = CharField(max_length=38)
    address_2 = CharField(max_length=38, null=True)
    address_3 = CharField(max_length=38, null=True)
    city = CharField(max_length=38)
    postal_code = CharField(max_length=10)
    country = CharField(max_length=2)  # ISO 3166 alpha-2
    non_diffusible = BooleanField(default=False)
    created_by = ForeignKeyField(User, null=True, backref="created_structures", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def created_since(cls, creator: User, since: datetime) -> int:
        """How many structures ``creator`` created since then."""
        return _STRUCTURES_CREATED_SINCE.scalar(creator_id=creator.id, since=since)

    updated_at = DateTimeField(default=utcnow)
    # ACTIVE; PENDING while moderation awaits an operator; DISABLED by an operator.
    status = CharField(default="active", index=True)

    ACTIVE = "active"
    PENDING = "pending"
    DISABLED = "disabled"

    # The raison sociale, and the libellé and city (a line each), folded: what
    # the console's searches read (operations), kept by every write.
    folded_name = TextField(default="")
    folded_place = TextField(default="")
    FOLDED = {"folded_name": (company_name,), "folded_place": (label, "\n", city)}

    class Meta:
        indexes = ((("identifier_type", "identifier"), True),)

    # What the gestionnaire principal may change (never the identifier).
    DETAILS = (
        "company_name",
        "label",
        "email",
        "phone",
        "address",
        "address_2",
        "address_3",
        "city",
        "postal_code",
        "country",
        "non_diffusible",
    )
    ASSIGNED_ATTEMPTS = 5

    @property
    def kind(self) -> IdentifierType:
        """Its type of identifier, from the catalogue."""
        return IDENTIFIER_TYPES[self.identifier_type]

    @classmethod
    def register(
        cls,
        creator: User,
        identifier_type: str,
        identifier: str | None = None,
        status: str = "active",
        **details,
    ) -> Structure:
        """Create the structure and its creator's membership as gestionnaire
        principal. For a type the portal numbers itself, it draws the
        identifier (``identifier`` is ignored). Raises IntegrityError when the
        identifier is taken (the unique index decides, even between
        concurrent creations)."""
        kind = IDENTIFIER_TYPES[identifier_type]
        attempts = cls.ASSIGNED_ATTEMPTS if kind.internal else 1
        for attempt in range(attempts):
            if kind.internal:
                identifier = new_assigned_identifier(kind)
            try:
                with db.atomic():
                    now = utcnow()
                    structure = create(
                        cls,
                        identifier_type=identifier_type,
                        identifier=identifier,
                        created_by=creator,
                        created_at=now,
                        updated_at=now,
                        status=status,
                        **{name: details.get(name) for name in cls.DETAILS if name in details},
                    )
                    create(
                        Membership,
                        user=creator,
                        structure=structure,
                        role=Membership.MANAGER,
                        status=Membership.ACTIVE,
                        requested_at=now,
                        decided_at=now,
                        decided_by=creator,
                    )
                    return structure
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def find(cls, identifier_type: str, identifier: str) -> Structure | None:
        return _STRUCTURE_FIND.first(identifier_type=identifier_type, identifier=identifier)

    @classmethod
    def of_siren(cls, siret_type: str, siren: str) -> list[Structure]:
        """The structures identified by a SIRET of that SIREN (9 digits)."""
        if len(siren) != 9 or not siren.isdigit():
            return []
        return list(
            cls.select()
            .where((cls.identifier_type == siret_type) & cls.identifier.startswith(siren))
            .order_by(cls.identifier)
        )

    def update_details(self, only_if_open: bool = False, as_read: bool = False, **details) -> bool:
        """Change its DETAILS; with ``only_if_open``, only while the structure
        is active (checked by the UPDATE itself: an operator's concurrent
        disabling wins or loses as a whole); with ``as_read``, only while they
        are still as this object read them (an edit checked against them:
        another change committed meanwhile wins). False when nothing was stored."""
        changes = {name: details[name] for name in self.DETAILS if name in details}
        now = utcnow()
        where = self._as_read(self.DETAILS if as_read else ())
        if only_if_open:
            where &= Structure.status == Structure.ACTIVE
        if Structure.update(**changes, updated_at=now).where(where).execute() != 1:
            return False
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated_at = now
        return True

    def held_open(self) -> bool:
        """Whether it is active now, read again inside the caller's
        transaction: on PostgreSQL its row is held (FOR SHARE) until that
        transaction ends, so a disabling under way is waited for and read as
        it left the row (SQLite's IMMEDIATE write lock already queues the two)."""
        query = Structure.select(Structure.id).where(
            (Structure.id == self.id) & (Structure.status == Structure.ACTIVE)
        )
        if db.obj.for_update:
            query = query.for_update("FOR SHARE")
        return query.first() is not None

    @property
    def is_open(self) -> bool:
        """Whether it is active: it takes attachment requests and its
        gestionnaire principal may change it (neither awaiting moderation nor
        disabled; operators still correct it)."""
        return self.status == Structure.ACTIVE

    def set_status(self, status: str, *, only_from: tuple[str, ...]) -> bool:
        """Move to ``status`` if the structure is in one of ``only_from``; of
        concurrent decisions one wins."""
        changed = (
            Structure.update(status=status, updated_at=utcnow())
            .where((Structure.id == self.id) & Structure.status.in_(only_from))
            .execute()
        )
        if changed:
            self.status = status
        return changed == 1

    def designate_manager(self, membership_id: int) -> Membership | None:
        """An operator makes an active member the gestionnaire principal (the
        former one, if any, stays utilisateur). None, nothing changed, unless
        the membership is an active one of this structure."""
        with db.atomic() as transaction:
            target = Membership.get_or_none(
                (Membership.id == membership_id)
                & (Membership.structure == self)
                & (Membership.status == Membership.ACTIVE)
                & Membership.of_open_account()
            )
            if target is None:
                return None
            if target.role == Membership.MANAGER:
                return target
            Membership.update(role=Membership.USER).where(
                (Membership.structure == self) & (Membership.role == Membership.MANAGER)
            ).execute()
            promoted = (
                Membership.update(role=Membership.MANAGER)
                .where((Membership.id == target.id) & (Membership.status == Membership.ACTIVE))
                .execute()
            )
            if promoted != 1:
                transaction.rollback()
                return None
        return Membership.get_by_id(membership_id)

    def assign_identifier(self, identifier_type: str, identifier: str) -> bool:
        """Give a structure numbered by the portal its real identifier (its
        SIRET, once registered), while it is active. False if it has one
        already or is not active; IntegrityError if another structure has it."""
        changed = (
            Structure.update(identifier_type=identifier_type, identifier=identifier, updated_at=utcnow())
            .where(
                (Structure.id == self.id)
                & Structure.identifier_type.in_(ASSIGNED_TYPES)
                & (Structure.status == Structure.ACTIVE)
            )
            .execute()
        )
        if changed == 1:
            self.identifier_type, self.identifier = identifier_type, identifier
        return changed == 1

    def membership_of(self, user) -> Membership | None:
        """The user's active membership of this structure, if any."""
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return Membership.get_or_none(
            (Membership.structure == self)
            & (Membership.user == user.id)
            & (Membership.status == Membership.ACTIVE)
        )

    def holds(self, details: dict) -> bool:
        """Whether each of these details is the structure's."""
        return all(getattr(self, name) == value for name, value in details.items())

    def is_managed_by(self, user) -> bool:
        membership = self.membership_of(user)
        return membership is not None and membership.role == Membership.MANAGER

    def discloses_to(self, user) -> bool:
        """Whether the address, e-mail and phone may be shown to that user:
        always to active members, to others unless « Non diffusible »."""
        return not self.non_diffusible or self.membership_of(user) is not None

    def manager(self) -> User | None:
        """Its gestionnaire principal, if their account is open: one closed by
        an operator cannot sign in, so requests go to the operators meanwhile."""
        membership = (
            Membership.select()
            .where(
                (Membership.structure == self)
                & (Membership.role == Membership.MANAGER)
                & (Membership.status == Membership.ACTIVE)
                & Membership.of_open_account()
            )
            .first()
        )
        return membership.user if membership else None

    def active_members(self) -> list[Membership]:
        return list(
            Membership.select(Membership, User)
            .join(User, on=(Membership.user == User.id))
            .where((Membership.structure == self) & (Membership.status == Membership.ACTIVE))
            .order_by(Membership.role, User.last_name, User.first_name)
        )

    def hand_over(self, manager: User, membership_id: int) -> Membership | None:
        """Make another active member the gestionnaire principal; the current
        one becomes utilisateur. None (and nothing changed) unless ``manager``
        is the structure's gestionnaire principal and the other membership an
        active utilisateur of it."""
        with db.atomic() as transaction:
            demoted = (
                Membership.update(role=Membership.USER)
                .where(
                    (Membership.structure == self)
                    & (Membership.user == manager.id)
                    & (Membership.role == Membership.MANAGER)
                    & (Membership.status == Membership.ACTIVE)
                )
                .execute()
            )
            promoted = 0
            if demoted == 1:
                promoted = (
                    Membership.update(role=Membership.MANAGER)
                    .where(
                        (Membership.id == membership_id)
                        & (Membership.structure == self)
                        & (Membership.user != manager.id)  # their own row, just demoted: no one else
                        & (Membership.role == Membership.USER)
                        & (Membership.status == Membership.ACTIVE)
                        & Membership.of_open_account()
                    )
                    .execute()
                )
            if promoted != 1:
                transaction.rollback()
                return None
        return Membership.get_by_id(membership_id)


# Step 6's structure created: the account's allowance (structures.create).
_STRUCTURES_CREATED_SINCE = Prepared(
    lambda: Structure.select(fn.COUNT(Structure.id)).where(
        (Structure.created_by == slot("creator_id"))
        & (Structure.created_at > slot("since", Structure.created_at))
    )
)
# Step 6's every « Soumettre », its live SIRET check, the attachment search.
_STRUCTURE_FIND = Prepared(
    lambda: (
        Structure.select()
        .where(
            (Structure.identifier_type == slot("identifier_type"))
            & (Structure.identifier == slot("identifier"))
        )
        .limit(1)
    )
)


class Membership(BaseModel):
    """A user's link to a structure: a request for attachment while pending,
    then a role once active. One per user and structure; one gestionnaire
    principal per structure."""

    id = Serial()

    MANAGER = "gestionnaire_principal"
    USER = "utilisateur"

    PENDING = "pending"
    ACTIVE = "active"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # by the portal's team: its structure was disabled, or not validated
    ENDED = (REFUSED, CANCELLED, CLOSED)  # a request that may be made again

    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    structure = ForeignKeyField(Structure, backref="memberships", on_delete="CASCADE")
    role = CharField(default=USER)
    status = CharField(default=PENDING, index=True)
    requested_at = DateTimeField(default=utcnow)
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="decisions", on_delete="SET NULL")
    # When the gestionnaire principal was last mailed about this requester.
    manager_notified_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "structure"), True),)

    @classmethod
    def of_open_account(cls):
        """Memberships whose account is open: a closed account (disabled by
        an operator) cannot receive the gestionnaire principal role, nor keep
        its manager from leaving."""
        return cls.user.not_in(User.select(User.id).where(User.status == User.DISABLED))

    @property
    def may_take_the_role(self) -> bool:
        """An active utilisateur whose account is open: who may become the
        structure's gestionnaire principal (the pages' lists; the UPDATE
        that moves the role checks the same with ``of_open_account``)."""
        return (
            self.status == Membership.ACTIVE
            and self.role == Membership.USER
            and self.user.status != User.DISABLED
        )

    @classmethod
    def request(cls, user: User, structure: Structure) -> tuple[Membership, bool]:
        """Ask to be attached: (the membership, True if a request was made
        now). A refused or cancelled request can be made again; a pending or
        active membership is returned as it is."""
        try:
            with db.atomic():
                return cls.create(user=user, structure=structure, requested_at=utcnow()), True
        except IntegrityError:
            pass
        existing = cls.get((cls.user == user) & (cls.structure == structure))
        renewed = (
            cls.update(
                status=cls.PENDING, role=cls.USER, requested_at=utcnow(), decided_at=None, decided_by=None
            )
            .where((cls.id == existing.id) & cls.status.in_(cls.ENDED))
            .execute()
        )
        return cls.get_by_id(existing.id), renewed == 1

    @property
    def holds_the_role(self) -> bool:
        """Whether it is its structure's gestionnaire principal, for someone:
        the role held by a closed account is held for nobody (``manager``)."""
        return self.role == Membership.MANAGER and not self.account_closed

    @property
    def account_closed(self) -> bool:
        """Whether its account was closed by an operator (disabled): a request
        of a closed account may be refused, never approved, until it reopens."""
        return self.user.status == User.DISABLED

    def _decide(self, status: str, by: User | None, *only_if) -> bool:
        now = utcnow()
        won = (
            Membership.update(status=status, decided_at=now, decided_by=by)
            .where((Membership.id == self.id) & (Membership.status == Membership.PENDING), *only_if)
            .execute()
        )
        if won == 1:
            self.status, self.decided_at, self.decided_by = status, now, by
        return won == 1

    def claim_manager_notice(self, interval: timedelta) -> bool:
        """True if the gestionnaire principal may be mailed about this
        requester now: at most once per ``interval``, whatever the cycles of
        request and cancellation (of concurrent claims one wins)."""
        now = utcnow()
        won = (
            Membership.update(manager_notified_at=now)
            .where(
                (Membership.id == self.id)
                & (
                    Membership.manager_notified_at.is_null()
                    | (Membership.manager_notified_at <= now - interval)
                )
            )
            .execute()
        )
        if won == 1:
            self.manager_notified_at = now
        return won == 1

    def approve(self, by: User) -> bool:
        """The requester becomes an utilisateur of the structure; of concurrent
        decisions exactly one wins. Never while the requester's account is
        closed (checked by the UPDATE itself: an operator closing it meanwhile wins)."""
        return self._decide(Membership.ACTIVE, by, Membership.of_open_account())

    def refuse(self, by: User) -> bool:
        return self._decide(Membership.REFUSED, by)

    def cancel(self) -> bool:
        """The requester withdraws a pending request."""
        return self._decide(Membership.CANCELLED, None)

    def close(self, by: User) -> bool:
        """The portal's team closes a pending request: its structure was
        disabled, or not validated (``by``, the operator; a state of its own,
        which the operator's account deleted later does not make a request
        withdrawn); of concurrent decisions exactly one wins. Asked again, it
        reopens as an ended request does (``request``)."""
        return self._decide(Membership.CLOSED, by)

    @property
    def closed_by_portal(self) -> bool:
        """Closed by the portal's team (``close``), not withdrawn by its requester."""
        return self.status == Membership.CLOSED

    def release_manager_notice(self) -> None:
        """The notice claimed for this requester was withdrawn before it went
        out (``OutboxMail.withdraw``): the gestionnaire principal never read
        it, so the next request may tell them at once."""
        Membership.update(manager_notified_at=None).where(Membership.id == self.id).execute()
        self.manager_notified_at = None

    @classmethod
    def of_user(cls, user: User, *statuses: str) -> list[Membership]:
        if len(statuses) == 1:  # « Mon espace » asks one status (its memberships)
            return _OF_USER.rows(user_id=user.id, status=statuses[0])
        return list(cls._of_user().where((cls.user == user.id) & cls.status.in_(statuses)))

    @classmethod
    def _of_user(cls):
        return (
            cls.select(cls, Structure)
            .join(Structure, on=(cls.structure == Structure.id))
            .order_by(Structure.company_name, cls.id)
        )

    @classmethod
    def requests_of(cls, user: User, ended_since: datetime) -> tuple[list[Membership], list[Membership]]:
        """The user's requests still pending (by structure), and those refused
        or cancelled since ``ended_since``, the latest first (20 at most):
        « Mon espace » and step 5 read both in one query."""
        rows = _REQUESTS_OF_USER.rows(user_id=user.id, since=ended_since)
        pending = [row for row in rows if row.status == cls.PENDING]
        ended = sorted((row for row in rows if row.status != cls.PENDING), key=_latest_decision, reverse=True)
        return pending, ended[:20]

    @classmethod
    def has_active(cls, user: User) -> bool:
        return _HAS_ACTIVE.scalar(user_id=user.id) is not None

    @classmethod
    def hold_of(cls, user: User) -> None:
        """Lock the account's memberships until the transaction ends, before
        reading its roles to delete it: a hand-over of a role to it under way
        (its row updated, not yet committed) is waited for, and read once done.
        SQLite runs one write transaction at a time: nothing to lock there."""
        if db.obj.for_update:
            list(cls.select(cls.id).where(cls.user == user.id).for_update())

    @classmethod
    def managed_structures(cls, user: User) -> list[Structure]:
        return _MANAGED.rows(user_id=user.id)

    @classmethod
    def managed_among(cls, active: list[Membership]) -> list[Structure]:
        """What ``managed_structures`` reads, taken from the account's active
        memberships already read with their structures (``of_user``), in
        their order (by name): « Mon espace » reads both, one query less."""
        return [membership.structure for membership in active if membership.role == cls.MANAGER]

    @classmethod
    def to_decide(cls, manager: User) -> int:
        """How many requests wait for ``manager``'s decision (in the structures
        they manage): « Mon espace » counts them, ``pending_for`` lists them."""
        return _TO_DECIDE.scalar(user_id=manager.id)

    @classmethod
    def waiting_for_operators(cls, limit: int) -> tuple[list[Membership], int]:
        """The pending requests that the operators decide, oldest first: to an
        active structure without a gestionnaire principal whose account is
        open (Structure.manager). Returns the first ``limit`` and how many
        there are: an operator granted after they were sent was told of none."""
        managed = cls.select(cls.structure).where(
            (cls.role == cls.MANAGER) & (cls.status == cls.ACTIVE) & cls.of_open_account()
        )
        waiting = cls.status == cls.PENDING
        waiting &= (Structure.status == Structure.ACTIVE) & Structure.id.not_in(managed)
        query = (
            cls.select(cls, User, Structure)
            .join(User, on=(cls.user == User.id))
            .switch(cls)
            .join(Structure, on=(cls.structure == Structure.id))
            .where(waiting)
        )
        return list(query.order_by(cls.requested_at, cls.id).limit(limit)), query.count()

    @classmethod
    def pending_for(cls, structures: list[Structure]) -> list[Membership]:
        """Pending requests for these structures, oldest first."""
        return list(
            cls.select(cls, User, Structure)
            .join(User, on=(cls.user == User.id))
            .switch(cls)
            .join(Structure, on=(cls.structure == Structure.id))
            .where(cls.structure.in_([s.id for s in structures]) & (cls.status == cls.PENDING))
            .order_by(cls.requested_at, cls.id)
        )


# At most one gestionnaire principal per structure, whatever the code does.
Membership.add_index(
    Membership.index(
        Membership.structure,
        unique=True,
        where=(Membership.role == Membership.MANAGER),
        name="membership_one_manager",
    )
)


# « Mon espace » and step 5 read them on every visit.
_OF_USER = Prepared(
    lambda: Membership._of_user().where(
        (Membership.user == slot("user_id")) & (Membership.status == slot("status"))
    )
)
_REQUESTS_OF_USER = Prepared(
    lambda: Membership._of_user().where(
        (Membership.user == slot("user_id"))
        & (
            (Membership.status == Membership.PENDING)
            | (
                Membership.status.in_(Membership.ENDED)
                & (Membership.decided_at >= slot("since", Membership.decided_at))
            )
        )
    )
)


def _latest_decision(membership: Membership) -> tuple:
    return (membership.decided_at, membership.id)


_MANAGED = Prepared(
    lambda: (
        Structure.select()
        .join(Membership, on=(Membership.structure == Structure.id))
        .where(
            (Membership.user == slot("user_id"))
            & (Membership.role == Membership.MANAGER)
            & (Membership.status == Membership.ACTIVE)
        )
        .order_by(Structure.company_name, Structure.id)
    )
)
_MANAGING = Membership.alias("managing")
_TO_DECIDE = Prepared(
    lambda: Membership.select(fn.COUNT(Membership.id)).where(
        (Membership.status == Membership.PENDING)
        & Membership.structure.in_(
            _MANAGING.select(_MANAGING.structure).where(
                (_MANAGING.user == slot("user_id"))
                & (_MANAGING.role == Membership.MANAGER)
                & (_MANAGING.status == Membership.ACTIVE)
            )
        )
    )
)
_HAS_ACTIVE = Prepared(
    lambda: (
        Membership.select(Membership.id)
        .where((Membership.user == slot("user_id")) & (Membership.status == Membership.ACTIVE))
        .limit(1)
    )
)


class SecondFactor(BaseModel):
    """A second factor of an account: an authenticator app (TOTP), codes by
    e-mail, or a passkey. A row without ``confirmed_at`` is an enrolment not
    finished (the person has not yet given a right code); it counts for
    nothing. The TOTP secret is stored encrypted (factors/sealed.py)."""

    id = Serial()
    TOTP = "totp"
    EMAIL = "email"
    PASSKEY = "passkey"

    user = ForeignKeyField(User, backref="second_factors", on_delete="CASCADE")
    kind = CharField()
    name = CharField(max_length=100)
    secret = TextField(null=True)  # TOTP: encrypted
    last_step = IntegerField(null=True)  # TOTP: the last time step accepted (no replay)
    credential_id = CharField(null=True, unique=True)  # passkey, base64url
    public_key = TextField(null=True)  # passkey, base64url
    sign_count = IntegerField(null=True)  # passkey
    created_at = DateTimeField(default=utcnow)
    confirmed_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)

    class Meta:
        table_name = "second_factor"
        indexes = ((("user", "kind"), False),)

    @classmethod
    def confirmed(cls, user: User):
        return cls.select().where((cls.user == user.id) & cls.confirmed_at.is_null(False))

    @classmethod
    def all_of(cls, user: User) -> list[SecondFactor]:
        """Every factor of the account, an enrolment not finished included, oldest first."""
        return list(cls.select().where(cls.user == user.id).order_by(cls.created_at, cls.id))

    @classmethod
    def of_kind(cls, user: User, kind: str) -> SecondFactor | None:
        return cls.confirmed(user).where(cls.kind == kind).order_by(cls.id).first()

    @classmethod
    def confirmed_passkey(cls, credential_id: str):
        return cls.select().where(
            (cls.credential_id == credential_id) & (cls.kind == cls.PASSKEY) & cls.confirmed_at.is_null(False)
        )

    @classmethod
    def pending(cls, user: User, kind: str) -> SecondFactor | None:
        return (
            cls.select()
            .where((cls.user == user.id) & (cls.kind == kind) & cls.confirmed_at.is_null())
            .order_by(cls.id.desc())
            .first()
        )

    @classmethod
    def start(cls, user: User, kind: str, name: str, **fields) -> SecondFactor:
        """A new enrolment, replacing an unfinished one of that kind."""
        cls.delete().where((cls.user == user.id) & (cls.kind == kind) & cls.confirmed_at.is_null()).execute()
        return cls.create(user=user, kind=kind, name=name, **fields)

    def confirm(self) -> None:
        """The enrolment is finished; for TOTP and e-mail, one of a kind."""
        now = utcnow()
        if self.kind != self.PASSKEY:
            SecondFactor.delete().where(
                (SecondFactor.user == self.user_id)
                & (SecondFactor.kind == self.kind)
                & (SecondFactor.id != self.id)
            ).execute()
        SecondFactor.update(confirmed_at=now, last_used_at=now).where(SecondFactor.id == self.id).execute()
        self.confirmed_at = self.last_used_at = now

    def claim_step(self, step: int) -> bool:
        """Accept the TOTP time step ``step`` once: only a step later than the
        last one accepted wins (of concurrent claims, one)."""
        won = (
            SecondFactor.update(last_step=step, last_used_at=utcnow())
            .where(
                (SecondFactor.id == self.id)
                & (SecondFactor.last_step.is_null() | (SecondFactor.last_step < step))
            )
            .execute()
        )
        if won == 1:
            self.last_step = step
        return won == 1

    def claim_use(self, challenge_given: datetime, sign_count: int) -> bool:
        """Accept a passkey's answer to a challenge given at
        ``challenge_given`` once: only if the passkey was not used since that
        challenge was given (of concurrent claims, one). A challenge lives in
        the session's cookie, which a captured request brings back; a
        passkey's signature counter, often 0 for synced ones, does not stop it."""
        now = utcnow()
        won = (
            SecondFactor.update(last_used_at=now, sign_count=sign_count)
            .where(
                (SecondFactor.id == self.id)
                & (SecondFactor.last_used_at.is_null() | (SecondFactor.last_used_at < challenge_given))
            )
            .execute()
        )
        if won == 1:
            self.last_used_at, self.sign_count = now, sign_count
        return won == 1


class RecoveryCode(BaseModel):
    """A single-use recovery code; only its SHA-256 is stored."""

    user = ForeignKeyField(User, backref="recovery_codes", on_delete="CASCADE")
    code_hash = CharField()
    created_at = DateTimeField(default=utcnow)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "recovery_code"
        indexes = ((("user", "code_hash"), False),)

    @classmethod
    def replace_all(cls, user: User, codes: list[str]) -> None:
        """A new set; the old one is revoked."""
        cls.delete().where(cls.user == user.id).execute()
        now = utcnow()
        cls.insert_many(
            [{"user": user.id, "code_hash": sha256(code), "created_at": now} for code in codes]
        ).execute()

    @classmethod
    def use(cls, user: User, code: str) -> bool:
        """Spend ``code`` once (of concurrent uses, one wins)."""
        won = (
            cls.update(used_at=utcnow())
            .where((cls.user == user.id) & (cls.code_hash == sha256(code)) & cls.used_at.is_null())
            .execute()
        )
        return won >= 1

    @classmethod
    def left(cls, user: User) -> int:
        return cls.select().where((cls.user == user.id) & cls.used_at.is_null()).count()

    @classmethod
    def revoke_all(cls, user: User) -> None:
        cls.delete().where(cls.user == user.id).execute()

    @classmethod
    def is_current_set(cls, user: User, codes: list[str]) -> bool:
        """Whether ``codes`` are still the account's set (used ones included):
        not replaced by a new set, nor revoked with the last factor."""
        hashes = {sha256(code) for code in codes}
        return bool(hashes) and cls.select().where(
            (cls.user == user.id) & cls.code_hash.in_(list(hashes))
        ).count() == len(hashes)


class EmailCode(BaseModel):
    """A 6-digit code mailed as a second factor: short-lived, single use, a
    new one revokes the older. Stored as its SHA-256, salted by the account.
    It takes ``MAX_TRIES`` tries at most: a million codes, five guesses each."""

    # What a try came to: the code accepted; refused (wrong, expired, used,
    # replaced); refused because the code has had all its tries (it is dead:
    # a new one must be asked for).
    ACCEPTED = "accepted"
    WRONG = "wrong"
    SPENT = "spent"
    MAX_TRIES = 5

    user = ForeignKeyField(User, backref="email_codes", on_delete="CASCADE")
    code_hash = CharField()
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    tries = IntegerField(default=0)

    class Meta:
        table_name = "email_code"
        indexes = ((("user", "used_at"), False),)

    @staticmethod
    def _hash(user: User, code: str) -> str:
        return sha256(f"{user.id}:{code}")

    @classmethod
    def issue(cls, user: User, ttl: timedelta) -> str:
        now = utcnow()
        cls.update(used_at=now).where((cls.user == user.id) & cls.used_at.is_null()).execute()
        code = f"{secrets.randbelow(10**6):06d}"
        cls.create(user=user, code_hash=cls._hash(user, code), created_at=now, expires_at=now + ttl)
        return code

    @classmethod
    def use(cls, user: User, code: str) -> str:
        """Try ``code`` against the account's live code: ACCEPTED, WRONG or SPENT.

        Every try takes one of the code's MAX_TRIES before the code is
        compared, whatever it carries, in one UPDATE the database counts:
        tries sent at once each take their own (a row lock on PostgreSQL, the
        write lock on SQLite), never more than MAX_TRIES in all. So the count
        depends on the number of tries only, and SPENT says nothing of the
        code: the right one is refused alike once the tries are gone."""
        now = utcnow()
        live = (cls.user == user.id) & cls.used_at.is_null() & (cls.expires_at > now)
        with db.atomic():
            took = cls.update(tries=cls.tries + 1).where(live & (cls.tries < cls.MAX_TRIES)).execute()
            right = live & (cls.code_hash == cls._hash(user, code))
            if took and cls.update(used_at=now).where(right).execute():
                return cls.ACCEPTED
            spent = cls.select().where(live & (cls.tries >= cls.MAX_TRIES)).exists()
        return cls.SPENT if spent else cls.WRONG

    @classmethod
    def last_issued_at(cls, user: User) -> datetime | None:
        row = cls.select(cls.created_at).where(cls.user == user.id).order_by(cls.created_at.desc()).first()
        return row.created_at if row else None


MODELS: list[type[BaseModel]] = [
    SchemaVersion,
    User,
    UserSession,
    Token,
    CaptchaChallenge,
    OutboxMail,
    Structure,
    Membership,
    SecondFactor,
    RecoveryCode,
    EmailCode,
]


class AuditEvent(BaseModel):
    """A security event; ``audit`` lists the names. Never a password, a
    token or a captcha answer."""

    at = DateTimeField(default=utcnow, index=True)  # UTC
    user = ForeignKeyField(User, null=True, backref="audit_events", on_delete="SET NULL")
    account = CharField(null=True, index=True)  # the login e-mail then: kept if the account goes
    client_address = CharField(null=True)
    event = CharField(index=True)
    outcome = CharField()
    details = TextField(null=True)  # JSON
    # What the event is about, copied from its details for the queries to
    # find it by an index (``audit.record``): the account another account's
    # event names (``audit.ABOUT_KEYS``, by login e-mail as ``account``),
    # and the structure it concerns (its id: the journal outlives it).
    about_account = CharField(null=True, index=True)
    structure_id = IntegerField(null=True, index=True)


MODELS.append(AuditEvent)


class SireneEstablishment(BaseModel):
    """An establishment of INSEE's directory: the SIRET, and the other fields
    kept as INSEE wrote them (``[ND]`` included) packed in ``record`` (see
    ``sirene.schema``; ``sirene.lookup`` decodes them). The table is replaced
    whole by each import (``sirene.load``), never updated row by row."""

    siret = BigIntegerField(primary_key=True)
    record = TextField(null=True)

    class Meta:
        table_name = "sirene_establishment"


class SireneLegalUnit(BaseModel):
    """A legal unit of INSEE's directory, packed like establishments."""

    siren = BigIntegerField(primary_key=True)
    record = TextField(null=True)

    class Meta:
        table_name = "sirene_legal_unit"


class SireneImport(BaseModel):
    """A finished import of one INSEE stock file, written in the transaction
    that switched the directory to its data."""

    kind = CharField(index=True)  # sirene.schema.Kind.name
    files = TextField()  # the file's name (and the csv inside a zip)
    rows = BigIntegerField()
    started_at = DateTimeField()
    finished_at = DateTimeField(default=utcnow)

    @classmethod
    def latest(cls, kind: str) -> SireneImport | None:
        return _SIRENE_LATEST.first(kind=kind)

    @classmethod
    def latest_finish(cls, kind: str) -> datetime | None:
        """When the latest import of ``kind`` finished, None if none did: the
        one column step 6's look-ups date their answers with, without the
        row's list of files to decode."""
        raw = _SIRENE_LATEST_FINISH.scalar(kind=kind)
        return None if raw is None else cls.finished_at.python_value(raw)


# Step 6 shows the directory's date on each page and live check (sirene.lookup.last_load).
_SIRENE_LATEST = Prepared(
    lambda: (
        SireneImport.select()
        .where(SireneImport.kind == slot("kind"))
        .order_by(SireneImport.finished_at.desc(), SireneImport.id.desc())
        .limit(1)
    )
)

_SIRENE_LATEST_FINISH = Prepared(
    lambda: (
        SireneImport.select(SireneImport.finished_at)
        .where(SireneImport.kind == slot("kind"))
        .order_by(SireneImport.finished_at.desc(), SireneImport.id.desc())
        .limit(1)
    )
)

MODELS.extend([SireneEstablishment, SireneLegalUnit, SireneImport])


class Draft(BaseModel):
    """What was typed in a step not yet completed, kept on the server so a
    reload, the back button or a new tab finds it again. ``key`` names the
    owner and the step: a hash of the browser's draft id (the session cookie
    holds the id, never the data) or the account's id. ``data`` is JSON of
    the step's fields, never a password or a captcha answer."""

    key = CharField(primary_key=True)
    user = ForeignKeyField(User, null=True, on_delete="CASCADE", backref="drafts")
    data = TextField(default="{}")
    saved_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    # Which page's save the draft holds (an id each page drawn picks) and its
    # number among that page's saves; none for a save sent without JavaScript.
    page = CharField(max_length=32, null=True)
    page_save = IntegerField(null=True)

    @classmethod
    def live(cls, key: str) -> Draft | None:
        return _DRAFT_LIVE.first(key=key, now=utcnow())

    @classmethod
    def keep(
        cls,
        key: str,
        data: str,
        ttl: timedelta,
        user: User | None = None,
        order: tuple[str, int] | None = None,
    ) -> Draft:
        """Save (or replace) the draft at ``key``; its life starts again. A
        save of a page (``order``: the page's id, the save's number) never
        replaces a later save of the same page: it left first, and reached
        the server last (a worker slower than another). Decided by the
        database, in the write itself."""
        now = utcnow()
        page, number = order if order is not None else (None, None)
        _DRAFT_KEEP.execute(
            key=key, data=data, now=now, expires_at=now + ttl, user=user, page=page, page_save=number
        )
        return cls(key=key, data=data, saved_at=now, expires_at=now + ttl, user=user)  # as stored

    @classmethod
    def _kept(cls) -> dict:
        """What saving a draft writes, from the prepared statement's slots."""
        return {
            cls.data: slot("data"),
            cls.saved_at: slot("now", cls.saved_at),
            cls.expires_at: slot("expires_at", cls.expires_at),
            cls.user: slot("user", cls.user),
            cls.page: slot("page"),
            cls.page_save: slot("page_save"),
        }

    @classmethod
    def drop(cls, key: str) -> None:
        _DRAFT_DROP.execute(key=key)

    @classmethod
    def purge(cls) -> int:
        return cls.delete().where(cls.expires_at <= utcnow()).execute()


# Each step of the flow reads its draft, and saves it as the person types.
_DRAFT_LIVE = Prepared(
    lambda: (
        Draft.select()
        .where((Draft.key == slot("key")) & (Draft.expires_at > slot("now", Draft.expires_at)))
        .limit(1)
    )
)
_DRAFT_KEEP = Prepared(
    lambda: Draft.insert({Draft.key: slot("key"), **Draft._kept()}).on_conflict(
        conflict_target=[Draft.key],
        update=Draft._kept(),
        # Not over a later save of the same page (Draft.keep).
        where=(
            Draft.page.is_null()
            | EXCLUDED.page.is_null()
            | (Draft.page != EXCLUDED.page)
            | (Draft.page_save < EXCLUDED.page_save)
        ),
    )
)
_DRAFT_DROP = Prepared(lambda: Draft.delete().where(Draft.key == slot("key")))

MODELS.append(Draft)


class ConsentChange(BaseModel):
    """The survey consent's history: each time it was given or withdrawn."""

    user = ForeignKeyField(User, backref="consent_changes", on_delete="CASCADE")
    consent = BooleanField()
    at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "at"), False),)

    @classmethod
    def of(cls, user: User) -> list[ConsentChange]:
        return list(cls.select().where(cls.user == user.id).order_by(cls.at, cls.id))


MODELS.append(ConsentChange)
