"""« Administration »: the outbox and the audit trail (part of the ``admin`` blueprint)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, request
from flask_babel import gettext as _

import operations
from audit import EVENT_LABELS, Event
from folding import fold
from forms.admin import AuditFilterForm
from views import advance, invalid, page, renders
from views.admin import action_limit, bp, checked_action, done, operator, refused

OUTBOX_DAYS = 7
AUDIT_LIMIT = 200
EVENT_NAMES = sorted(value for name, value in vars(Event).items() if name.isupper())


def event_choices() -> list[tuple[str, str]]:
    """The journal's event filter: each event in words in the page's
    language, its code after them (as the table, the logs and the metrics
    name it, and as the URL carries it), in alphabetical order of the words."""
    choices = []
    for code in EVENT_NAMES:
        label = EVENT_LABELS.get(code)
        choices.append((code, f"{label} ({code})" if label is not None else code))
    return sorted(choices, key=lambda choice: fold(choice[1]))


def mail_server_configured() -> bool:
    """Whether mail leaves the outbox at all (config's MAIL_DELIVERY, set from
    FLASK_MAIL_SERVER): without a server it is only kept there."""
    return bool(current_app.config["MAIL_DELIVERY"])


def _kept(message: str):
    """After a retry without a mail server: the truth, as information, then the outbox."""
    flash(message, "info")
    return advance("admin.outbox")


@renders("admin.outbox")
def outbox_page():
    return page(
        "admin/outbox.html",
        outbox=operations.outbox(OUTBOX_DAYS),
        days=OUTBOX_DAYS,
        mail_server=mail_server_configured(),
    )


@bp.get("/courriels")
def outbox():
    return outbox_page()


@bp.post("/courriels/<id:mail_id>/reessayer")
@action_limit
def retry_mail(mail_id: int):
    checked_action()
    if operations.retry_mail(operator(), mail_id):
        if not mail_server_configured():
            return _kept(
                _(
                    "Aucun serveur de messagerie n'est configuré (FLASK_MAIL_SERVER) : le courriel reste "
                    "dans la file et partira quand un serveur le sera."
                )
            )
        return done(
            _("Le courriel sera de nouveau envoyé dans les prochaines secondes."),
            "admin.outbox",
        )
    return refused(_("Ce courriel est déjà envoyé ou en cours d'envoi."), "admin.outbox")


@bp.post("/courriels/reessayer")
@action_limit
def retry_all_mail():
    checked_action()
    count = operations.retry_mail(operator())
    if not mail_server_configured():
        return _kept(
            _(
                "Aucun serveur de messagerie n'est configuré (FLASK_MAIL_SERVER) : %(count)s courriel(s) "
                "restent dans la file et partiront quand un serveur le sera.",
                count=count,
            )
        )
    return done(_("%(count)s courriel(s) seront de nouveau envoyés.", count=count), "admin.outbox")


@bp.get("/journal")
def audit():
    form = AuditFilterForm(formdata=request.args, events=event_choices())
    if not form.validate():
        return invalid("admin/audit.html", form=form, events=[], limit=AUDIT_LIMIT)
    events = operations.audit_trail(
        account=(form.account.data or "").strip() or None,
        structure=form.structure_id,
        event=form.event.data or None,
        since=form.since_day,
        until=form.until_day + timedelta(days=1) if form.until_day else None,
        limit=AUDIT_LIMIT,
    )
    return page("admin/audit.html", form=form, events=events, limit=AUDIT_LIMIT)
