"""« Administration »: the outbox and the audit trail (part of the ``admin`` blueprint)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import request

import operations
from audit import Event
from forms.admin import AuditFilterForm
from views import invalid, page, renders
from views.admin import action_limit, bp, checked_action, done, operator, refused

OUTBOX_DAYS = 7
AUDIT_LIMIT = 200
EVENT_NAMES = sorted(value for name, value in vars(Event).items() if name.isupper())
BAD_DATE = "Date attendue au format AAAA-MM-JJ, par exemple 2026-03-14."


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
            "Le courriel sera de nouveau envoyé dans les prochaines secondes.",
            "admin.outbox",
        )
    return refused("Ce courriel est déjà envoyé ou en cours d'envoi.", "admin.outbox")


@bp.post("/courriels/reessayer")
@action_limit
def retry_all_mail():
    checked_action()
    count = operations.retry_mail(operator())
    return done(f"{count} courriel(s) seront de nouveau envoyés.", "admin.outbox")


def _date(field) -> datetime | None:
    if not field.data:
        return None
    try:
        return datetime.strptime(field.data.strip(), "%Y-%m-%d")
    except ValueError:
        field.errors = [*field.errors, BAD_DATE]
        return None


@bp.get("/journal")
def audit():
    form = AuditFilterForm(formdata=request.args, events=EVENT_NAMES)
    valid = form.validate()
    since, until = _date(form.since), _date(form.until)
    structure = (form.structure.data or "").strip()
    if structure and not structure.isdigit():
        form.structure.errors = [*form.structure.errors, "Numéro interne attendu (chiffres seulement)."]
    if not valid or form.errors:
        return invalid("admin/audit.html", form=form, events=[], limit=AUDIT_LIMIT)
    events = operations.audit_trail(
        account=(form.account.data or "").strip() or None,
        structure=int(structure) if structure else None,
        event=form.event.data or None,
        since=since,
        until=until + timedelta(days=1) if until else None,
        limit=AUDIT_LIMIT,
    )
    return page("admin/audit.html", form=form, events=events, limit=AUDIT_LIMIT)
