"""« Mot de passe oublié ? »: ask for a link, then choose a new password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _

import accounts
import factors
import mailer
import uniform_time
from factors import verify
from forms.account import NewPasswordForm
from forms.auth import EmailRequestForm
from rules.passwords import password_checks
from security import limit, mail_allowed
from views import advance, blank_password_fields, invalid, page, renders, shared_page, sign_in

bp = Blueprint("recovery", __name__, url_prefix="/mot-de-passe-oublie")

SENT_KEY = "reset_sent_to"


@bp.route("/", methods=["GET", "POST"], endpoint="request")
@limit("RESET")
def ask():
    if request.method == "GET":
        return shared_page("recovery/request.html", lambda: {"form": EmailRequestForm()})
    form = EmailRequestForm()
    if not form.is_submitted():
        return page("recovery/request.html", form=form)
    if not form.validate():
        return invalid("recovery/request.html", form=form)
    # The same answer whether or not the address has an account, and whether
    # or not its per-address limit stopped the mail.
    with uniform_time.held("reset") as branch:
        if mail_allowed("RESET_EMAIL", form.email.data):
            branch.slow = accounts.request_reset(form.email.data)
        mailer.kick_queued()  # the delivery thread's start, held too
    session[SENT_KEY] = form.email.data
    return advance(".sent")


@bp.get("/envoye")
def sent():
    if SENT_KEY not in session:
        return redirect(url_for(".request"), 303)
    return _sent_step()


@renders("recovery.sent")
def _sent_step():
    return page("recovery/sent.html", email=session[SENT_KEY])


@bp.route("/<token>", methods=["GET", "POST"])
@limit("RESET_LINK")
def reset(token: str):
    # Opening the link changes nothing: only the POST consumes the token.
    user = accounts.pending_reset(token)
    if user is None:
        return page("recovery/invalid_link.html", 410)
    form = NewPasswordForm(
        context=accounts.password_context(user),
        is_current=lambda password: accounts.is_current_password(user, password),
    )
    context = {"form": form, "user": user, "checks": password_checks("")}
    if not form.is_submitted():
        return page("recovery/reset.html", **context, password_fields=blank_password_fields(form))
    if not form.validate():
        return invalid("recovery/reset.html", **context)
    user = accounts.reset_password(token, form.password.data)
    if user is None:
        return page("recovery/invalid_link.html", 410)
    if factors.has_second_factor(user):
        # A link by e-mail is no second factor: it is still asked.
        verify.begin(user, url_for("account.show"))
        flash(_("Votre mot de passe a été modifié. Confirmez maintenant votre connexion."), "success")
        return advance("second_factor.verify_step")
    # Every other session of the account has ended; this one starts afresh.
    sign_in(user)
    factors.mark_reauthenticated()
    flash(_("Votre mot de passe a été modifié. Vos autres sessions ont été fermées."), "success")
    return advance("account.show")
