"""Steps 5 and 6: attach the account to a structure, by creating it or by
asking to join it; then the structure's page, its edit and its manager role."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

import drafts
import structures
from forms.structure import (
    MEMBER_LEFT,
    NOT_FOUND,
    AttachmentRequestForm,
    FreshStructureForm,
    HandoverForm,
    SiretForm,
    StructureEditForm,
    StructureForm,
    StructureSearchForm,
)
from models import Membership, Structure
from rules.identifiers import IDENTIFIER_TYPES, SIRET
from rules.places import country_name
from security import account_limits, limit
from sirene import directory
from views import (
    ATTACHED,
    JUST_ACTIVATED,
    advance,
    checked_again_once,
    confirm_attached,
    draft_saved,
    invalid,
    not_the_manager,
    page,
    renders,
    shared_part,
    shown_at,
    told,
    turn_away,
)

bp = Blueprint("structure", __name__, url_prefix="/structure")

TOO_MANY_CREATED = _l(
    "Vous avez déjà créé plusieurs structures aujourd'hui. "
    "Réessayez demain ou contactez l'assistance du portail."
)
ROLES = {Membership.MANAGER: _l("Gestionnaire principal"), Membership.USER: _l("Utilisateur")}
STRUCTURE_STATUSES = {
    Structure.ACTIVE: _l("Active"),
    Structure.PENDING: _l("En attente de validation"),
    Structure.DISABLED: _l("Désactivée"),
}
# Why the gestionnaire principal cannot change a structure that is not active.
NOT_EDITABLE = {
    Structure.PENDING: _l(
        "Cette structure est en attente de validation par l'équipe du portail : "
        "ses informations ne peuvent pas encore être modifiées."
    ),
    Structure.DISABLED: _l(
        "Cette structure est désactivée : ses informations ne peuvent pas être modifiées. "
        "Contactez l'assistance du portail pour la faire réactiver."
    ),
}
# A hand-over refused, by the structure's state: the role is frozen with the
# rest while it is not active; operators designate a gestionnaire principal.
HANDOVER_CLOSED = {
    Structure.PENDING: _l(
        "Cette structure est en attente de validation par l'équipe du portail : "
        "le rôle de gestionnaire principal ne peut pas encore être transféré."
    ),
    Structure.DISABLED: _l(
        "Cette structure est désactivée : le rôle de gestionnaire principal ne peut pas être transféré. "
        "Contactez l'assistance du portail pour la faire réactiver."
    ),
}
STATUSES = {
    Membership.PENDING: _l("En attente"),
    Membership.ACTIVE: _l("Acceptée"),
    Membership.REFUSED: _l("Refusée"),
    Membership.CANCELLED: _l("Annulée"),
    # A request the portal's team closed with its structure (Membership.close).
    Membership.CLOSED: _l("Close par l'équipe du portail"),
}


def request_status(membership: Membership) -> str:
    """How a request's state reads: « Annulée » is the requester's own
    cancel; one closed by the portal's team says so."""
    return STATUSES[membership.status]


def structure_state(structure: Structure) -> str:
    """What follows a structure's name where it is listed: its state when it
    is not active (« (en attente de validation) »), else nothing."""
    if structure.status == Structure.ACTIVE:
        return ""
    return f" ({str(STRUCTURE_STATUSES[structure.status]).lower()})"


@bp.app_context_processor
def _structure_helpers() -> dict:
    return {
        "country_name": country_name,
        "identifier_types": IDENTIFIER_TYPES,
        "role_labels": ROLES,
        "status_labels": STATUSES,
        "request_status": request_status,
        "structure_status_labels": STRUCTURE_STATUSES,
        "structure_state": structure_state,
        "sirene_hint": _sirene_hint,
        "in_sign_up": _in_sign_up,
    }


def _in_sign_up() -> bool:
    """Whether the signed-in person is still in the sign-up's steps (attached
    to no structure yet): only then do steps 5 and 6 show the stepper."""
    return current_user.is_authenticated and not Membership.has_active(current_user)


