"""Development only: the mail kept in the outbox when no server is set."""

from __future__ import annotations

import re

from flask import Blueprint

from models import OutboxMail
from views import page

bp = Blueprint("dev", __name__, url_prefix="/dev")

LINK = re.compile(r"https?://\S+")


@bp.get("/courriels")
def outbox():
    mails = OutboxMail.select().order_by(OutboxMail.id.desc()).limit(100)
    return page("dev/outbox.html", mails=[(m, LINK.findall(m.body_text)) for m in mails])
