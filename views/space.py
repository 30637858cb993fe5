"""« Mon espace »: the signed-in user's structures, roles and requests."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

import structures
from models import Membership
from rules.identifiers import SIRET
from security import account_limits
from sirene import directory
from views import JUST_ATTACHED, advance, in_place, page, renders, told

bp = Blueprint("space", __name__, url_prefix="/espace")


@bp.get("/")
@login_required
def home():
    return space_page()


@renders("space.home")
def space_page(status: int = 200):
    memberships = Membership.of_user(current_user, Membership.ACTIVE)
    managed = Membership.managed_among(memberships)
    pending, ended = structures.requests_in_view(current_user)
    return page(
        "space/home.html",
        status,
        memberships=memberships,
        just_attached=told(JUST_ATTACHED),
        requests=pending,
        ended=ended,
        ended_days=structures.ENDED_SHOWN_DAYS,
        managed=managed,
        to_decide=Membership.to_decide(current_user) if managed else 0,
        closed=directory.closed([s.identifier for s in managed if s.identifier_type == SIRET]),
    )


@bp.post("/demandes/<id:membership_id>/annuler")
@login_required
@account_limits("CANCEL")
def cancel(membership_id: int):
    """The requester withdraws a pending request: under htmx its row is
    swapped in place, otherwise back to « Mon espace »."""
    membership = Membership.get_or_none(Membership.id == membership_id)
    if membership is None or membership.user_id != current_user.id:
        abort(404)  # someone else's request answers as one that does not exist
    cancelled = structures.cancel(membership, current_user)
    membership = Membership.get_by_id(membership_id)
    if cancelled:
        message = _("Votre demande de rattachement est annulée.")
    else:
        message = _("Cette demande a déjà été traitée : elle ne peut plus être annulée.")
    flash(message, "success" if cancelled else "error")
    if request.htmx:
        status = 200 if cancelled else 409
        return in_place("space/_request_row.html", status, item=membership, message=message)
    return advance(".home")
