"""« Mise à jour du mot de passe », opened from the activation mail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

import accounts
import drafts
import factors
from forms.account import ActivationForm
from rules.passwords import password_checks
from security import ContactLinks, limit
from views import JUST_ACTIVATED, advance, blank_password_fields, invalid, page, sign_in, tell_next_page

bp = Blueprint("activation", __name__)

# The contact e-mail's link held back by its limits (security.ContactLinks):
# the account is active all the same.
CONTACT_LINK_WITHHELD = _l(
    "Trop de liens de confirmation ont été envoyés : aucun lien n'est parti vers votre adresse de "
    "contact. Les notifications vous parviendront à votre adresse de connexion ; demandez un lien plus "
    "tard depuis « Mon compte »."
)


@bp.route("/activation/<token>", methods=["GET", "POST"])
@limit("ACTIVATION_LINK")  # each POST of a valid link costs a password hash
def set_password(token: str):
    # Opening the link changes nothing: only the POST consumes the token.
    user = accounts.pending_activation(token)
    if user is None:
        return _no_longer_valid(token)
    # The details the account will be saved with, shown to be checked: they
    # are those of the latest sign-up, which anyone could have typed.
    form = ActivationForm(obj=user, login_email=user.email)
    context = {"form": form, "user": user, "checks": password_checks("")}
    if not form.is_submitted():
        return page("activation/set_password.html", **context, password_fields=blank_password_fields(form))
    if not form.validate():
        return invalid("activation/set_password.html", **context)
    links = ContactLinks()
    user = accounts.activate(token, form.password.data, form.details(), links)
    if user is None:
        return _no_longer_valid(token)
    drafts.forget_signup_sent()  # before sign_in starts a new session
    sign_in(user)
    if links.withheld:  # in the new session
        flash(str(CONTACT_LINK_WITHHELD), "error")
    factors.mark_reauthenticated()
    tell_next_page(JUST_ACTIVATED)  # step 5, after the enrolment when there is one
    if factors.needs_enrolment(user):
        # FLASK_TWO_FACTOR_POLICY=all: enrolment is step 4b of the flow.
        session[factors.FLOW_KEY] = True
        return advance("factors.show")
    return advance("structure.choose")


def _no_longer_valid(token: str):
    """A link that activates nothing now. Opened again by its own account,
    signed in here (Back or a reload after « Soumettre », a second click):
    that account goes on to the step it is at, rather than being told to ask
    for a new link or to sign in."""
    if current_user.is_authenticated and accounts.activated_with(token, current_user):
        flash(_("Votre compte est déjà activé."), "info")
        if request.method == "POST":
            return advance("structure.choose")
        return redirect(url_for("structure.choose"), 303)
    return page("activation/invalid_link.html", 410)


@bp.post("/mot-de-passe/regles")
def password_rules():
    """The rule's checklist for what is typed so far (live, under htmx)."""
    return render_template("_password/rules.html", checks=password_checks(request.form.get("password", "")))
