"""Home page."""

from __future__ import annotations

from flask import Blueprint

from views import page

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    return page("main/home.html")
