"""Drafts of half-filled steps, kept on the server (models.Draft).

Step 2's draft belongs to the browser: the session cookie holds a random
draft id (never the data), the database a hash of it. Step 6's and « Mon
compte »'s belong to the account, so they survive signing out and in. A
draft is only ever found from its owner (the session or the signed-in
account), never from an id the request names: another browser or account
cannot read or overwrite it. Only the step's own fields are kept, each cut
to a bounded length; passwords and captcha answers are never among them.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from flask import current_app, request, session

from models import Draft, User, sha256

SESSION_KEY = "draft"  # the browser's draft id, in the session cookie
SIGNUP = "signup"
STRUCTURE = "structure"
ACCOUNT = "account"
CARRIED = "carried"  # a page's form, over the language switch without JavaScript (carry)
CARRIED_PAGE = "carried"  # in the session: the page it is for (no query without one)
PAGE = "_page"  # in a carried draft: the page it is for
FOR = "_for"  # in a carried draft: the account that alone gets it back (a session that ended)
STALE = "_stale"  # in a carried draft: a form refused for its stale token, to say so when taken back
# A form sent after its session ended, waiting for its account to sign in
# again (``keep_for_sign_in``): a record of its own, which the language
# switch's on the sign-in page (``carry``) neither replaces nor is taken for.
RESUME = "resume"
# Step 2's draft once the captcha is passed: nothing typed, only the address
# the activation mail went to, for as long as its link lives (``signup_sent``).
SIGNUP_SENT = "sent"

# The page and number of a save (``page_order``): an id of 8 to 32 letters and
# digits, a number of 1 to 9 digits (a page saving every second for 30 years).
ORDER = "draft_order"
_PAGE_ORDER = re.compile(r"([A-Za-z0-9]{8,32})\.([0-9]{1,9})")

MAX_VALUE = 300  # characters kept per field: more than any field accepts
# What an edit form showed (forms/seen.py), kept whole: cut, it would read
# as made up. « Mon compte »'s takes 1,500 characters at most.
LONGER = {"seen": 4096}
NEVER_KEPT = frozenset({"password", "password_confirm", "current_password", "answer", "csrf_token", ORDER})


def _ttl(kind: str) -> timedelta:
    if kind == CARRIED:
        return timedelta(minutes=10)  # the switch redirects at once
    if kind == SIGNUP:
        return timedelta(hours=int(current_app.config["DRAFT_SIGNUP_HOURS"]))
    return timedelta(days=int(current_app.config["DRAFT_STRUCTURE_DAYS"]))


def _browser_key(kind: str, create: bool) -> str | None:
    draft_id = session.get(SESSION_KEY)
    if not isinstance(draft_id, str) or len(draft_id) < 20:
        if not create:
            return None
        draft_id = secrets.token_urlsafe(24)
        session[SESSION_KEY] = draft_id
    return f"s:{sha256(draft_id)}:{kind}"


def _key(kind: str, user: User | None, create: bool = False) -> str | None:
    if user is not None:
        return f"u:{user.id}:{kind}"
    return _browser_key(kind, create)


def typed(form, names: Iterable[str] | None = None) -> dict:
    """What was typed in a (WTForms) form's fields, each value bounded;
    never a secret field."""
    names = names or [field.name for field in form]
    kept = {}
    for name in names:
        if name in NEVER_KEPT or name not in form:
            continue
        field = form[name]
        # A text as typed (a phone number before its normalisation), a box as checked.
        raw = field.raw_data if field.type != "BooleanField" else None
        value = raw[0] if raw and isinstance(raw[0], str) else field.data
        kept[name] = _bounded(name, value)
    return kept


def holds_anything(data: dict) -> bool:
    """Whether ``typed`` found something typed (a text) or ticked (a box)."""
    return any(value is True or (isinstance(value, str) and value.strip()) for value in data.values())


def fill(kept: dict, names: Iterable[str]) -> dict:
    """The draft's values for these fields only (to build a form from): a
    text, bounded, or a box's state; anything else a row may hold (written
    by hand, or by an older version) is left out, the field showing empty."""
    values = {}
    for name in names:
        value = kept.get(name)
        if isinstance(value, bool):
            values[name] = value
        elif isinstance(value, str):
            values[name] = _bounded(name, value)
    return values


def _bounded(name: str, value):
    return value[: LONGER.get(name, MAX_VALUE)] if isinstance(value, str) else value


def save(kind: str, data: dict, user: User | None = None) -> datetime:
    """Keep ``data`` as the draft of step ``kind``; returns when (UTC). A
    page's save sent before another of the same page never replaces it
    (``page_order``)."""
    data = {name: value for name, value in data.items() if name not in NEVER_KEPT}
    key = _key(kind, user, create=True)
    return Draft.keep(key, json.dumps(data), _ttl(kind), user=user, order=page_order()).saved_at


def page_order() -> tuple[str, int] | None:
    """Which page sent this save, and its number among that page's saves:
    ``ORDER`` (« <page>.<number> »), which app.js adds to every request of a
    form that keeps a draft (the autosave, « Enregistrer le brouillon », the
    step sent, the save as the page goes). None when there is none, or not
    as app.js writes it: the save is then kept whatever came before, as it is
    without JavaScript."""
    found = _PAGE_ORDER.fullmatch(request.form.get(ORDER, "")) if request else None
    return (found.group(1), int(found.group(2))) if found else None


def load(kind: str, user: User | None = None) -> tuple[dict, datetime | None]:
    """The draft's data and when it was saved, or ({}, None)."""
    key = _key(kind, user)
    draft = Draft.live(key) if key else None
    if draft is None:
        return {}, None
    data = data_of(draft)
    return (data, draft.saved_at) if data else ({}, None)


