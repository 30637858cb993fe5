"""« Mon compte »: identity, survey consent and password of the signed-in user."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, g, redirect, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

import accounts
import audit
import database
import drafts
import factors
import sessions
from audit import Event
from forms.account import ChangePasswordForm, ConfirmForm, ProfileForm, SurveyConsentForm
from models import User
from rules.email import shown_email
from rules.passwords import password_checks
from security import ContactLinks, account_limits, limit, limits, password_retyped
from views import advance, checked_again_once, draft_saved, full_redirect, page, renders, shown_at, sign_in

bp = Blueprint("account", __name__, url_prefix="/mon-compte")

CONFIRMED_KEY = "contact_confirmed"  # in the session: this browser confirmed a contact address
CURRENT_MISMATCH = _l("Le mot de passe actuel est incorrect.")


# The links confirming a contact e-mail are limited by client address, by
# account and by address (security.ContactLinks): « Mon compte » would
# otherwise mail any address without end. One message whichever limit.
TOO_MANY_LINKS = _l(
    "Trop de liens de confirmation ont été envoyés : aucun nouveau lien n'est parti. "
    "Demandez-en un plus tard avec « Renvoyer le lien de confirmation »."
)
# Nothing of the form is saved then (accounts.update_profile): the other
# changes sent with the address neither, which the message says.
TOO_MANY_LINKS_FIELD = _l(
    "Trop de liens de confirmation ont été envoyés : cette adresse n'est pas enregistrée, aucun lien "
    "ne lui a été envoyé, et aucune de vos modifications n'est enregistrée. Réessayez plus tard ; "
    "votre adresse de contact actuelle reste en place."
)


def _user() -> User:
    return current_user._get_current_object()


def _signed_in_email() -> str | None:
    return current_user.email if current_user.is_authenticated else None


@bp.get("/")
@login_required
def show():
    return account_step()


@bp.post("/informations")
@login_required
@account_limits("ACCOUNT_CHANGE")
@checked_again_once(accounts.ChangedMeanwhile)
def profile():
    form = ProfileForm(user=_user())
    if not form.validate():
        _keep_profile(form)
        return account_step(422, profile=form)
    user = _user()
    saved = accounts.update_profile(user, form.profile_data(user.email), ContactLinks())
    if saved.too_many_links:
        form.contact_email.errors = [str(TOO_MANY_LINKS_FIELD)]
        _keep_profile(form)
        return account_step(422, profile=form)
    drafts.delete(drafts.ACCOUNT, user)
    flash(
        _("Vos informations ont été enregistrées.")
        if saved.changed
        else _("Aucune modification à enregistrer."),
        "success" if saved.changed else "info",
    )
    if "contact_email" in saved.changed and not user.contact_email_confirmed:
        flash(
            _(
                "Un lien de confirmation a été envoyé à %(email)s. Les notifications vous parviendront à "
                "cette adresse une fois confirmée ; d'ici là, à votre adresse de connexion.",
                email=shown_email(_user().contact_email),
            ),
            "info",
        )
    return advance(".show")


def _keep_profile(form: ProfileForm):
    return drafts.save(drafts.ACCOUNT, drafts.typed(form, ProfileForm.DRAFTED), _user())


@bp.post("/informations/brouillon")
@login_required
@limit("DRAFT")
def profile_draft():
    """« Informations personnelles » as typed: autosave (htmx) or its button."""
    return draft_saved(_keep_profile(ProfileForm(user=_user())), ".show")


@bp.post("/informations/brouillon/abandonner")
@login_required
@limit("DRAFT")
def discard_profile_draft():
    """« Abandonner le brouillon »: edits typed earlier and not saved are
    forgotten, and the page shows the information as stored."""
    drafts.delete(drafts.ACCOUNT, _user())
    flash(_("Le brouillon est abandonné : vos informations enregistrées sont affichées."), "info")
    return advance(".show")


@bp.post("/enquete")
@login_required
@account_limits("ACCOUNT_CHANGE")
def survey_consent():
    form = SurveyConsentForm()
    if not form.validate():
        return account_step(422, consent=form)
    consent = bool(form.survey_consent.data)
    accounts.set_survey_consent(_user(), consent)
    flash(
        _("Vous recevrez l'enquête de satisfaction.")
        if consent
        else _("Votre consentement est retiré : vous ne recevrez pas l'enquête de satisfaction."),
        "success",
    )
    return advance(".show")


def _reads_password_form(view):
    """The password change as sent, read and checked once, before its limits:
    they ask whether the current password will be checked, and only read the
    answer (an error raised inside Flask-Limiter's check would be taken for
    its store failing)."""

    @wraps(view)
    def read(*args, **kwargs):
        form = ChangePasswordForm(context=accounts.password_context(_user()))
        g.password_form, g.password_form_valid = form, form.validate()
        return view(*args, **kwargs)

    return read


def _current_password_to_check() -> bool:
    """For the password change's limits: only a form whose current password
    will be checked (a hash, a guess) is counted, not one refused before (a
    field left empty, a confirmation that differs), which a person may
    send several times while mending it. Decided before the view, so that
    the count is taken at once with its test."""
    return g.password_form_valid


# The allowance shared by every form that checks the password is counted
# last (Flask-Limiter hits a route's limits in the order they are declared,
# outermost last, within one time unit): a request another limit refuses
# checks no password and must not spend it.
@bp.post("/mot-de-passe")
@login_required
@_reads_password_form
@password_retyped(counted_when=_current_password_to_check)
@limits("PASSWORD_CHANGE", email=_signed_in_email, counted_when=_current_password_to_check)
def password():
    user = _user()
    form = g.password_form
    if not g.password_form_valid:
        return account_step(422, password=form)
    if not accounts.change_password(user, form.current_password.data, form.password.data):
        form.current_password.errors = [str(CURRENT_MISMATCH)]
        return account_step(422, password=form)
    # Every session of the account has ended; this one goes on, as it was:
    # the password was just given, and its second step, if passed, stands.
    verified_at = factors.verified_at()
    sign_in(user)
    factors.mark_reauthenticated()
    if verified_at is not None:
        factors.mark_verified(verified_at)
    flash(_("Votre mot de passe a été modifié. Vos autres sessions ont été fermées."), "success")
    return advance(".show")


@bp.post("/deconnexion-partout")
@login_required
def sign_out_everywhere():
    """« Se déconnecter partout »: every session of the account ends, this one
    included, and every browser loses its device cookie for the account."""
    user = _user()
    for attempt in database.attempts():
        with attempt:
            audit.record(Event.SIGN_OUT_EVERYWHERE, user)
    sessions.end_everywhere(user)
    flash(_("Vous êtes déconnecté de tous vos appareils."), "info")
    return full_redirect(url_for("main.home"))


@bp.post("/adresse-de-contact/renvoyer")
@login_required
# The links it mails are counted by ContactLinks (per address, account and
# client); this counts the requests, apart from the password's change.
@limit("RESEND")
def resend_contact():
    user = _user()
    sent = accounts.resend_contact_confirmation(user, ContactLinks())
    if sent is False:
        flash(str(TOO_MANY_LINKS), "error")
    elif sent:
        sent = _(
            "Un nouveau lien de confirmation a été envoyé à %(email)s.",
            email=shown_email(_user().contact_email),
        )
        flash(sent, "success")
    else:  # confirmed meanwhile (another tab, the link opened), or changed back to the login e-mail
        flash(_("L'adresse de contact est déjà confirmée : aucun lien n'a été envoyé."), "info")
    return advance(".show")


@bp.route("/adresse-de-contact/<token>", methods=["GET", "POST"])
@limit("CONTACT_LINK")
def confirm_contact(token: str):
    """The link mailed to a contact e-mail. Opening it changes nothing: only
    the POST (« Confirmer l'adresse ») consumes it. No sign-in needed: the
    link itself shows that the address's mailbox received it."""
    user = accounts.pending_contact(token)
    if user is None:
        return page("account/contact_invalid_link.html", 410)
    form = ConfirmForm()
    if not form.is_submitted():
        return page("account/confirm_contact.html", form=form, user=user)
    if not form.validate() or accounts.confirm_contact(token) is None:
        return page("account/contact_invalid_link.html", 410)
    session[CONFIRMED_KEY] = True
    return advance(".contact_confirmed")


@bp.get("/adresse-de-contact/confirmee")
def contact_confirmed():
    """Says an address was confirmed: only to the browser that confirmed one."""
    if not session.get(CONFIRMED_KEY):
        return redirect(url_for("main.home"), 303)
    return _contact_confirmed_step()


@renders("account.contact_confirmed")
def _contact_confirmed_step():
    return page("account/contact_confirmed.html")


@renders("account.show")
def account_step(status: int = 200, profile=None, consent=None, password=None):
    """The page with its three forms; the one just submitted keeps what was
    typed and its errors, the others show the account as stored."""
    shown_at(url_for("account.show"))  # also after a form's POST refused, at its own address
    user = _user()
    kept, saved_at = drafts.load(drafts.ACCOUNT, user)
    from_draft = profile is None and bool(kept)  # said above the form, with a way back to what is stored
    if from_draft:  # edits typed earlier and not yet saved, and what they were typed over
        stored = {name: getattr(user, name) for name in ProfileForm.FIELDS}
        drafted = drafts.fill(kept, ProfileForm.DRAFTED)
        profile = ProfileForm(formdata=None, data={**stored, **drafted}, user=user)
    profile = profile or ProfileForm(formdata=None, obj=user, user=user)
    consent = consent or SurveyConsentForm(formdata=None, survey_consent=user.survey_consent)
    password = password or ChangePasswordForm(formdata=None)
    return page(
        "account/show.html",
        status,
        user=user,
        profile=profile,
        consent=consent,
        password=password,
        checks=password_checks(""),
        saved_at=saved_at,
        from_draft=from_draft,
        has_second_factor=factors.has_second_factor(user),
    )
