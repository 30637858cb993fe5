"""Home page."""

from __future__ import annotations

from flask import Blueprint

from accessibility import load_audit
from views import page

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    return page("main/home.html")


@bp.get("/declaration-accessibilite")
def accessibility_statement():
    return page("main/accessibility.html", audit=load_audit())