def _sirene_hint() -> str:
    """The directory's notice, read once per request: step 6's kept fields
    (``_blank_fields``) are kept under the notice their text says."""
    if "sirene_notice" not in g:
        g.sirene_notice = directory.notice()
    return g.sirene_notice


# -- step 5: the choice ---------------------------------------------------------------


@bp.get("/")
@login_required
def choose():
    return structure_step()


@renders("structure.choose")
def structure_step():
    """The choice between creating a structure and asking to join one; a user
    attached to a structure already goes to « Mon espace »."""
    if not _in_sign_up():
        return redirect(url_for("space.home"), 303)
    pending, ended = structures.requests_in_view(current_user)
    return page(
        "structure/choose.html",
        search_form=_blank_search(),
        pending=pending,
        refused=[m for m in ended if m.status == Membership.REFUSED or m.closed_by_portal],
        just_activated=told(JUST_ACTIVATED),
    )


def _blank_search() -> Markup:
    """The attachment search as everybody first sees it, nothing typed:
    drawn once per language (``shared_part``; a GET form, with no token)."""
    return shared_part(
        "structure/_search_form.html", (), lambda: {"form": StructureSearchForm(formdata=None)}
    )


# -- step 6: a new structure -----------------------------------------------------------


def _reads_structure_form(view):
    """Step 6 as sent, read and checked once, before its limits: they ask
    whether it will create a structure (``_creates``), and only read the
    answer (an error raised inside Flask-Limiter's check would be taken for
    its store failing)."""

    @wraps(view)
    def read(*args, **kwargs):
        if request.method == "POST":
            form = StructureForm()
            form.consult_directory()
            valid = form.validate()
            g.structure_form, g.structure_form_valid = form, valid
            g.structure_creates = valid and not form.needs_prefill() and not form.names_a_structure()
        return view(*args, **kwargs)

    return read


def _creates() -> bool:
    """For step 6's limits: only a form that goes on to create its structure
    is counted, not one shown again with its errors, filled from the
    directory, or answered « Cette structure existe déjà » (a person may
    mend a form several times). Decided before the view, so that the count
    is taken at once with its test: creations sent together cannot all pass
    a limit that has room for one. (Asked on a GET too, which Flask-Limiter
    tells exempt first, then uncounted for its method.)"""
    return g.get("structure_creates", False)


@bp.route("/nouvelle", methods=["GET", "POST"])
@login_required
@_reads_structure_form
@account_limits("STRUCTURE_CREATE", counted_when=_creates)
@limit("DRAFT")  # each form sent keeps a draft, or is filled again: bounded as the autosaves are
def create():
    """Step 6. With a SIRENE directory, a known SIRET's first « Soumettre »
    brings the form back filled; the second creates the structure."""
    if request.method == "POST":
        return _submitted(g.structure_form, g.structure_form_valid)
    kept, saved_at = drafts.load(drafts.STRUCTURE, current_user)
    linked = _linked_siret()
    set_aside = None  # a draft for another identifier, named on the page and left as it is
    if linked and kept and not StructureForm.drafted_for(kept, linked):
        set_aside, kept, saved_at = (kept, saved_at), {}, None
    if linked:  # offered by the attachment search: its SIRET, with the draft begun for it (or for none)
        data = {**drafts.fill(kept, _drafted(StructureForm(formdata=None))), "identifier_type": SIRET}
        form = StructureForm(formdata=None, data={**data, "identifier": linked})
    elif kept:  # what was typed last time, as it was typed
        form = StructureForm(formdata=None, data=drafts.fill(kept, _drafted(StructureForm(formdata=None))))
    else:
        form = StructureForm.fresh()
    answer = form.consult_directory()
    if answer and answer.entry and (linked or not kept):
        form.prefill()  # the empty fields; INSEE's other value named under a typed one
    return page(
        "structure/create.html",
        form=form,
        found=form.sirene,
        blank_fields=_blank_fields(form),
        saved_at=saved_at,
        set_aside=set_aside,
        set_aside_mark=drafts.mark(set_aside[1]) if set_aside else "",
    )


