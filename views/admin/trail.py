"""« Administration »: the outbox and the audit trail (part of the ``admin`` blueprint)."""

from __future__ import annotations

from datetime import timedelta

from flask import request
from flask_babel import gettext as _

import operations
from audit import Event
from forms.admin import AuditFilterForm
from views import invalid, page, renders
from views.admin import action_limit, bp, checked_action, done, operator, refused

OUTBOX_DAYS = 7
AUDIT_LIMIT = 200
EVENT_NAMES = sorted(value for name, value in vars(Event).items() if name.isupper())


@renders("admin.outbox")
def outbox_page():
    return page("admin/outbox.html", outbox=operations.outbox(OUTBOX_DAYS), days=OUTBOX_DAYS)


@bp.get("/courriels")
def outbox():
    return outbox_page()


@bp.post("/courriels/<id:mail_id>/reessayer")
@action_limit
def retry_mail(mail_id: int):
    checked_action()
    if operations.retry_mail(operator(), mail_id):
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
    return done(_("%(count)s courriel(s) seront de nouveau envoyés.", count=count), "admin.outbox")


@bp.get("/journal")
def audit():
    form = AuditFilterForm(formdata=request.args, events=EVENT_NAMES)
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
