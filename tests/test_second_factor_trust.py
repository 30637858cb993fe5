"""« Faire confiance à cet appareil pendant 30 jours »: the second factor
skipped on that browser until a password change or « partout », a plain
sign-out keeps it."""

from __future__ import annotations

import time

import pytest

from models import AuditEvent, User, db
from tests.support.responses import signs_in_first, text_of
from tests.support.second_factor import VERIFY, code_at, enrol_totp, password_step, second_step


@pytest.fixture
def enrolled(app, any_client, signup):
    signup.create_account()
    signup.activate()
    password_step(any_client)
    secret, _ = enrol_totp(any_client)
    any_client.submit("/deconnexion")
    return any_client, secret


def signed_in_without_second_step(client) -> bool:
    response = password_step(client)
    return response.status_code in (204, 303) and response.headers.get("Location", "") != VERIFY


def asks_second_step(client) -> bool:
    response = password_step(client)
    asked = response.headers.get("HX-Push-Url" if client.htmx else "Location") == VERIFY
    return asked and signs_in_first(client.get("/mon-compte/"))


def test_the_second_step_offers_to_trust_this_device(enrolled):
    client, _ = enrolled
    password_step(client)
    assert "Faire confiance à cet appareil pendant 30 jours" in text_of(client.get(VERIFY))


def test_a_trusted_browser_skips_the_second_factor_after_a_plain_sign_out(app, enrolled):
    client, secret = enrolled
    password_step(client)
    response = second_step(client, code_at(secret, +1), trust="y")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("device=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    client.submit("/deconnexion")
    assert signed_in_without_second_step(client)
    assert client.get("/mon-compte/").status_code == 200
    with app.app_context(), db.connection_context():
        assert AuditEvent.select().where(AuditEvent.details.contains("trusted_device")).count() == 1


def test_without_the_box_the_browser_is_not_trusted(enrolled):
    client, secret = enrolled
    password_step(client)
    second_step(client, code_at(secret, +1))
    client.submit("/deconnexion")
    assert password_step(client).status_code in (200, 303)
    assert signs_in_first(client.get("/mon-compte/"))


def test_a_password_change_revokes_the_trust(app, enrolled):
    client, secret = enrolled
    password_step(client)
    second_step(client, code_at(secret, +1), trust="y")
    with app.app_context(), db.connection_context():
        User.update(session_epoch=User.session_epoch + 1).execute()  # as a password change or « partout »
    client.submit("/deconnexion")
    assert asks_second_step(client)


def test_a_forged_trust_cookie_is_refused_forged_cookie_attack(app, enrolled):
    client, secret = enrolled
    password_step(client)
    second_step(client, code_at(secret, +1), trust="y")
    client.submit("/deconnexion")
    cookie = client.get_cookie("device")
    other = app.test_client()
    # A character of the signature's middle changed: the last ones carry padding bits, and
    # « xx » in their place decoded, about once in a thousand, to the same signature.
    value = cookie.value
    flipped = "A" if value[-6] != "A" else "B"
    other.set_cookie("device", value[:-6] + flipped + value[-5:])
    assert asks_second_step(other)


def test_a_trust_ends_after_thirty_days(app, enrolled, monkeypatch):
    client, secret = enrolled
    password_step(client)
    second_step(client, code_at(secret, +1), trust="y")
    client.submit("/deconnexion")
    later = time.time() + 31 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert asks_second_step(client)
