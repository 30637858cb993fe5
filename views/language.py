"""The language switch of the header (« English » / « Français »)."""

from __future__ import annotations

from flask import Blueprint, url_for
from flask_login import current_user

import i18n
from forms.language import LanguageForm
from models import db
from views import full_redirect, page_to_show, referrer_path

bp = Blueprint("language", __name__)


@bp.post("/langue")
def switch():
    """The chosen language for the rest of the session, and the signed-in
    account's from now on (its mail too); back to the same page, which a
    step's draft refills."""
    form = LanguageForm()
    if form.validate():
        i18n.choose(form.lang.data)
        if current_user.is_authenticated:
            with db.atomic():
                current_user.choose_language(form.lang.data)
    return full_redirect(page_to_show(form.next.data, referrer_path(), default=url_for("main.home")))
