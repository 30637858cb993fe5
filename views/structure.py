"""Step 5: attach the account to a structure."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

from views import page

bp = Blueprint("structure", __name__, url_prefix="/structure")


@bp.get("/")
@login_required
def choose():
    return structure_step()


def structure_step():
    return page("structure/choose.html")
