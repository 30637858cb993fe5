"""Recovery codes just generated, kept a short while to be shown again.

« Vos codes de secours » is the one page that shows them (views/factors.py).
A reload or a switch of language shows it again, with the same codes, until
the person says they kept them, signs out, or ``MINUTES`` have passed,
whichever comes first; then they are gone for good (only their hashes are
stored).

They are kept in this session's cookie (no table, nothing to purge), sealed
(factors/sealed.py): Flask's cookie is signed, not encrypted, and a copy of
it, taken from the browser or from a proxy, would otherwise give the codes
away for as long as they work. Codes that no longer work (a new set made
in another session, the last factor removed) are not shown either. Sealed, they open only on the server, with
the time limit inside the seal, for this account and this session (the key
the session row is listed under): a value carried into another session or
account does not open. Signing out clears the session (sessions.py), and an
expired value is dropped at the session's next request."""

from __future__ import annotations

import json
import time

from flask import session

import sessions
from factors.sealed import seal, unseal
from models import RecoveryCode, User

KEY = "recovery_codes"
# Set while the codes are the sign-up's (step 4b), apart from them: once
# noted, even past their time, the sign-up goes on to step 5.
IN_FLOW_KEY = "recovery_codes_in_flow"
MINUTES = 10


def _context(user: User) -> str:
    return f"recovery-codes:{user.id}:{session.get(sessions.KEY, '')}"


def keep(user: User, codes: list[str], in_flow: bool = False) -> None:
    """Keep ``codes`` for this session; ``in_flow``: made by the enrolment
    of the sign-up's step 4b, which goes on to step 5 once they are noted."""
    until = int(time.time()) + MINUTES * 60
    sealed = seal(json.dumps({"codes": codes, "until": until}), _context(user))
    session[KEY] = {"sealed": sealed, "until": until}
    if in_flow:
        session[IN_FLOW_KEY] = True
    else:
        session.pop(IN_FLOW_KEY, None)


def shown(user: User) -> list[str] | None:
    """The codes kept for ``user`` in this session, if still within their time."""
    kept = session.get(KEY)
    if not isinstance(kept, dict):
        return None
    plain = unseal(kept.get("sealed"), _context(user))
    data = json.loads(plain) if plain else {}
    if time.time() >= data.get("until", 0) or not RecoveryCode.is_current_set(user, data["codes"]):
        session.pop(KEY, None)  # past their time, or no longer working (a new set, the factor removed)
        return None
    return data["codes"]


def forget() -> bool:
    """The codes are noted: no longer kept. Whether they were the sign-up's
    (``in_flow``), still known after their time."""
    session.pop(KEY, None)
    return bool(session.pop(IN_FLOW_KEY, False))


def forget_expired() -> None:
    """Drop codes past their time from the session (every request: cheap).
    ``in`` first: it does not mark the session read, so a response that
    does not depend on it (a static file) gets no ``Vary: Cookie``."""
    if KEY not in session:
        return
    kept = session[KEY]
    if not isinstance(kept, dict) or time.time() >= kept.get("until", 0):
        session.pop(KEY, None)