def _blank_fields(form: StructureForm | FreshStructureForm):
    """Step 6's fields as everybody first sees them (the form untouched),
    rendered once, from a whole form; else None, and the page renders its own."""
    if not form.untouched():
        return None
    return shared_part(
        "structure/_fieldsets.html", (_sirene_hint(),), lambda: {"form": form.whole(), "found": None}
    )


def _submitted(form: StructureForm, valid: bool):
    """Step 6 sent: the form again (its errors, or filled from the
    directory, or the offer to join a structure already there), or the
    structure created and « Mon espace »."""
    if form.needs_prefill():
        # A SIRET already on the portal is said at once, not after the
        # person has checked the directory's data for nothing.
        existing = Structure.find(SIRET, form.identifier.data)
        if existing is not None and existing.membership_of(current_user) is not None:
            return _already_attached(existing)
        if existing is not None:
            return _offer_to_join(form)
        form.prefill()
        return page("structure/create.html", form=form, found=form.sirene, saved_at=_keep(form))
    if not valid:
        return invalid("structure/create.html", form=form, found=form.sirene, saved_at=_keep(form))
    try:
        structure = structures.create(current_user, form.structure_data())
    except structures.AlreadyYours as done:  # the form sent again once it had created it
        return _already_attached(done.structure)
    except structures.AlreadyExists:
        return _offer_to_join(form)
    except structures.TooManyCreated:
        form.form_errors.append(str(TOO_MANY_CREATED))
        return invalid("structure/create.html", form=form, saved_at=_keep(form))
    _forget_draft()
    assigned = ""
    if structure.kind.internal:
        assigned = " " + _(
            "Identifiant attribué à la structure : %(identifier)s.", identifier=structure.identifier
        )
    if structure.status == Structure.PENDING:
        message = _(
            "Votre structure est créée et en attente de validation par l'équipe du portail. "
            "Vous recevrez un courriel dès qu'elle sera validée."
        )
        flash(message + assigned, "success")
    else:
        confirm_attached(str(ATTACHED) + assigned)
    return advance("space.home")


def _already_attached(structure: Structure):
    _forget_draft()
    flash(_("Vous êtes déjà rattaché à la structure %(name)s.", name=structure.company_name), "info")
    return advance("space.home")


def _offer_to_join(form: StructureForm):
    """Step 6 again, as typed, with « Cette structure existe déjà » and the
    request to join it."""
    form.identifier.errors = [_("Cette structure existe déjà. Vous pouvez demander à y être rattaché.")]
    offer = AttachmentRequestForm(
        formdata=None, identifier_type=form.identifier_type.data, identifier=form.identifier.data
    )
    return invalid("structure/create.html", form=form, offer=offer, saved_at=_keep(form))


def _linked_siret() -> str | None:
    """The SIRET the attachment search's « Créer cette structure » names
    (``?siret=``), bounded: the form checks it as if it had been typed."""
    siret = request.args.get("siret", "").strip()
    return siret[: drafts.MAX_VALUE] or None


def _forget_draft() -> None:
    """The step-6 draft goes once its structure is created or found, except
    the draft the search's link set aside and nothing has replaced since (the
    form came from that page and was sent without a failed « Soumettre » or an
    autosave): it was begun for another structure, and is still to come back."""
    drafts.delete(drafts.STRUCTURE, current_user, unless_saved_at=request.form.get("set_aside", ""))


def _drafted(form: StructureForm) -> list[str]:
    """The fields a draft keeps: all but the token. The SIRET the form was
    filled from comes along, so coming back to the draft does not fill it
    from the directory again over the person's corrections."""
    return [field.name for field in form if field.name != "csrf_token"]


def _keep(form: StructureForm):
    """Keep step 6 as typed, for the account (it survives signing out)."""
    return drafts.save(drafts.STRUCTURE, drafts.typed(form, _drafted(form)), current_user)