def data_of(draft: Draft) -> dict:
    """What a draft holds (the fields as typed, never a password), or {}."""
    try:
        data = json.loads(draft.data)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# What a draft keeps for the page itself, not typed by its holder: the page
# a carried form is for, and what an edit form showed (a copy, encoded, of
# data shown elsewhere). « Mes données » and the data file leave them out.
KEPT_FOR_THE_PAGE = frozenset({PAGE, FOR, STALE, "seen"})


def kind_of(draft: Draft) -> str:
    """The step a draft is of (SIGNUP, STRUCTURE, ACCOUNT, CARRIED, RESUME)."""
    return draft.key.rpartition(":")[2]


def held_typed(draft: Draft) -> dict:
    """What a draft holds of what its holder typed: ``data_of`` without
    what it keeps for the page."""
    return {name: value for name, value in data_of(draft).items() if name not in KEPT_FOR_THE_PAGE}


def delete(kind: str, user: User | None = None, unless_saved_at: str = "") -> None:
    """Forget the draft of step ``kind``; with ``unless_saved_at`` (a page's
    ``mark`` of a draft it left as it was), not if it is still that draft."""
    key = _key(kind, user)
    if not key:
        return
    if unless_saved_at:
        _, saved_at = load(kind, user)
        if unless_saved_at == mark(saved_at):
            return
    Draft.drop(key)


def mark_signup_sent(email: str) -> None:
    """The browser's sign-up has passed the captcha: its draft now holds the
    address mailed only, for the link's lifetime (the captcha step opened
    again then shows the mail-sent page)."""
    ttl = timedelta(minutes=int(current_app.config["ACTIVATION_TTL_MINUTES"]))
    Draft.keep(_browser_key(SIGNUP, create=True), json.dumps({SIGNUP_SENT: email}), ttl)


def signup_sent() -> str | None:
    """The address this browser's sign-up was mailed to, if it passed the captcha."""
    sent_to = load(SIGNUP)[0].get(SIGNUP_SENT)
    return sent_to if isinstance(sent_to, str) and sent_to else None


def forget_signup_sent() -> None:
    """Drop the browser's sign-up mark (its account is active), not a step 2
    begun since."""
    if signup_sent() is not None:
        delete(SIGNUP)


def mark(saved_at: datetime | None) -> str:
    """Which draft a page had (when it was saved), as the page posts it back."""
    return saved_at.isoformat() if saved_at is not None else ""


def carry(
    page: str,
    fields: dict[str, str],
    user: User | int | None = None,
    for_account: int | None = None,
    stale: bool = False,
) -> None:
    """Keep what a page's form held when the language switch was sent from
    it (without JavaScript), for that page's next showing in this browser
    only (``take_carried``); never a secret field (``forms.typed_fields``).
    Kept flat, as a step's draft is (« Mes données » lists it the same way),
    with the page under a name no field has. With ``for_account``, only that
    account gets it back, once signed in again (``carry_over_sign_in``).
    ``stale``: a form refused for its stale token, which the page's form
    says it takes back (``forms.Form``)."""
    data = _typed(fields)
    data[PAGE] = page_mark(page)
    if stale:
        data[STALE] = "1"
    ttl = _ttl(CARRIED)
    if for_account is not None:
        data[FOR] = for_account
        ttl = SIGN_IN_AGAIN
    Draft.keep(_browser_key(CARRIED, create=True), json.dumps(data), ttl, user)
    session[CARRIED_PAGE] = data[PAGE]


