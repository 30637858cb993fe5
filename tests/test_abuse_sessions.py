"""Sign-out ends the session server-side: a copied session cookie is dead
after « Se déconnecter »; « Se déconnecter partout » and a password change end
every session and revoke every device cookie; a plain sign-out keeps them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import flash, session

import breach
import sessions
import signing
from models import User, UserSession, db, utcnow
from tests.support.app import Client, HtmxClient
from tests.support.constants import PASSWORD
from tests.support.responses import sent_to_sign_in
from tests.support.signup import Signup

EMAIL = "marie.curie@exemple.fr"
WRONG = "Pas-le-bon-1234"
NEW_PASSWORD = "Autre-Cheval-Correct-77"


@pytest.fixture(params=["page", "htmx"])
def browsers(request, app, mailbox):
    """``browsers(n)``: n browsers of the same person, each signed in."""
    app.test_client_class = HtmxClient if request.param == "htmx" else Client

    def open_(count: int) -> list[Client]:
        first = app.test_client()
        signup = Signup(first, mailbox)
        signup.create_account()
        signup.activate()
        others = [app.test_client() for _ in range(count - 1)]
        for browser in others:
            assert signs_in(browser, PASSWORD)
        return [first, *others]

    return open_


def signs_in(browser, password, email=EMAIL) -> bool:
    response = browser.submit("/connexion", {"email": email, "password": password})
    return response.status_code in (204, 303)


def account_page(browser) -> int:
    return browser.get("/mon-compte/").status_code


def copy_session(browser) -> Client:
    """Another client holding the same session cookie: the attacker's copy."""
    thief = browser.application.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    return thief


def strangers_fail(app, times: int = 6) -> None:
    stranger = app.test_client()
    for _ in range(times):
        stranger.submit("/connexion", {"email": EMAIL, "password": WRONG})


def test_copied_session_cookie_is_dead_after_sign_out(browsers):
    [browser] = browsers(1)
    thief = copy_session(browser)
    assert account_page(thief) == 200  # the copy works while the session lives
    browser.submit("/deconnexion")
    assert account_page(thief) != 200
    assert account_page(browser) != 200


def test_sign_out_ends_this_session_only(browsers):
    home, work = browsers(2)
    home.submit("/deconnexion")
    assert account_page(work) == 200
    assert home.get_cookie("device") is not None  # the device cookie stays


def test_the_device_cookie_survives_a_plain_sign_out(app, browsers):
    [browser] = browsers(1)
    browser.submit("/deconnexion")
    strangers_fail(app)
    assert signs_in(browser, PASSWORD)


def test_sign_out_everywhere_ends_every_session_and_device_cookie(app, browsers):
    home, work = browsers(2)
    thief = copy_session(home)
    page = home.get("/mon-compte/").get_data(as_text=True)
    assert "Se déconnecter partout" in page
    response = home.submit("/mon-compte/deconnexion-partout")
    assert response.status_code in (204, 303)
    for browser in (home, work, thief):
        assert account_page(browser) != 200
    strangers_fail(app)
    # The device cookies were revoked: the work browser is a stranger now.
    assert not signs_in(work, PASSWORD)


def test_sign_out_everywhere_needs_a_signed_in_post(app, client):
    assert client.get("/mon-compte/deconnexion-partout").status_code == 405
    response = client.post("/mon-compte/deconnexion-partout")
    assert response.status_code == 400  # no CSRF token