@bp.post("/nouvelle/brouillon")
@login_required
@limit("DRAFT")
def save_draft():
    """Step 6's autosave (htmx) or « Enregistrer le brouillon ». On the page
    of the search's link, the draft it set aside is replaced now: said so."""
    replaced = bool(request.form.get("set_aside"))
    return draft_saved(_keep(StructureForm()), ".create", set_aside_replaced=replaced)


@bp.post("/nouvelle/sirene")
@login_required
@limit("SIRENE_LOOKUP")
def prefill():
    """htmx, as the identifier is typed: once it is a complete valid SIRET the
    directory knows, its fields are filled in place (out of band) and the
    status line says what was found; the focus stays in the identifier."""
    form = StructureForm()
    answer = form.consult_directory()
    if form.sirene_siret.data == form.identifier.data:
        return "", 204
    on_portal = answer is not None and Structure.find(SIRET, form.identifier.data) is not None
    if answer is None or answer.entry is None or answer.refusal() or on_portal:
        # Nothing to fill for this SIRET (incomplete, unknown, refused, or on
        # the portal already, which the person is offered to join): what the
        # directory filled for another SIRET goes, and the name is unlocked.
        mistake = _complete_but_invalid(form) if answer is None else None
        if form.release_directory():
            return render_template(
                "structure/_prefill.html", form=form, found=answer, on_portal=on_portal, mistake=mistake
            )
        if answer is None and mistake is None:
            return "", 204
        return render_template(
            "structure/_sirene_status.html", form=form, found=answer, on_portal=on_portal, mistake=mistake
        )
    form.prefill()
    return render_template("structure/_prefill.html", form=form, found=answer)


def _complete_but_invalid(form: StructureForm) -> str | None:
    """A SIRET typed to its 14 digits that is not one (its check digit): said
    as it is typed, as the directory's answers are, not at « Soumettre »
    only. Fewer digits: still being typed, nothing said."""
    if form.identifier_type.data != SIRET or len("".join((form.identifier.data or "").split())) < 14:
        return None
    return None if form.identifier.validate(form) else form.identifier.errors[0]


@bp.post("/nouvelle/identifiant")
@login_required
# Back to SIRET, the directory is asked again (INSEE's API and its quota, when
# configured), as typing the SIRET does: the same limit. Not the search's.
@limit(
    "SIRENE_LOOKUP",
    exempt=lambda: bool(request.args.get("recherche")) or request.form.get("identifier_type") != SIRET,
)
def identifier_field():
    """The identifier's block for the type chosen (htmx, when the type
    changes); on step 6 the country field too, offering that type's countries."""
    if request.args.get("recherche"):
        return render_template("structure/_identifier_swap.html", form=StructureSearchForm())
    form = StructureForm()
    form.follow_type()
    answer = form.consult_directory()
    if form.needs_prefill() and not answer.refusal() and Structure.find(SIRET, form.identifier.data) is None:
        # Back to SIRET with a SIRET the directory knows: filled again at once,
        # as typing it does; « Soumettre » then creates the structure.
        form.prefill()
        return render_template("structure/_identifier_swap.html", form=form, found=answer, prefilled=True)
    return render_template("structure/_identifier_swap.html", form=form)


# -- attachment: find a structure, then ask ---------------------------------------------


@bp.get("/rattachement")
@login_required
# Each search asks the directory (INSEE's API and its quota, when configured);
# opening the empty form is not one.
@limit("SIRENE_LOOKUP", methods=("GET",), exempt=lambda: not request.args)
def search():
    """Find a structure by identifier type and identifier (a GET form)."""
    if not request.args:
        return page(
            "structure/search.html", search=StructureSearchForm(formdata=None), search_form=_blank_search()
        )
    form = StructureSearchForm(formdata=request.args)
    if not form.validate():
        return invalid("structure/search.html", search=form)
    found = structures.find(current_user, form.identifier_type.data, form.identifier.data)
    if found is None:
        form.identifier.errors = [str(NOT_FOUND)]
        # « Créer une nouvelle structure » brings a SIRET along, as the directory's offer does.
        siret = form.identifier.data if form.identifier_type.data == SIRET else None
        return invalid("structure/search.html", search=form, not_found=url_for(".create", siret=siret))
    target = found.structure or found.sibling  # what the person may ask to join
    offer = None
    if target is not None:
        offer = AttachmentRequestForm(
            formdata=None, identifier_type=target.identifier_type, identifier=target.identifier
        )
    if found.structure is None:
        # A SIRET not on the portal that INSEE knows: its name, an offer to
        # create it, and one to join an establishment of the same company.
        return page(
            "structure/search.html", search=form, insee=found.insee, sibling=found.sibling, offer=offer
        )
    return _on_the_portal(form, found, offer=offer)


