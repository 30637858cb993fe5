"""The sign-in's second step (« Vérification en deux étapes »): after the
right password, a code from the authenticator app, a code by e-mail or a
recovery code; the method the person prefers first, the others one click
away."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

import audit
import database
import devices
import factors
from audit import Event, Outcome
from factors import email_code, passkeys, trust, verify
from forms.auth import LoginForm
from forms.second_factor import CODE_SPENT, METHODS, WRONG_MAILED_CODE, PasskeySignInForm, SecondStepForm
from rules.email import shown_email
from security import limit, limits
from views import full_redirect, page, page_to_show, renders, sign_in

bp = Blueprint("second_factor", __name__, url_prefix="/connexion/verification")

WRONG = _l("Ce code est incorrect ou a expiré. Vérifiez-le et réessayez.")
# A recovery code does not expire: it is wrong, or spent already.
WRONG_RECOVERY = _l("Ce code de secours est incorrect ou a déjà servi. Vérifiez-le et réessayez.")
PASSKEY_FAILED = _l(
    "La clé d'accès n'a pas été reconnue. Réessayez, ou choisissez une autre méthode ci-dessous."
)
EXPIRED = _l("Votre connexion a expiré. Saisissez de nouveau votre adresse e-mail et votre mot de passe.")
NO_EMAIL = _l("Votre compte ne reçoit pas de codes par e-mail. Utilisez l'une des méthodes ci-dessous.")
NO_FACTOR_LEFT = _l(
    "Votre compte n'a plus de méthode de vérification en deux étapes : "
    "vous êtes connecté avec votre mot de passe seul."
)


def _pending_email() -> str | None:
    user = verify.pending_user()
    return user.email if user else None


def _methods(user) -> list[str]:
    """The methods offered, the preferred first; recovery codes last."""
    return [kind for kind in factors.kinds_of(user) if kind in METHODS] + ["recovery"]


def _pending_device_id() -> str | None:
    """This browser's device id if it signed in to the pending account
    before: it is exempt from the account's limit and counted on its own, so
    strangers guessing codes cannot lock the owner out."""
    user = verify.pending_user()
    return devices.device_id(user) if user is not None else None


def _known_device() -> bool:
    return _pending_device_id() is not None


@bp.route("/", methods=["GET", "POST"])
@limits("SECOND_FACTOR", email=_pending_email, exempt=_known_device)
@limit("SECOND_FACTOR_DEVICE", key=_pending_device_id)
def verify_step():
    user = verify.pending_user()
    if user is None and current_user.is_authenticated:
        return full_redirect(url_for("space.home"))  # back to this step once signed in: nothing expired
    if user is None:
        return _expired()
    if not factors.has_second_factor(user):
        return _without_factor(user)
    form = SecondStepForm(offered=_methods(user))
    if not form.is_submitted():
        return second_step()
    if not form.validate():
        return second_step(422, form=form)
    method = form.method.data
    ok, left, spent = verify.check(user, method, form.answer)
    if not ok and method == "passkey":
        form.form_errors.append(str(PASSKEY_FAILED))
        return second_step(422, form=form)
    if not ok:
        wrong = {verify.RECOVERY: WRONG_RECOVERY, verify.EMAIL: WRONG_MAILED_CODE}.get(method, WRONG)
        form.code.errors = [str(CODE_SPENT if spent else wrong)]
        return second_step(422, form=form, spent=spent)
    next_url = verify.pending_next()
    sign_in(user)
    factors.mark_verified()
    factors.mark_reauthenticated()
    if form.trust.data:
        trust.trust(user)
    if left is not None:
        flash(
            _("Code de secours accepté. Il vous en reste %(left)s.", left=left)
            if left
            else _("Code de secours accepté. C'était le dernier : créez-en de nouveaux dans « Mon compte »."),
            "info",
        )
    return full_redirect(next_url or url_for("structure.choose"))


@bp.post("/code-par-e-mail")
# As for the codes typed: a stranger who knows the password and asks for
# codes until the account's limit does not keep them from the owner's browser.
@limits("EMAIL_CODE", email=_pending_email, exempt=_known_device)
@limit("EMAIL_CODE_DEVICE", key=_pending_device_id)
def send_email_code():
    user = verify.pending_user()
    if user is None:
        return _expired()
    if not factors.has_second_factor(user):
        return _without_factor(user)
    if "email" not in _methods(user):
        # A page opened before the method was removed elsewhere, or a forged request.
        form = SecondStepForm(formdata=None)
        form.form_errors.append(str(NO_EMAIL))
        return second_step(422, form=form)
    verify.send_email_code(user)
    flash(
        ngettext(
            "Un code vous a été envoyé à %(email)s. Il est valable %(num)s minute.",
            "Un code vous a été envoyé à %(email)s. Il est valable %(num)s minutes.",
            email_code.ttl_minutes(),
            email=shown_email(user.email),
        ),
        "info",
    )
    if not request.htmx:
        # Post/Redirect/Get: a reload (or the language switch) shows the step
        # again rather than sending another code, which would revoke this one.
        return redirect(url_for(".verify_step", methode="email"), 303)
    return second_step(method="email")


@bp.post("/cle-d-acces/options")
@limits("SECOND_FACTOR", email=_pending_email, exempt=_known_device)
@limit("SECOND_FACTOR_DEVICE", key=_pending_device_id)
def passkey_options():
    """For static/js/passkeys.js: the options of navigator.credentials.get."""
    user = verify.pending_user()
    if user is None or "passkey" not in _methods(user):
        return {"error": "expired"}, 403
    return Response(passkeys.authentication_options(user), mimetype="application/json")


@bp.post("/cle-d-acces-seule/options")
@limits("SIGN_IN")
def passkey_sign_in_options():
    """FLASK_PASSKEY_SIGN_IN: options for any passkey of the portal."""
    if not current_app.config["PASSKEY_SIGN_IN"]:
        abort(404)
    return Response(passkeys.authentication_options(None), mimetype="application/json")


@bp.post("/cle-d-acces-seule")
@limits("SIGN_IN")
def passkey_sign_in():
    """FLASK_PASSKEY_SIGN_IN: a passkey that verified its user (fingerprint,
    face, device PIN) signs in on its own, the password not needed."""
    if not current_app.config["PASSKEY_SIGN_IN"]:
        abort(404)
    # The page « Se connecter » was asked to come back to, as after a password.
    next_url = page_to_show(request.args.get("next"))
    form = PasskeySignInForm()
    factor = (
        passkeys.authenticate(form.credential.data, None, require_verification=True)
        if form.validate()
        else None
    )
    user = factor.user if factor is not None else None
    for attempt in database.attempts():
        with attempt:
            if user is None or not user.is_active:
                audit.record(Event.SIGN_IN, user, Outcome.FAILURE, method="passkey")
                return page(
                    "auth/login.html",
                    422,
                    form=LoginForm(formdata=None),
                    next_url=next_url,
                    passkey_failed=True,
                )
            audit.record(Event.SIGN_IN, user, method="passkey")
    sign_in(user)
    factors.mark_verified()
    return full_redirect(next_url or url_for("structure.choose"))


@renders("second_factor.verify_step")
def second_step(
    status: int = 200, form: SecondStepForm | None = None, method: str | None = None, spent: bool = False
):
    user = verify.pending_user()
    methods = _methods(user)
    if form is not None:
        method = form.method.data
    method = method or request.args.get("methode")
    if method not in methods:
        method = methods[0]
    form = form or SecondStepForm(formdata=None)
    form.for_method(method)
    return page(
        "auth/second_factor.html",
        status,
        form=form,
        method=method,
        methods=methods,
        email=user.email,
        minutes=email_code.ttl_minutes(),
        spent=spent,
    )


def _without_factor(user):
    """The account's last factor was removed while its second step was open
    (in another session, by an operator): as an account without a factor, it
    signs in with the password it gave (views/auth.py), and is led to
    enrolment where the policy requires a factor (views/factors.py gate),
    as for an operator without one on « Administration »."""
    next_url, password_at = verify.pending_next(), verify.pending_since()
    verify.finish()
    if not current_user.is_authenticated or current_user.id != user.id:
        sign_in(user)
        if password_at is not None:
            factors.mark_reauthenticated(at=password_at)
    flash(str(NO_FACTOR_LEFT), "info")
    if factors.needs_enrolment(user):
        return full_redirect(url_for("factors.show"))
    return full_redirect(next_url or url_for("structure.choose"))


def _expired():
    flash(str(EXPIRED), "error")
    return full_redirect(url_for("auth.login"))
