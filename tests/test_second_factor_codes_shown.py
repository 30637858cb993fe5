"""« Vos codes de secours » after an enrolment: the same codes shown again by
a reload or a switch of language, until the person says they kept them,
signs out, or ten minutes pass; never to another session, never on another
page, never readable in the cookie or the logs."""

from __future__ import annotations

import base64
import logging
import re
import time
import zlib

import pytest

import factors
from factors import manage, shown_codes
from models import AuditEvent, SecondFactor, db
from tests.support.responses import follow, text_of
from tests.support.second_factor import (
    FACTORS,
    RECOVERY_CODES,
    code_at,
    codes_page,
    enrol_totp,
    password_step,
    reauthenticate,
    recovery_codes_in,
    second_step,
)

GONE = "Vos codes de secours ne sont plus affichés."


@pytest.fixture
def enrolled(app, any_client, signup):
    """Marie, signed in on ``any_client``, an app just enrolled: its codes."""
    signup.create_account()
    signup.activate()
    assert password_step(any_client).status_code in (204, 303)
    secret, codes = enrol_totp(any_client)
    any_client.secret = secret
    return any_client, codes


def sign_in(client) -> None:
    """Both steps, the app's code the second (enrolment used the period before)."""
    password_step(client)
    assert second_step(client, code_at(client.secret)).status_code in (204, 303)


def codes_shown(client) -> list[str]:
    """The codes « Vos codes de secours » shows now (none: it sends to the list)."""
    response = client.get(RECOVERY_CODES)
    if response.status_code == 303:
        assert response.headers["Location"] == FACTORS
        assert GONE in text_of(client.get(FACTORS))
        return []
    assert response.status_code == 200, text_of(response)
    assert ("<html" in text_of(response)) is not client.htmx
    return recovery_codes_in(text_of(response))


def switch_language(client, lang: str, page: str) -> str:
    """The header's switch, sent from ``page``: the page it comes back to."""
    response = client.submit("/langue", {"lang": lang, "next": page})
    if client.htmx:
        assert response.status_code == 204
        return response.headers["HX-Redirect"]
    assert response.status_code == 303
    return response.headers["Location"]


def readable_cookie(client) -> str:
    """The session cookie as anyone who holds it reads it (no key needed)."""
    value = client.get_cookie("session").value
    payload = value.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(data) if value.startswith(".") else data).decode()


def test_a_reload_and_a_language_switch_show_the_same_codes(enrolled):
    client, codes = enrolled
    page = text_of(client.get(RECOVERY_CODES))
    if not client.htmx:  # without JavaScript the switch's next is this very page
        assert f'name="next" value="{RECOVERY_CODES}"' in page
    assert codes_shown(client) == codes
    assert switch_language(client, "en", RECOVERY_CODES) == RECOVERY_CODES
    text = text_of(client.get(RECOVERY_CODES))
    assert "Your recovery codes" in text and "I have kept my codes" in text
    assert recovery_codes_in(text) == codes
    switch_language(client, "fr", RECOVERY_CODES)
    assert "Vos codes de secours" in text_of(client.get(RECOVERY_CODES))
    assert codes_shown(client) == codes


def test_once_noted_the_codes_are_gone(enrolled):
    client, codes = enrolled
    response = client.submit(f"{RECOVERY_CODES}/conserves")
    text = follow(client, response, pushed=FACTORS)
    assert "Application d'authentification" in text and codes[0] not in text
    assert codes_shown(client) == []


def another_session(app, client):
    """Another browser, signed in to the same account (its app code known)."""
    app.test_client_class = type(client)
    elsewhere = app.test_client()
    elsewhere.secret = client.secret
    sign_in(elsewhere)
    return elsewhere


def test_attack_another_session_of_the_account_never_sees_the_codes(app, enrolled):
    client, codes = enrolled
    elsewhere = another_session(app, client)
    assert elsewhere.get("/mon-compte/").status_code == 200
    assert codes_shown(elsewhere) == []
    # The sealed codes carried into that session's cookie do not open there.
    with client.session_transaction() as session:
        carried = session[shown_codes.KEY]
    with elsewhere.session_transaction() as session:
        session[shown_codes.KEY] = carried
    assert codes_shown(elsewhere) == []
    assert codes_shown(client) == codes  # still the generating session's


