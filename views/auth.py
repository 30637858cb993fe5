"""« Se connecter » and « Se déconnecter »."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

import accounts
import audit
import database
import devices
import factors
import sessions
from audit import Event
from factors import trust, verify
from forms.auth import LoginForm
from security import form_email, limit, limits
from views import advance, full_redirect, invalid, page, page_to_show, shared_page, sign_in

bp = Blueprint("auth", __name__)

# Said of every refusal alike (an unknown address, a wrong password, an
# account paused after failures), so it tells nobody which one it was; it
# says the pause exists, since the right password is refused during it.
FAILED = _l(
    "Adresse e-mail ou mot de passe incorrect. Après plusieurs essais manqués, la connexion reste "
    "suspendue quelques minutes, même avec le bon mot de passe."
)


@bp.route("/connexion", methods=["GET", "POST"])
@limits("SIGN_IN", email=form_email, exempt=lambda: devices.known_account(form_email()) is not None)
@limit("SIGN_IN_DEVICE", key=lambda: _known_device_id(form_email()))
def login():
    next_url = page_to_show(request.values.get("next"))  # a page a GET shows, of this site
    if request.method == "GET":
        return shared_page("auth/login.html", lambda: {"form": LoginForm(), "next_url": next_url})
    form = LoginForm()
    if not form.is_submitted():
        return page("auth/login.html", form=form, next_url=next_url)
    if not form.validate():
        return invalid("auth/login.html", form=form, next_url=next_url)
    user = accounts.authenticate(form.email.data, form.password.data, known_device=devices.is_known)
    if user is None:
        # One message whatever the reason (see accounts.authenticate).
        form.form_errors.append(str(FAILED))
        return invalid("auth/login.html", form=form, next_url=next_url)
    if factors.has_second_factor(user):
        if not trust.is_trusted(user):
            # The password was right; the second factor is asked next, in place.
            verify.begin(user, next_url)
            return advance("second_factor.verify_step")
        verify.record_trusted_device(user)
    sign_in(user)
    factors.mark_reauthenticated()
    if factors.needs_enrolment(user):
        return full_redirect(url_for("factors.show"))
    return full_redirect(next_url or url_for("structure.choose"))


@bp.post("/deconnexion")
def logout():
    if current_user.is_authenticated:
        for attempt in database.attempts():
            with attempt:
                audit.record(Event.SIGN_OUT, current_user._get_current_object())
    sessions.end()  # this session only: the device cookie stays
    flash(_("Vous êtes déconnecté."), "info")
    return full_redirect(url_for("main.home"))


def _known_device_id(email: str | None) -> str | None:
    user = devices.known_account(email)
    return devices.device_id(user) if user else None
