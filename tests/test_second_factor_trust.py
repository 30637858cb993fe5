"""« Faire confiance à cet appareil pendant 30 jours »: the second factor
skipped on that browser until a password change or « partout », a plain
sign-out keeps it."""

from __future__ import annotations

import time

import pytest

from factors import totp
from models import AuditEvent, SecondFactor, User, db
from tests.support.app import query
from tests.support.operators import grant
from tests.support.responses import led_to, signs_in_first, text_of
from tests.support.second_factor import (
    FACTORS,
    VERIFY,
    code_at,
    enrol_totp,
    password_step,
    reauthenticate,
    second_step,
    start_totp,
)
from tests.support.signup import EMAIL


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


def trusted_session(enrolled):
    """Signed in on a browser trusted earlier: no second step, none passed."""
    client, secret = enrolled
    password_step(client)
    second_step(client, code_at(secret), trust="y")  # the next period's code is left for the test
    client.submit("/deconnexion")
    assert signed_in_without_second_step(client)
    return client, secret


def sent_to_second_step(response) -> bool:
    """A page's answer (a 30x, or htmx's redirect) that leads to the second step."""
    return VERIFY in (response.headers.get("HX-Redirect"), response.headers.get("Location"))


def totp_secrets(app) -> list[str]:
    apps = SecondFactor.select().where(SecondFactor.kind == SecondFactor.TOTP)
    return query(app, lambda: [totp.secret_of(factor) for factor in apps])


@pytest.mark.parametrize(
    ("change", "form"),
    [
        ("application", {}),
        ("e-mail", {}),
        ("codes-de-secours", {}),
        ("cle-d-acces/options", {}),
    ],
)
def test_attack_a_trusted_device_s_password_alone_changes_no_factor(app, enrolled, change, form):
    """The password alone (a shared or stolen computer the owner trusted)
    starts no new app, renews no recovery codes, asks no passkey: the
    second step first, which then comes back to the factors' page."""
    client, _ = trusted_session(enrolled)
    reauthenticate(client)
    with app.app_context(), db.connection_context():
        codes_before = [f.id for f in SecondFactor.select()]
    response = client.submit(f"{FACTORS}{change}", form)
    assert led_to(client, response) == VERIFY
    assert "confirmez d'abord votre identité avec l'une d'elles" in text_of(client.get(VERIFY))
    with app.app_context(), db.connection_context():
        assert [f.id for f in SecondFactor.select()] == codes_before


def test_attack_a_trusted_device_replaces_not_the_owner_s_app_nor_opens_the_console(app, enrolled):
    """An operator's trusted browser, its password known: enrolling an app of
    one's own would have replaced the owner's and marked the session as
    having passed a factor, which opens « Administration »."""
    grant(app, EMAIL)
    client, owner = trusted_session(enrolled)
    assert sent_to_second_step(client.get("/administration/"))
    reauthenticate(client)
    response = client.submit(f"{FACTORS}application/valider", {"code": "123456"})
    assert led_to(client, response) == VERIFY
    assert sent_to_second_step(client.get(f"{FACTORS}application"))
    assert totp_secrets(app) == [owner]
    assert sent_to_second_step(client.get("/administration/"))
    # Nor can it remove the owner's app.
    factor_id = query(app, lambda: SecondFactor.get(SecondFactor.kind == "totp").id)
    assert led_to(client, client.submit(f"{FACTORS}retirer/{factor_id}")) == VERIFY
    assert totp_secrets(app) == [owner]


def test_a_trusted_device_changes_its_factors_once_one_is_passed(app, enrolled):
    """The second step asked, passed: back to the factors' page, whose
    changes are then open (a new app here replaces the old one)."""
    client, owner = trusted_session(enrolled)
    response = client.submit(f"{FACTORS}application")
    assert led_to(client, response) == VERIFY
    response = second_step(client, code_at(owner, +1))
    assert led_to(client, response) == FACTORS
    new = start_totp(client)
    client.submit(f"{FACTORS}application/valider", {"code": code_at(new)})
    assert totp_secrets(app) == [new]