def _on_the_portal(search: StructureSearchForm, found: structures.Found, status: int = 200, offer=None):
    """The search's answer for a structure on the portal: what it discloses
    to the searcher, their membership, and the request to join it (``offer``)."""
    return page(
        "structure/search.html",
        status,
        search=search,
        found=found.structure,
        disclosed=found.discloses,
        membership=found.membership,
        offer=offer,
    )


def _nobody_to_decide(structure: Structure) -> str:
    """A request to a structure without a gestionnaire principal that no
    operator was told of: the requester is the only operator (who may not
    decide it), or the portal has none yet. It waits on the console's home."""
    if current_user.is_operator:
        return _(
            "Votre demande de rattachement à la structure %(name)s est enregistrée. La structure n'a pas de "
            "gestionnaire principal, et vous êtes le seul opérateur du portail : vous ne pouvez pas décider "
            "de votre propre demande. Faites accorder le rôle d'opérateur à un autre compte (commande "
            "« flask --app app operator grant ») : la demande l'attendra dans « Administration ».",
            name=structure.company_name,
        )
    return _(
        "Votre demande de rattachement à la structure %(name)s est enregistrée. La structure n'a pas de "
        "gestionnaire principal, et le portail n'a pas encore d'opérateur pour la traiter : elle attendra "
        "qu'il en ait un. Vous recevrez un courriel dès qu'elle aura été traitée.",
        name=structure.company_name,
    )


@bp.post("/rattachement/demande")
@login_required
@account_limits("ATTACHMENT")
def request_attachment():
    form = AttachmentRequestForm()
    if not form.validate():
        abort(400)
    structure = Structure.find(form.identifier_type.data, form.identifier.data)
    if structure is None:
        abort(404)
    if not structure.is_open:
        return _closed_to_requests(structure)
    try:
        asked = structures.request_attachment(current_user, structure)
    except structures.Closed:  # disabled since it was read above
        return _closed_to_requests(Structure.get_by_id(structure.id))
    if asked.nobody_told:
        flash(str(_nobody_to_decide(structure)), "info")
    elif asked.requested and asked.to_operators:
        flash(
            _(
                "Votre demande de rattachement à la structure %(name)s a été transmise aux opérateurs du "
                "portail : la structure n'a pas de gestionnaire principal pour le moment. Vous recevrez "
                "un courriel dès qu'ils l'auront traitée.",
                name=structure.company_name,
            ),
            "success",
        )
    elif asked.requested:
        flash(
            _(
                "Votre demande de rattachement a été transmise au gestionnaire principal de la structure "
                "%(name)s. Vous recevrez un courriel dès qu'il l'aura traitée.",
                name=structure.company_name,
            ),
            "success",
        )
    elif asked.membership.status == Membership.ACTIVE:
        flash(_("Vous êtes déjà rattaché à la structure %(name)s.", name=structure.company_name), "info")
    else:
        flash(
            _(
                "Votre demande de rattachement à la structure %(name)s est en attente.",
                name=structure.company_name,
            ),
            "info",
        )
    return advance("space.home")


def _closed_to_requests(structure: Structure):
    """A request from a page opened before the structure was disabled (or
    put back under moderation): nothing sent; the answer is that structure's
    search result, which says it takes no request now."""
    flash(
        _(
            "Votre demande de rattachement n'a pas été envoyée : la structure %(name)s n'accepte pas "
            "de demande de rattachement pour le moment.",
            name=structure.company_name,
        ),
        "error",
    )
    search = StructureSearchForm(
        formdata=None, identifier_type=structure.identifier_type, identifier=structure.identifier
    )
    found = structures.find(current_user, structure.identifier_type, structure.identifier)
    return _on_the_portal(search, found, 409)