def page_mark(page: str) -> str:
    """The page a carried record is for, as the record and the session name
    it: a digest, not the path. Step 4's path holds its activation link's
    key, which the database keeps hashed only (models.Token); a carried
    record (and a backup of it) must not hold it in the clear."""
    return sha256(page)[:32]


# How long what was sent after the session ended waits for its account to
# sign in again (finding a password, a second factor).
SIGN_IN_AGAIN = timedelta(minutes=30)


def _typed(fields: dict[str, str]) -> dict:
    """A form's fields as a carried record keeps them: bounded, without the
    names the record gives its page and its account."""
    return {name: _bounded(name, value) for name, value in fields.items() if name not in (PAGE, FOR, STALE)}


def _browser_record(kind: str) -> tuple[str | None, dict]:
    """This browser's record of ``kind`` (CARRIED, RESUME): its key, and what it holds."""
    key = _browser_key(kind, create=False)
    draft = Draft.live(key) if key else None
    return key, (data_of(draft) if draft is not None else {})


def take_carried(page: str, account_id: int | None = None) -> dict[str, str]:
    """What ``carry`` kept for ``page`` in this browser, once: {} on any
    other page (it waits for its own, briefly), when nothing was kept, or
    when it is kept for an account that is not the one signed in."""
    mark = page_mark(page)
    if session.get(CARRIED_PAGE) != mark:
        return {}
    del session[CARRIED_PAGE]
    key, data = _browser_record(CARRIED)
    if not data:
        return {}
    Draft.drop(key)
    if data.pop(PAGE, None) != mark or data.pop(FOR, None) not in (None, account_id):
        return {}
    return {name: _bounded(name, value) for name, value in data.items() if isinstance(value, str)}


def keep_for_sign_in(page: str, fields: dict[str, str], account: User) -> None:
    """Keep what a form held when it was sent after its session ended, or
    before the session passed its second factor (never a secret field:
    ``forms.typed_fields``), for ``account`` only, once it signs in again in
    this browser (``carry_over_sign_in``) or enrols its factor (``resume``). Apart from the
    language switch's record: switching language on the sign-in page
    carries that page's own form, and must not lose this one."""
    data = _typed(fields)
    data.update({PAGE: page, FOR: account.id})
    Draft.keep(_browser_key(RESUME, create=True), json.dumps(data), SIGN_IN_AGAIN, account)
    session[RESUME] = True


def forget_kept_for_sign_in() -> None:
    """Signing out: what this browser kept for a sign-in (``keep_for_sign_in``) is dropped."""
    if session.pop(RESUME, None):
        key, _ = _browser_record(RESUME)
        if key:
            Draft.drop(key)


def carry_over_sign_in(user: User) -> Callable[[], None]:
    """Signing in starts a fresh session, and with it a fresh draft id. What
    this browser sent for ``user`` after its session ended
    (``keep_for_sign_in``) is read before, and ``carry``-ied under the new
    session by the function returned, to call once it has started: the page
    it was sent from takes it back (``take_carried``). What was kept for
    another account is dropped."""
    resumed = _resumed(user)
    if resumed is None:
        return lambda: None
    page, fields = resumed
    return lambda: carry(page, fields, user, for_account=user.id)


def resume(user: User) -> str | None:
    """The second factor enrolled in this session (no new sign-in): what
    this browser sent for ``user`` meanwhile (``keep_for_sign_in``),
    ``carry``-ied for the page it was sent from, which is returned; None
    when nothing waits for this account."""
    resumed = _resumed(user)
    if resumed is None:
        return None
    page, fields = resumed
    carry(page, fields, user, for_account=user.id)
    return page


def _resumed(user: User) -> tuple[str, dict[str, str]] | None:
    """This browser's record kept for a sign-in (``keep_for_sign_in``),
    taken once: its page and fields if it is ``user``'s, else None (what was
    kept for another account is dropped)."""
    if not session.get(RESUME):
        return None
    session.pop(RESUME, None)
    key, data = _browser_record(RESUME)
    if not data:
        return None
    Draft.drop(key)
    if data.get(FOR) != user.id or not isinstance(page := data.get(PAGE), str):
        return None
    return page, {name: value for name, value in data.items() if isinstance(value, str) and name != PAGE}