def test_attack_a_signed_out_browser_has_no_codes_left(enrolled):
    client, codes = enrolled
    client.submit("/deconnexion")
    assert shown_codes.KEY not in readable_cookie(client)
    sign_in(client)  # the same person, signing in again at once
    assert client.get("/mon-compte/").status_code == 200
    assert codes_shown(client) == []


def test_attack_after_ten_minutes_the_codes_are_gone(enrolled, monkeypatch):
    client, codes = enrolled
    later = time.time() + shown_codes.MINUTES * 60 + 1
    monkeypatch.setattr(shown_codes.time, "time", lambda: later)
    client.get("/")  # any request drops them from the session
    assert shown_codes.KEY not in readable_cookie(client)
    assert codes_shown(client) == []


def test_attack_the_time_limit_is_inside_the_seal(enrolled, monkeypatch):
    """Moving the cookie's own « until » on (were it unsigned) gains nothing."""
    client, codes = enrolled
    with client.session_transaction() as session:
        kept = session[shown_codes.KEY]
        session[shown_codes.KEY] = {**kept, "until": kept["until"] + 3600}
    later = time.time() + shown_codes.MINUTES * 60 + 1
    monkeypatch.setattr(shown_codes.time, "time", lambda: later)
    assert codes_shown(client) == []


def test_attack_the_codes_are_on_no_other_page(enrolled):
    client, codes = enrolled
    pages = ("/", "/mon-compte/", FACTORS, "/structure/", "/mon-compte/donnees", "/mon-compte/donnees.json")
    for url in pages:
        text = text_of(client.get(url))
        assert not any(code in text for code in codes), url


def test_attack_the_cookie_does_not_give_the_codes_away(enrolled):
    client, codes = enrolled
    cookie = readable_cookie(client)
    assert shown_codes.KEY in cookie  # kept, but sealed
    assert not any(code in cookie or code.replace("-", "") in cookie for code in codes)


def test_attack_the_codes_are_never_logged(app, any_client, signup, caplog):
    caplog.set_level(logging.DEBUG)
    signup.create_account()
    signup.activate()
    password_step(any_client)
    _secret, codes = enrol_totp(any_client)
    switch_language(any_client, "en", RECOVERY_CODES)
    any_client.get(RECOVERY_CODES)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    with app.app_context(), db.connection_context():
        logged += "\n".join(str(event.details) for event in AuditEvent.select())
    assert not any(re.search(code.replace("-", "-?"), logged) for code in codes)


def test_a_page_of_codes_asked_for_with_none_kept_sends_to_the_list(any_client, signup):
    signup.create_account()
    signup.activate()
    password_step(any_client)
    assert codes_shown(any_client) == []


def test_attack_codes_regenerated_in_another_session_are_no_longer_shown(app, enrolled):
    """The old set no longer works: showing it would have the person keep dead codes."""
    client, codes = enrolled
    elsewhere = another_session(app, client)
    reauthenticate(elsewhere)
    response = elsewhere.submit(RECOVERY_CODES)
    fresh = recovery_codes_in(codes_page(elsewhere, response))
    assert len(fresh) == 10 and fresh != codes
    assert codes_shown(client) == []
    assert codes_shown(elsewhere) == fresh


def test_attack_codes_revoked_with_the_last_factor_are_no_longer_shown(app, enrolled, monkeypatch):
    client, codes = enrolled
    monkeypatch.setattr(factors, "required_for", lambda user: False)
    monkeypatch.setattr(manage, "required_for", lambda user: False)
    with app.app_context(), db.connection_context():
        factor = SecondFactor.get()
    reauthenticate(client)
    client.submit(f"{FACTORS}retirer/{factor.id}", {"turn_off": "y"})
    with app.app_context(), db.connection_context():
        assert not SecondFactor.select().exists()
    assert codes_shown(client) == []


def test_code_fields_are_never_carried_over_the_language_switch(app):
    """static/js/app.js carries what was typed over the language switch,
    never a field marked data-not-carried: each one-time code field is."""
    from forms.second_factor import CodeForm, SecondStepForm

    with app.test_request_context():
        for method in ("totp", "email", "recovery"):
            assert "data-not-carried" in SecondStepForm(formdata=None).for_method(method).code()
        assert "data-not-carried" in CodeForm(formdata=None).code()
