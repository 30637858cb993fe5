"""Second factors: which an account has, which it must have, and where the
sign-in stands. Other areas (the operators' /administration) call
``has_second_factor(user)`` and ``second_factor_required`` (views/factors.py
gate, see ``verified_in_session``).

Modules: sealed (encrypted secrets), totp, email_code, recovery (codes),
shown_codes (new codes kept a while to be shown again), manage (enrol,
remove, with audit and notification mail), verify (the sign-in's second
step)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from flask import current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import Membership, SecondFactor, User

OPTIONAL = "optional"
MANAGERS = "managers"
ALL = "all"
POLICIES = (OPTIONAL, MANAGERS, ALL)

# Session keys: when (epoch seconds) this session passed a second factor;
# when the password was last given (changes of factors need it recent); set
# when the « all » policy leads a new account to enrol right after activation.
VERIFIED_KEY = "second_factor_at"
REAUTH_KEY = "reauth_at"
REAUTH_MINUTES = 10
FLOW_KEY = "second_factor_flow"

# The name a factor is stored under when enrolled (the data, in French: the
# portal's language); a passkey is named by its holder instead.
LABELS = {
    SecondFactor.TOTP: "Application d'authentification",
    SecondFactor.EMAIL: "Code par e-mail",
    SecondFactor.PASSKEY: "Clé d'accès",
}
# The same names as shown, in the reader's language (``display_name``).
SHOWN_LABELS = {
    SecondFactor.TOTP: _l("Application d'authentification"),
    SecondFactor.EMAIL: _l("Code par e-mail"),
    SecondFactor.PASSKEY: _l("Clé d'accès"),
}


def display_name(factor: SecondFactor) -> str:
    """A factor's name in the language of the page or mail: a stored
    standard name is translated, a name its holder typed is kept."""
    if factor.name == LABELS.get(factor.kind):
        return str(SHOWN_LABELS[factor.kind])
    return factor.name


def has_second_factor(user: User) -> bool:
    """The account has at least one second factor (enrolment finished)."""
    return SecondFactor.confirmed(user).exists()


def factors_of(user: User) -> list[SecondFactor]:
    return list(SecondFactor.confirmed(user).order_by(SecondFactor.created_at, SecondFactor.id))


def kinds_of(user: User) -> list[str]:
    """The kinds the account can use, the preferred first: app, passkey, e-mail."""
    kinds = {factor.kind for factor in factors_of(user)}
    return [kind for kind in (SecondFactor.TOTP, SecondFactor.PASSKEY, SecondFactor.EMAIL) if kind in kinds]


def policy() -> str:
    return current_app.config["TWO_FACTOR_POLICY"]


def required_for(user: User) -> bool:
    """The policy requires a second factor of this account: everyone under
    ``all``; under ``managers``, a gestionnaire principal of a structure."""
    if policy() == ALL:
        return True
    if policy() == MANAGERS:
        return bool(Membership.managed_structures(user))
    return False


def verified_in_session() -> bool:
    return VERIFIED_KEY in session


def needs_enrolment(user: User) -> bool:
    """The policy requires a second factor and the account has none yet."""
    return required_for(user) and not has_second_factor(user)


def console_needs_enrolment(user: User) -> bool:
    """An operator without a second factor: « Administration » asks for one
    whatever the policy (second_factor_required), and leads to enrolment."""
    return user.is_operator and not has_second_factor(user)


def mark_reauthenticated(at: int | None = None) -> None:
    """The password was just given (sign-in, activation, confirmation), or at ``at`` (epoch seconds)."""
    session[REAUTH_KEY] = int(time.time()) if at is None else at


def reauthenticated() -> bool:
    return time.time() - session.get(REAUTH_KEY, 0) < REAUTH_MINUTES * 60


def mark_verified(at: int | None = None) -> None:
    """A second factor was just passed in this session, or at ``at`` (epoch seconds)."""
    session[VERIFIED_KEY] = int(time.time()) if at is None else at


def verified_at() -> int | None:
    """When this session passed its second factor (epoch seconds), if it did."""
    return session.get(VERIFIED_KEY)


def second_factor_gate(keep: Callable[[User], str | None] | None = None):
    """None when the signed-in account has passed a second factor in this
    session; else the answer that leads there: enrolment for an account
    without one, the second step for a session that has not passed it (signed
    in before enrolling elsewhere, or on a trusted device), which then comes
    back to this page. A form sent (not a GET) is handed to ``keep``
    (views.kept_until_verified), which keeps what it held for the account and
    names the page it was sent from: the second step comes back there."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    user = current_user._get_current_object()
    if has_second_factor(user) and verified_in_session():
        return None
    sent_from = keep(user) if keep is not None and request.method != "GET" else None
    if not has_second_factor(user):
        return redirect(url_for("factors.show"), 303)
    from factors import verify  # noqa: PLC0415 - verify imports this module

    back = request.full_path.rstrip("?") if request.method == "GET" else sent_from
    verify.begin(user, back, password=False)
    return redirect(url_for("second_factor.verify_step"), 303)


def second_factor_required(view):
    """For pages that need a second factor whatever the policy."""

    @wraps(view)
    def guarded(*args, **kwargs):
        return second_factor_gate() or view(*args, **kwargs)

    return guarded
