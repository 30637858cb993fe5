"""Home page."""

from __future__ import annotations

from flask import Blueprint

from accessibility import load_audit
from views import page, shared_page

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    return shared_page("main/home.html", dict)


@bp.get("/declaration-accessibilite")
def accessibility_statement():
    return page("main/accessibility.html", audit=load_audit())
