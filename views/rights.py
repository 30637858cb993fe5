"""« Mon compte » → « Télécharger mes données » and « Supprimer mon compte »:
the account holder's rights (RGPD)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

import drafts
import factors
import i18n
import rights
from forms import readable
from forms.account import DeleteAccountForm, ProfileForm
from forms.structure import StructureForm
from security import account_key, limit, password_retyped
from views import full_redirect, page

bp = Blueprint("rights", __name__, url_prefix="/mon-compte")

MISMATCH = _l("Le mot de passe est incorrect.")
# The only operator with an open account may not go: the portal would have
# none (nobody to run « Administration » nor to decide the requests to
# structures without a gestionnaire principal). Another is granted from the
# server's command line.
LAST_OPERATOR = _l(
    "Vous êtes le seul opérateur du portail : votre compte ne peut pas être supprimé tant "
    "qu'un autre compte actif n'a pas reçu ce rôle."
)


def _user():
    return current_user._get_current_object()


# The step each of an account's drafts is of, whose labels and choices it is read with.
DRAFT_FORMS = {drafts.STRUCTURE: StructureForm, drafts.ACCOUNT: ProfileForm}


def _draft_rows(draft) -> list[tuple[str, str]]:
    """A draft as its step's form shows it: labels, choices' names."""
    return readable(drafts.held_typed(draft), DRAFT_FORMS.get(drafts.kind_of(draft)))


@bp.get("/donnees")
@login_required
@limit("DATA_PAGE", methods=("GET",), key=account_key)
def data():
    """The data as a readable page: the file's rows, read once."""
    user = _user()
    held = rights.holdings(user, latest=rights.SHOWN_ON_THE_PAGE)
    return page(
        "rights/data.html",
        totals=held.totals,
        data=rights.export(user, held),
        consent_history=held.consent_changes,
        # The page lists them by structure, the file by date.
        memberships=sorted(held.memberships, key=lambda m: (m.structure.company_name, m.id)),
        events=held.events,
        factors=[factor for factor in held.factors if factor.confirmed_at],  # the methods in use
        name_of=factors.display_name,
        language_names=i18n.NAMES,
        drafts=held.drafts,
        draft_rows=_draft_rows,
        sessions=held.sessions,
        mails=held.mails,
        address_of=rights.address_of,
        holds_own_details=rights.holds_own_details,
    )


@bp.get("/donnees.json")
@login_required
# A HEAD builds the file as a GET does (Flask answers it with the GET view): it is
# counted (security.limit), but not recorded as an export: nothing was downloaded.
@limit("DATA_EXPORT", methods=("GET",))
def data_file():
    """The data as a JSON file to download."""
    user = _user()
    body = json.dumps(rights.export(user), ensure_ascii=False, indent=2)
    if request.method == "GET":
        rights.record_export(user)
    response = Response(body, mimetype="application/json")
    # The file's name in the reader's language (ASCII, in either: it is a header).
    filename = _("mes-donnees.json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _delete_page(form: DeleteAccountForm, status: int = 200, blocking=None):
    user = _user()
    return page(
        "rights/delete.html",
        status,
        form=form,
        blocking=rights.handover_needed(user) if blocking is None else blocking,
        last_operator=user.is_last_operator(),
        memberships=len(user.memberships),
    )


@bp.get("/supprimer")
@login_required
def delete():
    return _delete_page(DeleteAccountForm(formdata=None))


@bp.post("/supprimer")
@login_required
@password_retyped()  # counted last: see views.account.password
@limit("ACCOUNT_DELETE")
def confirm_delete():
    form = DeleteAccountForm()
    if not form.validate():
        return _delete_page(form, 422)
    refusal = rights.delete_account(_user(), form.password.data)
    if refusal is not None:
        if refusal.reason == "password":
            form.password.errors = [str(MISMATCH)]
        elif refusal.reason == "last_operator":  # the other operators left since the page was shown
            form.form_errors.append(str(LAST_OPERATOR))
        else:
            form.form_errors.append(
                _(
                    "Vous êtes le seul gestionnaire principal d'une structure qui a d'autres membres : "
                    "transmettez d'abord ce rôle."
                )
            )
        return _delete_page(form, 422, blocking=refusal.structures)
    # The person goes on reading in the language the account had, French
    # included: a browser asking for English must not turn the page that
    # says so into English around a French notice.
    language = i18n.current()
    done = _("Votre compte est supprimé, ainsi que vos données personnelles.")
    logout_user()
    session.clear()
    i18n.choose(language)
    flash(done, "success")
    home = url_for("main.home")
    # The whole page changes (the header signs out): a full navigation under htmx.
    return full_redirect(home)
