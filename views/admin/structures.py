"""« Administration »: structures — search, a page per structure with its
members, and the operators' actions on it (part of the ``admin`` blueprint)."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import operations
from forms.admin import ActionForm
from forms.structure import DesignateForm, StructureEditForm
from models import Membership, Structure
from structures import AccountClosed, ChangedMeanwhile, Closed
from views import CLOSED, account_closed, checked_again_once, invalid, page, renders
from views.admin import action_limit, bp, checked_action, done, operator, refused, row_or_404, search_page

OWN_REQUEST = _l(
    "Vous ne pouvez ni décider votre propre demande ni vous désigner gestionnaire principal : "
    "un autre opérateur le fait. Rien n'a été modifié."
)


@bp.get("/structures")
def structures():
    pending, pending_count = operations.pending_structures()
    return search_page(
        "admin/structures.html",
        operations.search_structures,
        pending_structures=pending,
        pending_count=pending_count,
    )


def _structure(structure_id: int) -> Structure:
    return row_or_404(Structure, structure_id)


@renders("admin.structure")
def structure_page(structure_id: int, designate: DesignateForm | None = None, status: int = 200):
    structure = _structure(structure_id)
    members = structure.active_members()
    return page(
        "admin/structure.html",
        status,
        structure=structure,
        members=members,
        pending=Membership.pending_for([structure]),
        unmanaged=structure.manager() is None,
        designate=designate or DesignateForm(formdata=None, members=members),
        action=ActionForm(formdata=None),
    )


def _back(structure: Structure) -> dict:
    """Where an action on a structure leads: its page."""
    return {"endpoint": "admin.structure", "structure_id": structure.id}


@bp.get("/structures/<id:structure_id>/")
def structure(structure_id: int):
    return structure_page(structure_id)


@bp.post("/structures/<id:structure_id>/gestionnaire")
@action_limit
def designate(structure_id: int):
    structure = _structure(structure_id)
    form = DesignateForm(members=structure.active_members())
    if not form.validate():
        holder = form.chosen_holder()
        if holder is not None:  # sent twice, or by another operator meanwhile
            return _already_manager(structure, holder)
        if not form.candidates:  # the one chosen left meanwhile
            return refused(
                _("Personne n'a été désigné : aucun autre membre actif ne peut recevoir ce rôle."),
                **_back(structure),
            )
        return structure_page(structure.id, designate=form, status=422)
    try:
        membership = operations.designate_manager(operator(), structure, form.member.data)
    except operations.AlreadyManager as already:  # designated by a request sent at the same time
        return _already_manager(structure, already.membership)
    except operations.OwnRequest:
        return refused(str(OWN_REQUEST), **_back(structure))
    if membership is None:
        abort(409)
    return done(
        _("%(name)s est désormais gestionnaire principal de la structure.", name=membership.user.full_name),
        **_back(structure),
    )


def _already_manager(structure: Structure, membership: Membership):
    return refused(
        _(
            "%(name)s est déjà gestionnaire principal de la structure : rien n'a été modifié.",
            name=membership.user.full_name,
        ),
        **_back(structure),
    )


@bp.route("/structures/<id:structure_id>/modifier", methods=["GET", "POST"])
@action_limit
@checked_again_once(ChangedMeanwhile)
def edit(structure_id: int):
    structure = _structure(structure_id)
    form = StructureEditForm(structure=structure)
    if not form.is_submitted():
        return page("admin/structure_edit.html", form=form, structure=structure)
    if not form.validate():
        return invalid("admin/structure_edit.html", form=form, structure=structure)
    changed = operations.update_structure(operator(), structure, form.details())
    if not changed:
        return refused(_("Aucune modification à enregistrer."), **_back(structure))
    return done(_("Les informations de la structure ont été corrigées."), **_back(structure))


@bp.post("/structures/<id:structure_id>/desactiver")
@action_limit
def disable_structure(structure_id: int):
    checked_action()
    structure = _structure(structure_id)
    if operations.disable_structure(operator(), structure):
        return done(
            _(
                "La structure est désactivée : elle ne reçoit plus de demande de rattachement ; "
                "son gestionnaire principal est prévenu."
            ),
            **_back(structure),
        )
    return refused(_("La structure est déjà désactivée."), **_back(structure))


@bp.post("/structures/<id:structure_id>/reactiver")
@action_limit
def enable_structure(structure_id: int):
    checked_action()
    structure = _structure(structure_id)
    if operations.enable_structure(operator(), structure):
        return done(
            _("La structure est réactivée ; son gestionnaire principal est prévenu."), **_back(structure)
        )
    return refused(_("La structure n'est pas désactivée."), **_back(structure))


@bp.post("/structures/<id:structure_id>/valider")
@action_limit
def approve_structure(structure_id: int):
    return _moderate(structure_id, approve=True)


@bp.post("/structures/<id:structure_id>/refuser")
@action_limit
def refuse_structure(structure_id: int):
    return _moderate(structure_id, approve=False)


def _moderate(structure_id: int, approve: bool):
    checked_action()
    structure = _structure(structure_id)
    if not operations.moderate(operator(), structure, approve):
        return refused(_("Cette structure n'est pas en attente de validation."), **_back(structure))
    if approve:
        return done(
            _("La structure est validée ; son gestionnaire principal est prévenu."), **_back(structure)
        )
    return done(_("La structure est refusée ; son gestionnaire principal est prévenu."), **_back(structure))


@bp.post("/structures/<id:structure_id>/demandes/<id:membership_id>/<any(approuver, refuser):decision>")
@action_limit
def decide_request(structure_id: int, membership_id: int, decision: str):
    """A request to a structure without an active gestionnaire principal."""
    checked_action()
    structure = _structure(structure_id)
    approve = decision == "approuver"
    try:
        decided = operations.decide_request(operator(), structure, membership_id, approve)
    except Closed:
        return refused(str(CLOSED), **_back(structure))
    except AccountClosed as closed:  # closed since the page was opened
        return refused(account_closed(closed.requester.full_name), **_back(structure))
    except operations.OwnRequest:
        return refused(str(OWN_REQUEST), **_back(structure))
    if not decided:
        return refused(_("Cette demande n'attend plus de décision des opérateurs."), **_back(structure))
    return done(
        _("La demande de rattachement est acceptée.")
        if approve
        else _("La demande de rattachement est refusée."),
        **_back(structure),
    )