# -- a structure, for its members --------------------------------------------------------


def _member_structure(structure_id: int) -> tuple[Structure, Membership]:
    """The structure and the current user's active membership; 404 for
    anyone else, as for an id no structure has: an id does not tell whether
    it exists."""
    structure = Structure.get_or_none(Structure.id == structure_id)
    membership = None if structure is None else structure.membership_of(current_user)
    if membership is None:
        abort(404)
    return structure, membership


def _detail_page(
    structure: Structure, membership: Membership, handover: HandoverForm | None = None, status=200
):
    members = structure.active_members()
    if handover is None and membership.role == Membership.MANAGER and structure.is_open:
        handover = HandoverForm(formdata=None, members=members)
    return page(
        "structure/detail.html",
        status,
        structure=structure,
        membership=membership,
        members=members,
        handover=handover,
        sirene=directory.local_check(structure.identifier) if structure.identifier_type == SIRET else None,
    )


@bp.get("/<id:structure_id>/")
@login_required
@renders("structure.detail")
def detail(structure_id: int):
    structure, membership = _member_structure(structure_id)
    return _detail_page(structure, membership)


def _not_the_manager(structure: Structure):
    """A form of the gestionnaire principal (edit, SIRET, hand-over) from a
    member who no longer is (a page opened before the role left them):
    nothing done, and the structure's page says why. Anyone who is not a
    member at all was refused before (404, naming nothing). A page opened
    (the edit's GET) changed nothing: it says only who may change it."""
    if request.method == "GET":
        text = _(
            "Seul le gestionnaire principal de la structure %(name)s peut la modifier.",
            name=structure.company_name,
        )
        return turn_away(text, ".detail", structure_id=structure.id)
    return turn_away(not_the_manager(structure.company_name), ".detail", structure_id=structure.id)


def _not_editable(structure_id: int, why: dict = NOT_EDITABLE):
    """The edit (or hand-over: ``why`` is HANDOVER_CLOSED) of a structure that
    is not active, refused: back to its page, which says why (its state, read
    again: it may just have changed)."""
    structure = Structure.get_by_id(structure_id)
    flash(str(why.get(structure.status, why[Structure.DISABLED])), "error")
    return advance(".detail", structure_id=structure_id)


@bp.route("/<id:structure_id>/modifier", methods=["GET", "POST"])
@login_required
@checked_again_once(structures.ChangedMeanwhile)
def edit(structure_id: int):
    structure, membership = _member_structure(structure_id)
    if membership.role != Membership.MANAGER:
        return _not_the_manager(structure)
    if not structure.is_open:
        return _not_editable(structure.id)
    form = StructureEditForm(structure=structure)
    siret, siret_sent = _siret_form(structure)
    if not form.is_submitted():
        return page("structure/edit.html", form=form, siret=siret, structure=structure)
    if not form.validate():
        return invalid("structure/edit.html", form=form, siret=siret, structure=structure)
    # A SIRET sent from details left as they are (Enter in its field): the SIRET alone.
    if not siret_sent or form.details() != form.stored_details():
        try:
            structures.update(structure, current_user, form.details())
        except structures.NotManager:  # handed over meanwhile, by a request sent at the same time
            return _not_the_manager(structure)
        except structures.Closed:  # disabled while the form was being filled in
            return _not_editable(structure.id)
        flash(_("Les informations de la structure ont été mises à jour."), "success")
    if siret_sent:
        return _assign(structure, siret)
    return advance(".detail", structure_id=structure.id)


# The SIRET's field and button belong to the edit form (templates/structure/
# edit.html): the language switch, the form's button without JavaScript,
# carries both, and either button, or Enter in any field, sends the details
# and the SIRET together: the details are saved, then the SIRET, when one was
# typed or its button pressed. Nothing typed in one is lost by the other.
ASSIGN_SIRET = "assign_siret"


