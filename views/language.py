"""The language switch of the header (« English » / « Français »)."""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

import i18n
from forms.language import LanguageForm
from models import db
from views import full_redirect, safe_next

bp = Blueprint("language", __name__)


def _page_to_show(*candidates: str | None) -> str:
    """The first candidate that is a page of this site (a path a GET
    answers), else the home page. A step's POST address, where a failed
    submit was shown, is no page to come back to."""
    adapter = current_app.url_map.bind("")
    for candidate in candidates:
        path = safe_next(candidate)
        if path is None:
            continue
        try:
            adapter.match(path.split("?", 1)[0], method="GET")
        except HTTPException:
            continue
        return path
    return url_for("main.home")


def _referrer_path() -> str | None:
    referrer = request.referrer
    if not referrer or not referrer.startswith(request.host_url):
        return None
    return "/" + referrer[len(request.host_url) :]


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
    return full_redirect(_page_to_show(form.next.data, _referrer_path()))
