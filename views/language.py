"""The language switch of the header (« English » / « Français »)."""

from __future__ import annotations

from flask import Blueprint, g, request, session, url_for
from flask_login import current_user

import database
import drafts
import i18n
from forms.language import LanguageForm
from security import limit
from views import full_redirect, here, page_to_show, referrer_path

bp = Blueprint("language", __name__)


@bp.post("/langue")
@limit("DRAFT", exempt=LanguageForm.carries_nothing)  # what it carries is kept like a draft
def switch():
    """The chosen language for the rest of the session, and the signed-in
    account's from now on (its mail too); back to the same page, which a
    step's draft refills, or what its form held when the switch was sent
    from it (without JavaScript: ``_carried_back``)."""
    form = LanguageForm()
    page = page_to_show(form.page, referrer_path(), default=url_for("main.home"))
    if form.validate():
        i18n.choose(form.lang.data)
        user = current_user if current_user.is_authenticated else None
        carried = form.carried()
        if user is not None or carried:
            for attempt in database.attempts():
                with attempt:
                    if user is not None:
                        user.choose_language(form.lang.data)
                    if carried:
                        drafts.carry(page, carried, user)
    return full_redirect(page)


@bp.before_app_request
def _carried_back() -> None:
    """The page the switch was sent from, shown again: its forms take back
    what was typed in them (forms.Form). Only a GET, only that page."""
    if drafts.CARRIED_PAGE in session and request.method == "GET":
        account = current_user.id if current_user.is_authenticated else None
        g.carried = drafts.take_carried(here(), account)
