"""« Approbations »: the gestionnaire principal decides on attachment requests."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

import i18n
import structures
from models import Membership, Structure
from views import CLOSED, account_closed, advance, in_place, not_the_manager, page, renders, turn_away

bp = Blueprint("approvals", __name__, url_prefix="/approbations")


@bp.get("/")
@login_required
def index():
    return approvals_page()


@renders("approvals.index")
def approvals_page():
    managed = Membership.managed_structures(current_user)
    if not managed:
        abort(403)
    return page("approvals/index.html", managed=managed, requests=Membership.pending_for(managed))


@bp.post("/<id:membership_id>/approuver")
@login_required
def approve(membership_id: int):
    return _decide(membership_id, approve=True)


@bp.post("/<id:membership_id>/refuser")
@login_required
def refuse(membership_id: int):
    return _decide(membership_id, approve=False)


def _decide(membership_id: int, approve: bool):
    """A decision on a request. A form from a page opened before the person
    handed the role over (another tab, Back) is answered in words: they are
    still a member of the structure, which tells them nothing new. Anyone
    who is not gets the 404 of an id that no request has: an id does not
    tell whether it exists. An approval that the structure (closed) or the
    requester's account (closed since) no longer allows is answered in
    words too, the request still pending."""
    membership = Membership.get_or_none(Membership.id == membership_id)
    structure = None if membership is None else Structure.get_by_id(membership.structure_id)
    if structure is None or structure.membership_of(current_user) is None:
        abort(404)
    try:
        decided = structures.decide(membership, current_user, approve)
    except structures.NotManager:
        # « Approbations » when they still manage another structure, else « Mon espace ».
        still = ".index" if Membership.managed_structures(current_user) else "space.home"
        return turn_away(not_the_manager(structure.company_name), still)
    except structures.Closed:
        decided, message = False, str(CLOSED)
    except structures.AccountClosed as closed:  # an operator closed it since the page was opened
        decided, message = False, account_closed(closed.requester.full_name)
    else:
        message = None
    membership = Membership.get_or_none(Membership.id == membership_id)
    if membership is None:  # its account was deleted meanwhile: the list, without it
        flash(_("Cette demande n'existe plus : son auteur a supprimé son compte."), "error")
        return advance(".index")
    if message is None:
        message = _decision_message(membership.user, structure, decided, approve)
    flash(message, "success" if decided else "error")
    if request.htmx:  # the row replaces itself with the decision
        return in_place("approvals/_row.html", 200 if decided else 409, item=membership, message=message)
    return advance(".index")


def _decision_message(requester, structure: Structure, decided: bool, approve: bool) -> str:
    """What the manager is told of a decision that was taken, or found taken already."""
    if decided and approve:
        return _(
            "%(name)s est désormais rattaché à la structure %(structure)s.",
            name=requester.full_name,
            structure=structure.company_name,
        )
    if decided:
        return _("La demande %(of_name)s est refusée.", of_name=i18n.of_person(requester.full_name))
    return _("Cette demande a déjà été traitée ou annulée.")