def _siret_form(structure: Structure) -> tuple[SiretForm, bool]:
    """The SIRET form, and whether it was sent with the details: then read
    from the request, else as the page shows it."""
    sent = request.method == "POST" and bool(
        request.form.get("identifier", "").strip() or ASSIGN_SIRET in request.form
    )
    if sent:
        return SiretForm(structure=structure), True
    return SiretForm(formdata=None, structure=structure), False


def _siret_already_there(structure: Structure):
    """The SIRET form sent again (a second tab, Back) once the structure has
    its identifier: nothing changes, and its page says which it has."""
    message = _(
        "Cette structure a déjà son identifiant (%(kind)s %(identifier)s) : rien n'a été modifié.",
        kind=structure.kind.name,
        identifier=structure.identifier,
    )
    return turn_away(message, ".detail", structure_id=structure.id)


@bp.post("/<id:structure_id>/siret")
@login_required
def assign_siret(structure_id: int):
    """A structure first numbered by the portal receives its SIRET, sent
    alone (a page shown before its field joined the edit form)."""
    structure, membership = _member_structure(structure_id)
    if membership.role != Membership.MANAGER:
        return _not_the_manager(structure)
    if not structure.is_open:
        return _not_editable(structure.id)
    return _assign(structure, SiretForm(structure=structure))


def _assign(structure: Structure, siret: SiretForm):
    """The SIRET sent (alone, or after the details: ``edit``) recorded, or the
    edit page again with its error, at the edit page's own address."""
    if not structure.kind.internal:  # a page shown before another tab gave it
        return _siret_already_there(structure)
    if siret.validate():
        try:
            assigned = structures.assign_siret(structure, current_user, siret.identifier.data)
        except structures.NotManager:  # handed over meanwhile, by a request sent at the same time
            return _not_the_manager(structure)
        except structures.AlreadyExists:
            siret.identifier.errors = [_("Une structure avec ce SIRET existe déjà sur le portail.")]
        except structures.Closed:
            return _not_editable(structure.id)
        else:
            if not assigned:  # given by another tab meanwhile
                return _siret_already_there(Structure.get_by_id(structure.id))
            flash(
                _("Le SIRET %(siret)s est enregistré pour la structure.", siret=structure.identifier),
                "success",
            )
            return advance(".detail", structure_id=structure.id)
    form = StructureEditForm(formdata=None, structure=structure)
    shown_at(url_for("structure.edit", structure_id=structure.id))
    return invalid("structure/edit.html", form=form, siret=siret, structure=structure)


@bp.post("/<id:structure_id>/gestionnaire")
@login_required
@account_limits("ACCOUNT_CHANGE")
def hand_over(structure_id: int):
    """The gestionnaire principal hands the role to another active member.
    A form from a page opened before the role left them (another tab, Back)
    is answered on the structure's page, which says so; for anyone not a
    member of the structure, 404 as for its other pages."""
    structure, membership = _member_structure(structure_id)
    if membership.role != Membership.MANAGER:
        return _not_the_manager(structure)
    if not structure.is_open:
        return _not_editable(structure.id, HANDOVER_CLOSED)
    form = HandoverForm(members=structure.active_members())
    if not form.validate():
        return _detail_page(structure, membership, handover=form, status=422)
    try:
        successor = structures.hand_over(structure, current_user, form.member.data)
    except structures.NotManager:  # handed over meanwhile, by a request sent at the same time
        return _not_the_manager(structure)
    except structures.Closed:  # disabled while the form was being filled in
        return _not_editable(structure.id, HANDOVER_CLOSED)
    if successor is None:  # the member chosen left the structure meanwhile
        form = HandoverForm(members=structure.active_members())
        form.member.errors = [str(MEMBER_LEFT)]
        return _detail_page(structure, membership, handover=form, status=422)
    flash(
        _(
            "%(name)s est désormais gestionnaire principal de la structure. Vous en restez utilisateur.",
            name=successor.user.full_name,
        ),
        "success",
    )
    return advance(".detail", structure_id=structure.id)