def test_a_password_change_revokes_the_other_device_cookies(app, browsers):
    home, work = browsers(2)
    data = {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    assert home.submit("/mon-compte/mot-de-passe", data).status_code in (200, 303)
    assert account_page(work) != 200
    assert account_page(home) == 200
    home.submit("/deconnexion")
    strangers_fail(app)
    assert not signs_in(work, NEW_PASSWORD)  # revoked
    assert signs_in(home, NEW_PASSWORD)  # re-issued to the browser that changed it


def test_a_session_ends_after_its_maximum_age(app, browsers):
    [browser] = browsers(1)
    with app.app_context(), db.connection_context():
        age = timedelta(days=app.config["SESSION_MAX_AGE_DAYS"], minutes=1)
        UserSession.update(created_at=utcnow() - age).execute()
    assert account_page(browser) != 200


def test_purge_deletes_sessions_past_their_age_only(app, browsers):
    import sessions

    browsers(2)
    with app.app_context(), db.connection_context():
        old = UserSession.select().order_by(UserSession.id).first()
        age = timedelta(days=app.config["SESSION_MAX_AGE_DAYS"], minutes=1)
        UserSession.update(created_at=utcnow() - age).where(UserSession.id == old.id).execute()
    with app.app_context(), db.connection_context():
        assert sessions.purge() == 1
        assert UserSession.select().count() == 1


def test_sessions_are_stored_as_hashes(app, browsers):
    [browser] = browsers(1)
    with app.app_context(), db.connection_context():
        rows = list(UserSession.select())
        user = User.by_email(EMAIL)
    assert [row.user_id for row in rows] == [user.id]
    with browser.session_transaction() as session:
        assert rows[0].key_hash != session["session_key"]


# -- the CSRF token is the session's: a new session, a new token -------------------------


def test_a_token_known_before_signing_in_is_refused_after_attack_planted_csrf_cookie(browsers):
    """The attacker plants their anonymous session cookie in the victim's
    browser and knows its token; once the victim signs in on that cookie,
    the token forges nothing."""
    [victim] = browsers(1)
    assert victim.submit("/deconnexion").status_code in (200, 204, 303)
    planted = victim.csrf_token()  # the anonymous session's token: the attacker's too
    assert signs_in(victim, PASSWORD)
    profile = {"first_name": "Pirate", "last_name": "Curie", "phone": "", "contact_email": ""}
    response = victim.post("/mon-compte/informations", data={**profile, "csrf_token": planted})
    assert response.status_code == 400
    assert first_name(victim.application) == "Marie"
    assert victim.submit("/mon-compte/informations", {**profile, "first_name": "Maria"}).status_code in (
        200,
        303,
    )
    assert first_name(victim.application) == "Maria"  # the session's own token passes


def test_a_page_signed_in_in_place_learns_its_new_token(app, mailbox):
    """Under htmx the page is not reloaded when the person signs in: the
    answer names the new session's token (HX-Trigger), which passes."""
    app.test_client_class = HtmxClient
    browser = app.test_client()
    signup = Signup(browser, mailbox)
    signup.create_account()
    signup.activate()
    browser.submit("/deconnexion")
    before = browser.csrf_token()
    response = browser.post("/connexion", data={"email": EMAIL, "password": PASSWORD, "csrf_token": before})
    announced = json.loads(response.headers["HX-Trigger"])[sessions.NEW_SESSION_EVENT]
    assert breach.unmask(announced) != breach.unmask(before)
    profile = {"first_name": "Maria", "last_name": "Curie", "phone": "", "contact_email": ""}
    assert (
        browser.post("/mon-compte/informations", data={**profile, "csrf_token": announced}).status_code == 200
    )
    assert first_name(app) == "Maria"


def first_name(app) -> str:
    with app.app_context(), db.connection_context():
        return User.get(User.email == EMAIL).first_name


def test_signing_out_keeps_the_token_so_other_tabs_are_sent_to_sign_in(browsers):
    """Another tab of the portal, open when the person signed out, still
    holds the session's token: its next form leads to « Se connecter »,
    never to an expired form (400)."""
    [browser] = browsers(1)
    tab = browser.csrf_token()
    assert browser.submit("/deconnexion").status_code in (200, 204, 303)
    profile = {"first_name": "Maria", "last_name": "Curie", "phone": "", "contact_email": ""}
    profile["csrf_token"] = tab
    assert sent_to_sign_in(browser, browser.post("/mon-compte/informations", data=profile)).startswith(
        "/connexion"
    )
    assert first_name(browser.application) == "Marie"


# -- the cookie's size --------------------------------------------------------------------

SIGN_IN_FIRST = "Connectez-vous pour accéder à cette page."


def session_data(browser) -> dict:
    app = browser.application
    cookie = browser.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def test_attack_redirects_never_followed_do_not_swell_the_session(any_client):
    """Each request for a page behind « Se connecter » queues the message that
    page shows; a client that never follows the redirect (page or htmx) does
    not add one to its cookie each time: it would carry thousands, packed
    small by zlib, read and signed again on every request."""
    for _ in range(200):
        sent_to_sign_in(any_client, any_client.get("/espace/"))
    assert session_data(any_client)["_flashes"] == [("info", SIGN_IN_FIRST)]
    assert any_client.get("/connexion").get_data(as_text=True).count(SIGN_IN_FIRST) == 1


def test_only_the_latest_distinct_messages_wait(app):
    with app.test_request_context("/"):
        for number in range(sessions.FLASHES_KEPT + 3):
            flash(f"message {number}")
            flash(f"message {number}")
        response = app.make_response("")
        app.session_interface.save_session(app, session, response)
    cookie = response.headers["Set-Cookie"].split(";")[0].partition("=")[2]
    kept = app.session_interface.get_signing_serializer(app).loads(cookie)["_flashes"]
    assert kept == [("message", f"message {number}") for number in range(3, sessions.FLASHES_KEPT + 3)]


def test_attack_a_cookie_swollen_before_the_bound_is_a_fresh_session(app, any_client):
    """A cookie signed with the portal's key whose messages were queued before
    they were bounded (thousands of one sentence, a few kilobytes once
    packed): it is read as no session at all, and the page answers as to a
    new visitor, unpacking no more than signing.LARGEST_PAYLOAD bytes."""
    serializer = app.session_interface.get_signing_serializer(app)
    swollen = serializer.dumps({"_flashes": [("info", SIGN_IN_FIRST)] * 10_000})
    assert len(swollen) < 4096  # a cookie a browser keeps
    any_client.set_cookie(app.config["SESSION_COOKIE_NAME"], swollen)
    page = any_client.get("/connexion")
    assert page.status_code == 200 and SIGN_IN_FIRST not in page.get_data(as_text=True)
    space = any_client.get("/espace/")
    sent_to_sign_in(any_client, space)  # as a new visitor is
    assert SIGN_IN_FIRST not in space.get_data(as_text=True)
    assert session_data(any_client)["_flashes"] == [("info", SIGN_IN_FIRST)]  # the new session's own
    with pytest.raises(signing.PayloadTooLarge):
        serializer.loads(swollen)
    lawful = {"_flashes": [("info", SIGN_IN_FIRST)] * sessions.FLASHES_KEPT, "csrf_token": "ab" * 20}
    assert serializer.loads(serializer.dumps(lawful)) == lawful
