"""Home page, the accessibility statement and the site map."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from accessibility import load_audit
from models import Membership
from views import page, shared_page

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    return shared_page("main/home.html", dict)


@bp.get("/declaration-accessibilite")
def accessibility_statement():
    return page("main/accessibility.html", audit=load_audit())


@bp.get("/plan-du-site")
def site_map():
    """« Plan du site »: every page a GET shows to this visitor, a second way
    around the portal beside the header's menu (RGAA 12.1)."""
    signed_in = current_user.is_authenticated
    return page(
        "main/site_map.html",
        manages=signed_in and bool(Membership.managed_structures(current_user)),
    )
