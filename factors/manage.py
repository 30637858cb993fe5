"""Enrolling and removing second factors, and recovery codes: each change
with its audit event and the notification mail, in one transaction."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

import audit
import database
import i18n
import mailer
from audit import Event, Outcome
from factors import (
    LABELS,
    REAUTH_MINUTES,
    display_name,
    email_code,
    has_second_factor,
    recovery,
    required_for,
    totp,
)
from models import EmailCode, RecoveryCode, SecondFactor, User, utcnow
from passwords import verify_password


class LastFactorRefused(Exception):
    """The policy requires a second factor and this is the account's last."""


class TurnsOff(Exception):
    """Removing this factor, the account's last, turns two-step verification
    off: not done unless that was confirmed."""

    def __init__(self, factor: SecondFactor):
        super().__init__(factor.id)
        self.factor = factor


def reauthenticate(user: User, password: str) -> bool:
    """The password asked again before a change of second factors."""
    ok, _ = verify_password(user.password_hash, password or "")
    for attempt in database.attempts():
        with attempt:
            audit.record(Event.SECOND_FACTOR_REAUTH, user, Outcome.SUCCESS if ok else Outcome.FAILURE)
    return ok


# An app being added shows the same key in every tab for this long: a second
# « Ajouter » (another tab, Back) must not make the code scanned in the
# first tab wrong without a word. Past it, a new key (the old one was left).
SAME_KEY_FOR = timedelta(minutes=REAUTH_MINUTES)


def start_totp(user: User, begun_here: int | None = None) -> tuple[SecondFactor, str]:
    """A new authenticator app, not usable until a right code confirms it;
    the one being added, if this session began it (``begun_here``, its id)
    less than ``SAME_KEY_FOR`` ago: never a key another session left
    pending, which someone else who knows the password may have begun."""
    begun = SecondFactor.pending(user, SecondFactor.TOTP)
    if begun is not None and begun.id == begun_here and begun.created_at > utcnow() - SAME_KEY_FOR:
        secret = totp.secret_of(begun)
        if secret is not None:
            return begun, secret
    secret = totp.new_secret()
    for attempt in database.attempts():
        with attempt:
            factor = SecondFactor.start(
                user, SecondFactor.TOTP, LABELS[SecondFactor.TOTP], secret=totp.seal_secret(user, secret)
            )
    return factor, secret


def confirm_totp(user: User, code: str, begun_here: int | None = None) -> list[str] | None:
    """Finish the enrolment this session began (``begun_here``) with a right
    code: the recovery codes to show once (an empty list if the account kept
    its set), None if the code is wrong or the key is not this session's."""
    factor = SecondFactor.pending(user, SecondFactor.TOTP)
    if factor is None or factor.id != begun_here:
        return None
    for attempt in database.attempts():
        with attempt:
            if not totp.check(factor, code):
                return None
            return _enrolled(user, factor)


@database.transaction
def start_email(user: User) -> None:
    """Codes by e-mail: a first code is mailed, and confirms the address."""
    SecondFactor.start(user, SecondFactor.EMAIL, LABELS[SecondFactor.EMAIL])
    email_code.send(user)


class CodeSpent(Exception):
    """The mailed code has had all its tries: a new one must be asked for."""


def confirm_email(user: User, code: str) -> list[str] | None:
    """As ``confirm_totp``; raises CodeSpent once the code has had all its
    tries (counted: the refusal commits)."""
    factor = SecondFactor.pending(user, SecondFactor.EMAIL)
    if factor is None:
        return None
    for attempt in database.attempts():
        with attempt:
            outcome = email_code.check(user, code)
            if outcome == EmailCode.ACCEPTED:
                return _enrolled(user, factor)
    if outcome == EmailCode.SPENT:
        raise CodeSpent
    return None


class PasskeyTaken(Exception):
    """The passkey is registered already, to this account or another: a
    credential id names one passkey of one account (the database says so)."""


def add_passkey(user: User, name: str, fields: dict) -> list[str]:
    """A passkey the browser just created (``passkeys.verified_registration``).
    Raises PasskeyTaken for a credential the portal holds already (the same
    answer sent twice, or another account's passkey presented as new)."""
    try:
        for attempt in database.attempts():
            with attempt:
                factor = SecondFactor.start(user, SecondFactor.PASSKEY, name, **fields)
                return _enrolled(user, factor)
    except IntegrityError:
        raise PasskeyTaken from None


def _enrolled(user: User, factor: SecondFactor) -> list[str]:
    factor.confirm()
    audit.record(Event.SECOND_FACTOR_ENROLLED, user, kind=factor.kind)
    added = _l("la clé d'accès « %(name)s » a été ajoutée") if factor.kind == SecondFactor.PASSKEY else None
    _notify(user, added or _l("la méthode « %(name)s » a été ajoutée"), factor=factor)
    if RecoveryCode.left(user):
        return []
    return _regenerate(user)


@database.transaction
def regenerate_codes(user: User) -> list[str]:
    """A new set of recovery codes, the old set revoked."""
    codes = _regenerate(user)
    _notify(user, _l("de nouveaux codes de secours ont été créés, les anciens ne fonctionnent plus"))
    return codes


def _regenerate(user: User) -> list[str]:
    codes = recovery.regenerate(user)
    audit.record(Event.RECOVERY_CODES_GENERATED, user, count=len(codes))
    return codes


@database.transaction
def remove(user: User, factor_id: int, turn_off: bool = False) -> bool:
    """Remove one of the account's factors; False if it has no such factor.
    Raises LastFactorRefused when the policy needs one and it is the last;
    TurnsOff when it is the last and ``turn_off`` (the person's confirmation
    that two-step verification goes with it) is not given."""
    factor = SecondFactor.get_or_none((SecondFactor.id == factor_id) & (SecondFactor.user == user.id))
    if factor is None:
        return False
    others = SecondFactor.confirmed(user).where(SecondFactor.id != factor.id).exists()
    if factor.confirmed_at and not others:
        if required_for(user):
            raise LastFactorRefused
        if not turn_off:
            raise TurnsOff(factor)
    factor.delete_instance()
    if not has_second_factor(user):
        RecoveryCode.revoke_all(user)  # no factor, no recovery codes to fall back on
    audit.record(Event.SECOND_FACTOR_REMOVED, user, kind=factor.kind)
    # A passkey is named as its holder typed it: the mail says what it is.
    # The last method gone, the mail says the second step has gone with it.
    if not has_second_factor(user):
        removed = _l("la méthode « %(name)s » a été retirée ; la vérification en deux étapes est désactivée")
    elif factor.kind == SecondFactor.PASSKEY:
        removed = _l("la clé d'accès « %(name)s » a été retirée")
    else:
        removed = _l("la méthode « %(name)s » a été retirée")
    _notify(user, removed, factor=factor)
    return True


def _notify(user: User, change, factor: SecondFactor | None = None) -> None:
    """``change`` (lazy, the factor's name as ``%(name)s``) is written in the
    reader's language, as the rest of the mail (a plain text: escaped there)."""
    with force_locale(user.language or i18n.DEFAULT):
        change = str(change) % {"name": display_name(factor)} if factor is not None else str(change)
    # notification_email: the contact e-mail only once confirmed (never an unconfirmed one).
    for recipient in dict.fromkeys((user.email, user.notification_email)):
        mailer.queue(
            recipient,
            _l("Vos méthodes de connexion ont été modifiées"),
            "second_factor_changed",
            reader=user,
            user=user,
            change=change,
            reset_url=mailer.external_url("recovery.request"),
        )
