"""The audit trail: security events with their time (UTC), account, client
address and outcome.

Call ``record`` inside the transaction of the change it describes, so that the
event and the change are kept or lost together. Never pass a password, a token
or a captcha answer: ``record`` refuses details named like one.

Event names (``outcome`` is "success" unless stated):

- ``account.created``            accounts.sign_up: a pending account exists.
- ``account.signup_existing``    accounts.sign_up: sign-up with an address that has
                                 an account (its owner is mailed).
- ``account.activated``          accounts.activate: first password set.
- ``activation.resent``          accounts.resend_activation: a new activation link.
- ``auth.sign_in``               accounts.authenticate: "success", "failure" (wrong
                                 password, unknown address, inactive account; details
                                 ``reason``) or "throttled" (refused during the delay).
- ``auth.sign_out``              views.auth.logout.
- ``password.reset_requested``   accounts.request_reset: "success" (link mailed),
                                 "unknown_account", "disabled_account", or
                                 "pending_account" (activation link mailed instead).
- ``password.reset``             accounts.reset_password: new password from a link,
                                 every session revoked.
- ``password.changed``           accounts.change_password: "success", or "failure"
                                 (wrong current password).
- ``profile.updated``            accounts.update_profile (details ``fields``: names of
                                 the changed fields, never their values).
- ``survey_consent.changed``     accounts.set_survey_consent (details ``consent``).
- ``account.purged``             accounts.purge (`flask purge`): one event, details
                                 are counts.

Structures (structures.py):

- ``structure.created``          a structure and its gestionnaire principal.
- ``membership.requested``       a request to be attached (rattachement).
- ``membership.cancelled``       the requester withdrew a pending request.
- ``membership.decided``         outcome "approved" or "refused", details
                                 ``structure``, ``requester``.
- ``membership.role_handed_over`` the gestionnaire principal role moves to another
                                 member (details ``structure``, ``to``).
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import has_request_context

from models import AuditEvent, User
from security import client_address

# Words of a detail's name that say it could hold a secret: refused.
FORBIDDEN = frozenset({"password", "token", "answer", "secret", "hash", "otp"})


def record(event: str, user: User | None = None, outcome: str = "success", **details) -> AuditEvent:
    """Write one event; ``details`` are small JSON-serialisable facts."""
    for name in details:
        if FORBIDDEN & set(name.lower().split("_")):
            raise ValueError(f"audit detail {name!r} may hold a secret")
    return AuditEvent.create(
        user=user,
        account=user.email if user is not None else None,
        client_address=_client_address(),
        event=event,
        outcome=outcome,
        details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str) if details else None,
    )


def _client_address() -> str | None:
    return client_address() if has_request_context() else None


def events(
    account: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    event: str | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """Events, oldest first, filtered by account e-mail, time (UTC) and name."""
    query = AuditEvent.select()
    if account:
        query = query.where(AuditEvent.account == account.strip().lower())
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    if event:
        query = query.where(AuditEvent.event == event)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if limit:
        query = query.limit(limit)
    return list(reversed(list(query)))
