"""« Vérification en deux étapes » in « Mon compte »: the account's second
factors, adding an authenticator app or codes by e-mail, recovery codes,
removing a factor. Every change asks for the password again (valid
``REAUTH_MINUTES``), and once the account has a factor, one of them passed
in the session (``_a_factor_passed_first``); it mails a notification."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

import database
import drafts
import factors
from factors import email_code, manage, passkeys, recovery, shown_codes, totp, verify
from forms.second_factor import (
    CODE_LABELS,
    CODE_SPENT,
    WRONG_MAILED_CODE,
    CodeForm,
    ConfirmForm,
    PasskeyForm,
    ReauthForm,
    RemoveFactorForm,
)
from models import SecondFactor, User
from security import account_limits, limits, password_retyped
from views import advance, full_redirect, kept_until_verified, page, renders

bp = Blueprint("factors", __name__, url_prefix="/mon-compte/verification-en-deux-etapes")

PASSWORD_MISMATCH = _l("Le mot de passe est incorrect.")
WRONG_CODE = _l("Ce code est incorrect ou a expiré. Vérifiez-le et réessayez.")
PASSKEY_FAILED = _l(
    "La clé d'accès n'a pas pu être enregistrée. Réessayez, ou choisissez une autre méthode : "
    "la création d'une clé d'accès demande un navigateur récent avec JavaScript activé."
)
PASSKEY_TAKEN = _l(
    "Cette clé d'accès est déjà enregistrée. Choisissez une autre clé d'accès, ou une autre méthode."
)
CODES_GONE = _l(
    "Vos codes de secours ne sont plus affichés. Si vous ne les avez pas conservés, "
    "générez-en de nouveaux sur cette page."
)
CODES_GONE_IN_SIGN_UP = _l(
    "Vos codes de secours ne sont plus affichés. Si vous ne les avez pas conservés, générez-en de "
    "nouveaux depuis Mon compte, « Vérification en deux étapes »."
)
LAST_FACTOR = _l(
    "Vous ne pouvez pas retirer votre dernière méthode : la vérification en deux étapes "
    "est obligatoire pour votre compte. Ajoutez-en une autre avant de retirer celle-ci."
)


# The authenticator app this session began to add (its SecondFactor id).
TOTP_BEGUN = "totp_begun"


def _user() -> User:
    return current_user._get_current_object()


def _signed_in_email() -> str | None:
    return current_user.email if current_user.is_authenticated else None


# An enrolment finished after the password's confirmation has lapsed.
REAUTH_AGAIN = _l(
    "Votre mot de passe a été confirmé il y a plus de %(minutes)s minutes : confirmez-le à nouveau, "
    "puis reprenez l'ajout de la méthode.",
    minutes=factors.REAUTH_MINUTES,
)


def _reauthenticated() -> bool:
    return factors.reauthenticated()


# Where a signed-in account that must enrol may still go: besides
# enrolment itself, what any visitor may read (the terms, the legal notice,
# the accessibility statement), the language, « Mon compte » and its forms
# (the person's own details, the survey consent withdrawn as easily as it
# was given, and what secures an account one fears is known to someone
# else: a new password, « Se déconnecter partout »), the link that confirms
# a contact address, and the person's rights over their data (to see it, to
# take it, to erase it: the password they signed in with is all the
# account has yet, and enough to enrol a second factor anyway). The
# portal's own work (structures, requests, the console) waits for enrolment.
OPEN_TO_UNENROLLED = frozenset({
    "static", "auth.logout", "main.home", "main.accessibility_statement", "main.site_map",
    "legal.terms", "legal.notice", "language.switch",
    "account.show", "account.profile", "account.profile_draft", "account.survey_consent", "account.password",
    "account.sign_out_everywhere", "account.resend_contact",
    "account.confirm_contact", "account.contact_confirmed",
    "rights.data", "rights.data_file", "rights.delete", "rights.confirm_delete",
})  # fmt: skip


@bp.before_app_request
def _enrolment_gate():
    """Under a policy that requires a second factor, an account without one
    is led to enrolment before anything else."""
    endpoint = request.endpoint or ""
    if not current_user.is_authenticated or endpoint.startswith("factors.") or endpoint in OPEN_TO_UNENROLLED:
        return None
    if not factors.needs_enrolment(_user()):
        return None
    # A form sent (a structure's edit from a page opened before a factor
    # became required): what it held waits on its page until the enrolment is done.
    kept_until_verified(_user())
    # A page, a form sent without htmx (303: never a bare 204, which would
    # leave the browser where it was without a word), or under htmx the
    # whole page.
    return full_redirect(url_for("factors.show"))


# What a session may do here without a factor passed in it, when the
# account has one: read the page and confirm the password. Every change of
# the factors asks for one of them too (``_a_factor_passed_first``).
OPEN_WITHOUT_A_FACTOR = frozenset({"factors.show", "factors.reauthenticate", "factors.recovery_codes"})

FACTOR_FIRST = _l(
    "Pour modifier vos méthodes de vérification, confirmez d'abord votre identité avec l'une d'elles."
)


@bp.before_request
def _a_factor_passed_first():
    """An account that has a second factor changes its factors (adds one,
    replaces its app, renews its recovery codes, removes one) only from a
    session that passed one of them: the password alone is not enough. A
    session signed in on a trusted device, or before the account enrolled
    elsewhere, has not: with the password, it would otherwise replace the
    owner's app, make recovery codes that work from anywhere, and, marked as
    having passed a factor by the enrolment, open « Administration ». It is
    led to the second step, which comes back to this page."""
    if request.endpoint in OPEN_WITHOUT_A_FACTOR or not current_user.is_authenticated:
        return None
    user = _user()
    if not factors.has_second_factor(user) or factors.verified_in_session():
        return None
    verify.begin(user, url_for(".show"), password=False)
    flash(str(FACTOR_FIRST), "info")
    return full_redirect(url_for("second_factor.verify_step"))


@bp.before_app_request
def _forget_expired_codes():
    shown_codes.forget_expired()


@bp.get("/")
@login_required
def show():
    return factors_step()


@bp.post("/confirmer")
@login_required
@password_retyped()  # counted last: see views.account.password
@limits("SECOND_FACTOR_REAUTH", email=_signed_in_email)
def reauthenticate():
    form = ReauthForm()
    if not form.validate():
        return factors_step(422, reauth=form)
    if not manage.reauthenticate(_user(), form.password.data):
        form.password.errors = [str(PASSWORD_MISMATCH)]
        return factors_step(422, reauth=form)
    factors.mark_reauthenticated()
    return advance(".show")


@bp.post("/application")
@login_required
def start_totp():
    if not _reauthenticated() or not ConfirmForm().validate():
        return advance(".show")
    factor, _ = manage.start_totp(_user(), session.get(TOTP_BEGUN))
    session[TOTP_BEGUN] = factor.id
    return advance(".totp")


@bp.get("/application", endpoint="totp")
@login_required
def totp_page():
    return totp_step()


@bp.post("/application/valider")
@login_required
@limits("SECOND_FACTOR", email=_signed_in_email)
def confirm_totp():
    def confirm(user: User, code: str):
        return manage.confirm_totp(user, code, session.get(TOTP_BEGUN))

    return _confirm(CodeForm(), confirm, totp_step, _l("Votre application d'authentification est activée."))


@renders("factors.totp")
def totp_step(status: int = 200, form: CodeForm | None = None):
    user = _user()
    factor = SecondFactor.pending(user, SecondFactor.TOTP)
    # Only the key this session began: never one another left pending.
    secret = totp_secret(factor) if factor is not None and factor.id == session.get(TOTP_BEGUN) else None
    if secret is None or not _reauthenticated():
        return redirect(url_for(".show"), 303)
    form = form or CodeForm(formdata=None)
    return page(
        "factors/totp.html",
        status,
        form=form,
        qr=totp.qr_svg(totp.provisioning_uri(user, secret)),
        secret=totp.grouped(secret),
    )


def totp_secret(factor: SecondFactor | None) -> str | None:
    return totp.secret_of(factor) if factor is not None else None


@bp.post("/e-mail")
@login_required
@limits("EMAIL_CODE", email=_signed_in_email)
def start_email():
    if not _reauthenticated() or not ConfirmForm().validate():
        return advance(".show")
    manage.start_email(_user())
    return advance(".email")


@bp.get("/e-mail", endpoint="email")
@login_required
def email_page():
    return email_step()


@bp.post("/e-mail/valider")
@login_required
@limits("SECOND_FACTOR", email=_signed_in_email)
def confirm_email():
    form = CodeForm()
    form.code.label.text = CODE_LABELS["email"]
    done = _l("Les codes par e-mail sont activés.")
    return _confirm(form, manage.confirm_email, email_step, done, wrong=WRONG_MAILED_CODE)


def _confirm(form: CodeForm, confirm, step, done, wrong=WRONG_CODE):
    """An enrolment finished by a right code; the recovery codes shown once."""
    if not _reauthenticated():
        flash(str(REAUTH_AGAIN), "info")
        return advance(".show")
    if not form.validate():
        return step(422, form=form)
    try:
        codes = confirm(_user(), form.code.data)
    except manage.CodeSpent:
        form.code.errors = [str(CODE_SPENT)]
        return step(422, form=form, spent=True)
    if codes is None:
        form.code.errors = [str(wrong)]
        return step(422, form=form)
    factors.mark_verified()
    flash(str(done), "success")
    return _codes_or_show(codes)


@renders("factors.email")
def email_step(status: int = 200, form: CodeForm | None = None, spent: bool = False):
    user = _user()
    if SecondFactor.pending(user, SecondFactor.EMAIL) is None or not _reauthenticated():
        return redirect(url_for(".show"), 303)
    if form is None:
        form = CodeForm(formdata=None)
        form.code.label.text = CODE_LABELS["email"]
    minutes = email_code.ttl_minutes()
    return page("factors/email.html", status, form=form, email=user.email, minutes=minutes, spent=spent)


@bp.get("/cle-d-acces", endpoint="passkey")
@login_required
def passkey_page():
    return passkey_step()


@bp.post("/cle-d-acces/options")
@login_required
@limits("SECOND_FACTOR", email=_signed_in_email)
def passkey_options():
    """For static/js/passkeys.js: the options of navigator.credentials.create."""
    if not _reauthenticated():
        return {"error": "reauthentication"}, 403
    return Response(passkeys.registration_options(_user()), mimetype="application/json")


@bp.post("/cle-d-acces")
@login_required
@limits("SECOND_FACTOR", email=_signed_in_email)
def add_passkey():
    form = PasskeyForm()
    if not _reauthenticated():
        return advance(".show")
    if not form.validate():
        return passkey_step(422, form=form)
    fields = passkeys.verified_registration(form.credential.data)
    if fields is None:
        form.form_errors.append(str(PASSKEY_FAILED))
        return passkey_step(422, form=form)
    try:
        codes = manage.add_passkey(_user(), form.name.data.strip(), fields)
    except manage.PasskeyTaken:
        form.form_errors.append(str(PASSKEY_TAKEN))
        return passkey_step(422, form=form)
    factors.mark_verified()
    flash(_("La clé d'accès « %(name)s » est enregistrée.", name=form.name.data.strip()), "success")
    return _codes_or_show(codes)


@renders("factors.passkey")
def passkey_step(status: int = 200, form: PasskeyForm | None = None):
    if not _reauthenticated():
        return redirect(url_for(".show"), 303)
    return page("factors/passkey.html", status, form=form or PasskeyForm(formdata=None))


@bp.post("/codes-de-secours")
@login_required
@account_limits("FACTOR_CHANGE")
def regenerate_codes():
    if not _reauthenticated() or not ConfirmForm().validate() or not factors.has_second_factor(_user()):
        return advance(".show")
    codes = manage.regenerate_codes(_user())
    flash(_("Vos nouveaux codes de secours sont prêts ; les anciens ne fonctionnent plus."), "success")
    return _codes_or_show(codes)


@bp.post("/retirer/<id:factor_id>")
@login_required
@account_limits("FACTOR_CHANGE")
def remove(factor_id: int):
    form = RemoveFactorForm()
    if not _reauthenticated() or not form.validate():
        return advance(".show")
    try:
        removed = manage.remove(_user(), factor_id, turn_off=form.turn_off.data)
    except manage.LastFactorRefused:
        return factors_step(409, refusal=str(LAST_FACTOR))
    except manage.TurnsOff as last:  # asked first; its button sends turn_off
        return factors_step(removing=last.factor)
    if removed:
        flash(_("La méthode a été retirée."), "success")
    return advance(".show")


def _codes_or_show(codes: list[str]):
    """New recovery codes go to « Vos codes de secours », which shows them
    until they are noted (factors/shown_codes.py); none: the list, or the
    page of a form sent before the enrolment (``_resumed``)."""
    if not codes:
        return _resumed() or advance(".show")
    shown_codes.keep(_user(), codes, in_flow=session.pop(factors.FLOW_KEY, False))
    return advance(".recovery_codes")


@bp.get("/codes-de-secours")
@login_required
def recovery_codes():
    return recovery_codes_step()


@renders("factors.recovery_codes")
def recovery_codes_step():
    codes = shown_codes.shown(_user())
    if codes is None:
        if shown_codes.forget():  # the sign-up's codes, past their time: its step 5 next
            flash(str(CODES_GONE_IN_SIGN_UP), "info")
            return redirect(url_for("structure.choose"), 303)
        flash(str(CODES_GONE), "info")
        return redirect(url_for(".show"), 303)
    text = "\n".join([_("Codes de secours – chacun ne sert qu'une fois"), "", *codes, ""])
    return page(
        "factors/recovery_codes.html",
        codes=codes,
        text=text,
        minutes=shown_codes.MINUTES,
        form=ConfirmForm(formdata=None),
    )


@bp.post("/codes-de-secours/conserves")
@login_required
def codes_noted():
    """« J'ai conservé mes codes »: they are no longer shown; then the page
    of a form sent before the enrolment, if one waits (``_resumed``)."""
    in_sign_up = shown_codes.forget()
    if (resumed := _resumed()) is not None:
        return resumed
    if in_sign_up:
        return advance("structure.choose")  # step 4b done: step 5
    return advance(".show")


def _resumed():
    """The second factor now enrolled: to the page a form was sent from when
    the enrolment was required (``_enrolment_gate``, the console's gate),
    which takes back what it held (drafts.resume); None when none waits."""
    if not session.get(drafts.RESUME) or not factors.verified_in_session():
        return None
    for attempt in database.attempts():
        with attempt:
            there = drafts.resume(_user())
    return full_redirect(there) if there is not None else None


@renders("factors.show")
def factors_step(
    status: int = 200,
    reauth: ReauthForm | None = None,
    refusal: str | None = None,
    removing: SecondFactor | None = None,
):
    """The methods' page; ``removing``: the account's last method, whose
    removal (two-step verification off) the page asks to confirm."""
    user = _user()
    return page(
        "factors/show.html",
        status,
        user=user,
        factors=factors.factors_of(user),
        name_of=factors.display_name,
        kinds=factors.kinds_of(user),
        required=factors.required_for(user),
        console_needs_one=factors.console_needs_enrolment(user),
        codes_left=recovery.left(user),
        reauthenticated=_reauthenticated(),
        reauth=reauth or ReauthForm(formdata=None),
        refusal=refusal,
        removing=removing,
        in_flow=bool(session.get(factors.FLOW_KEY)) and not factors.has_second_factor(user),
    )
