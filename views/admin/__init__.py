"""« Administration »: the operators' console. Every page answers 404 to
anyone who is not an operator, so that its existence is not advertised.

The blueprint, its gate and its shared answers, and the accounts' pages
here; structures and moderation in ``structures``, the outbox and the audit
trail in ``trail`` (the same blueprint)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import NotFound

import factors
import operations
import sessions
from forms.admin import ActionForm, DeleteAccountForm, SearchForm
from models import Membership, User
from security import limit
from views import advance, full_redirect, invalid, kept_until_verified, page, renders

bp = Blueprint("admin", __name__, url_prefix="/administration")

ACCOUNT_STATUSES = {
    User.PENDING: _l("En attente d'activation"),
    User.ACTIVE: _l("Actif"),
    User.DISABLED: _l("Désactivé"),
}


def require_operator():
    """The one gate of « Administration »: to anyone who is not a signed-in
    operator, the request is one that no route answers (see _as_no_route);
    to an operator, whatever FLASK_TWO_FACTOR_POLICY says, a second factor
    passed in this session (else enrolment or the second step, after which
    a form sent meanwhile comes back filled on its page)."""
    if not (current_user.is_authenticated and current_user.is_operator):
        _as_no_route()
        return None
    # A console form sent meanwhile: what it held waits on its page (views.kept_until_verified).
    return factors.second_factor_gate(keep=kept_until_verified)


def _as_no_route() -> None:
    """From here on the request is one that matched no route: every other
    check of the app (the body's size, NUL characters, CSRF) treats it as it
    treats an address that does not exist, and it ends in the same 404."""
    request.url_rule = None
    request.view_args = None
    request.routing_exception = NotFound()


def _gate():
    if request.blueprint == bp.name or _off_route_in_console():
        return require_operator()
    return None


def _off_route_in_console() -> bool:
    """An address under the console's prefix that no route answers as asked
    (a wrong method, a missing slash): to anyone else its 405 or redirect
    would tell the console's routes from addresses that do not exist."""
    path, prefix = request.path, bp.url_prefix
    return request.url_rule is None and (path == prefix or path.startswith(prefix + "/"))


# The gate runs before every other check of the app (CSRF included), so that
# nothing answers differently here than on a page that does not exist.
bp.record_once(lambda state: state.app.before_request_funcs.setdefault(None, []).insert(0, _gate))

# Every change made from the console is limited like the rest of the portal.
action_limit = limit("ADMIN")


@bp.app_context_processor
def _admin_helpers() -> dict:
    return {"account_status_labels": ACCOUNT_STATUSES}


def operator() -> User:
    return current_user._get_current_object()


def done(message: str, endpoint: str, **values):
    """After an action: its message, then the page it was made from."""
    flash(message, "success")
    return advance(endpoint, **values)


def refused(message: str, endpoint: str, **values):
    flash(message, "info")
    return advance(endpoint, **values)


def checked_action() -> None:
    """A console action's form: its CSRF token, else 400 (Flask-WTF checks it
    before any view too; this keeps the forms the single path)."""
    if not ActionForm().validate():
        abort(400)


# -- home and accounts ----------------------------------------------------------------------------


@bp.get("/")
def home():
    structures = SearchForm(formdata=None)
    # Two searches on one page: the second field needs ids of its own.
    structures.q.id = structures.q.label.field_id = "q-structures"
    waiting, waiting_count = operations.requests_for_operators()
    pending, pending_count = operations.pending_structures()
    return page(
        "admin/home.html",
        accounts=SearchForm(formdata=None),
        structures=structures,
        waiting=waiting,
        waiting_count=waiting_count,
        pending_structures=pending,
        pending_count=pending_count,
    )


def search_page(template: str, search: Callable[..., list], **context):
    """A console search (GET ``q``): the results, none before a search, or
    the error next to the field. At most ``operations.SEARCH_LIMIT`` are
    shown; ``more`` says that others match too (one more is read to know)."""
    form = SearchForm(formdata=request.args)
    context.update(limit=operations.SEARCH_LIMIT, more=False)
    if not form.validate():
        return invalid(template, form=form, results=None, **context)
    text = (form.q.data or "").strip()
    results = search(text, limit=operations.SEARCH_LIMIT + 1) if text else None
    if results is not None and len(results) > operations.SEARCH_LIMIT:
        results, context["more"] = results[: operations.SEARCH_LIMIT], True
    return page(template, form=form, results=results, **context)


@renders("admin.accounts")
def accounts_page():
    return search_page("admin/accounts.html", operations.search_accounts)


@bp.get("/comptes")
def accounts():
    return accounts_page()


def row_or_404(model, row_id: int):
    row = model.get_or_none(model.id == row_id)
    if row is None:
        abort(404)
    return row


def _account(user_id: int) -> User:
    return row_or_404(User, user_id)


@renders("admin.account")
def account_page(user_id: int, delete: DeleteAccountForm | None = None, status: int = 200):
    user = _account(user_id)
    return page(
        "admin/account.html",
        status,
        delete=delete or DeleteAccountForm(formdata=None),
        user=user,
        memberships=Membership.of_user(user, Membership.ACTIVE, Membership.PENDING, *Membership.ENDED),
        events=operations.events_about(user),
        action=ActionForm(formdata=None),
    )


@bp.get("/comptes/<id:user_id>/")
def account(user_id: int):
    return account_page(user_id)


def _account_action(user_id: int, act: Callable[[User, User], bool], success: str, failure: str):
    checked_action()
    user = _account(user_id)
    if act(operator(), user):
        return done(success, "admin.account", user_id=user.id)
    return refused(failure, "admin.account", user_id=user.id)


@bp.post("/comptes/<id:user_id>/activation")
@action_limit
def resend_activation(user_id: int):
    try:
        return _account_action(
            user_id,
            operations.resend_activation,
            _("Un nouveau lien d'activation a été envoyé."),
            _("Ce compte n'attend pas d'activation : aucun lien envoyé."),
        )
    except operations.LinkJustSent:
        return refused(
            _(
                "Un lien d'activation vient d'être envoyé : aucun autre n'est envoyé, pour que celui-ci "
                "reste valable. Réessayez dans une minute si besoin."
            ),
            "admin.account",
            user_id=user_id,
        )


@bp.post("/comptes/<id:user_id>/desactiver")
@action_limit
def disable(user_id: int):
    return _account_action(
        user_id,
        operations.disable,
        _("Le compte est désactivé, ses sessions sont fermées et son titulaire est prévenu par courriel."),
        _("Ce compte ne peut pas être désactivé (il l'est déjà, ou c'est le vôtre)."),
    )


@bp.post("/comptes/<id:user_id>/reactiver")
@action_limit
def enable(user_id: int):
    return _account_action(
        user_id,
        operations.enable,
        _("Le compte est réactivé et son titulaire est prévenu par courriel."),
        _("Ce compte n'est pas désactivé."),
    )


@bp.post("/comptes/<id:user_id>/sessions")
@action_limit
def revoke_sessions(user_id: int):
    checked_action()
    user = _account(user_id)
    operations.revoke_sessions(operator(), user)
    if user.id != current_user.id:
        return done(_("Toutes les sessions du compte sont fermées."), "admin.account", user_id=user.id)
    # The operator's own account: this session ended with the others, as
    # with « Se déconnecter partout »; the console would answer 404 now.
    sessions.end()
    flash(_("Toutes vos sessions sont fermées, celle-ci comprise : connectez-vous à nouveau."), "info")
    return full_redirect(url_for("auth.login"))


@bp.post("/comptes/<id:user_id>/supprimer")
@action_limit
def delete(user_id: int):
    checked_action()
    user = _account(user_id)
    form = DeleteAccountForm()
    if not form.validate():
        # The box not ticked: said next to it, the page as it was.
        return account_page(user.id, delete=form, status=422)
    if operations.delete_account(operator(), user):
        return done(_("Le compte est supprimé et ses données personnelles sont effacées."), "admin.accounts")
    return refused(
        _(
            "Ce compte ne peut pas être supprimé : c'est le vôtre, ou une structure attend d'abord "
            "un nouveau gestionnaire principal."
        ),
        "admin.account",
        user_id=user.id,
    )


# The structures', moderation's, the outbox's and the trail's routes.
import views.admin.structures  # noqa: E402, F401
import views.admin.trail  # noqa: E402, F401
