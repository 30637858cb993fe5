"""A form whose CSRF token went stale (a sign-in in another tab renews the
session's token; an ended session drops it). Sent in place (htmx), the page
and what was typed stay, a notice says to send it again, and the answer
names the session's token so that sending again works. Sent as a full page
(JavaScript off) from one of the portal's pages, as the browser says, the
page comes back with what was typed; otherwise the 400 page. Attacks are
named after what they try."""

from __future__ import annotations

import json

import pytest

from models import Draft
from tests.support.app import query
from tests.support.i18n import speak
from tests.support.responses import text_of
from tests.support.signup import PERSON
from tests.support.structures import sign_up
from tests.test_language_carry import value_of

FROM_STEP_1 = {"Referer": "http://localhost/inscription/"}
SAME_ORIGIN = {**FROM_STEP_1, "Sec-Fetch-Site": "same-origin"}
KEPT = "Cette page n'était plus à jour et le formulaire n'a pas été pris en compte."
TYPED = {name: value for name, value in PERSON.items() if name != "terms"}
STALE = "Cette page n'était plus à jour : elle l'est de nouveau, et ce que vous avez saisi est conservé."


def test_a_stale_form_sent_in_place_keeps_its_page_and_can_be_sent_again(htmx_client):
    client = htmx_client
    client.get("/inscription/")
    response = client.post("/inscription/", data={**PERSON, "csrf_token": "stale"})

    assert response.status_code == 400
    assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == ("#flashes", "innerHTML")
    assert STALE in text_of(response) and 'role="alert"' in text_of(response)
    token = json.loads(response.headers["HX-Trigger"])["portail:session"]
    assert token

    again = client.post("/inscription/", data={**PERSON, "csrf_token": token})
    assert again.status_code == 200 and "Reproduire la suite de caractères" in text_of(again)


def test_a_stale_form_the_browser_does_not_place_gets_the_400_page(client):
    """A browser that says neither ``Sec-Fetch-Site`` nor ``Origin``: nothing
    tells the portal's own page sent the form."""
    client.get("/inscription/")
    response = client.post("/inscription/", data={**PERSON, "csrf_token": "stale"}, headers=FROM_STEP_1)
    assert response.status_code == 400
    assert "Rechargez la page et recommencez." in text_of(response)
    assert "HX-Trigger" not in response.headers and "HX-Retarget" not in response.headers


def test_attack_a_cross_site_form_is_told_no_token(client):
    """A form posted from another site cannot send htmx's header (a custom
    header needs the portal's consent, which it never gives): it gets the
    plain 400 page, and no token."""
    elsewhere = {"Origin": "https://pirate.example", "Sec-Fetch-Site": "cross-site"}
    response = client.post("/inscription/", data=PERSON, headers=elsewhere)
    assert response.status_code == 400
    assert "HX-Trigger" not in response.headers and "HX-Retarget" not in response.headers


def test_a_stale_form_sent_as_a_full_page_comes_back_with_what_was_typed(client):
    client.get("/inscription/")
    sent = {**PERSON, "password": "Secret-1234", "csrf_token": "stale"}
    response = client.post("/inscription/", data=sent, headers=SAME_ORIGIN)
    assert response.status_code == 303 and response.headers["Location"] == "/inscription/"

    page = text_of(client.get("/inscription/"))
    assert KEPT in page
    for name, value in TYPED.items():
        assert value_of(page, name) == value, name
    assert "Secret-1234" not in page
    # The page's own token: sending it again goes on to the captcha.
    again = client.submit("/inscription/", PERSON, follow_redirects=True)
    assert "Reproduire la suite de caractères" in text_of(again)


def test_what_a_stale_form_held_comes_back_once(client):
    client.post("/inscription/", data={**PERSON, "csrf_token": "stale"}, headers=SAME_ORIGIN)
    assert value_of(text_of(client.get("/inscription/")), "first_name") == "Marie"
    assert value_of(text_of(client.get("/inscription/")), "first_name") == ""


def test_a_browser_without_sec_fetch_site_is_placed_by_its_origin(client):
    client.get("/inscription/")
    headers = {**FROM_STEP_1, "Origin": "http://localhost"}
    response = client.post("/inscription/", data={**PERSON, "csrf_token": "stale"}, headers=headers)
    assert response.status_code == 303
    assert value_of(text_of(client.get("/inscription/")), "last_name") == "Curie"


def profile_sent_stale(client):
    """« Mon compte »'s details sent from its page with a stale token."""
    headers = {"Referer": "http://localhost/mon-compte/", "Sec-Fetch-Site": "same-origin"}
    sent = {"first_name": "Maria", "last_name": "Skłodowska", "csrf_token": "stale"}
    return client.post("/mon-compte/informations", data=sent, headers=headers)


def carried_count(app) -> int:
    return query(app, lambda: Draft.select().where(Draft.key.endswith(":carried")).count())


def test_attack_a_signed_in_session_s_stale_form_reaches_nobody_who_signed_in_since(app, client, mailbox):
    """A's tab is open; B signs in in another tab, which renews the token:
    A's form, sent then, must not fill B's « Mon compte » (and be saved
    over B's details). Whose form it was cannot be told: nothing is kept."""
    sign_up(client, mailbox)
    assert profile_sent_stale(client).status_code == 400
    assert carried_count(app) == 0
    assert value_of(text_of(client.get("/mon-compte/")), "last_name") == "Curie"


def test_a_page_that_needs_an_account_promises_nothing_to_a_visitor_signed_in_to_none(app, client):
    """The cookie gone, a form of « Mon compte » has nobody to come back to:
    the 400 page, not a notice that it is kept on « Se connecter »."""
    client.get("/")
    assert profile_sent_stale(client).status_code == 400
    assert carried_count(app) == 0


def test_attack_a_stale_form_is_never_kept_for_the_account_an_ended_cookie_names(app, client, mailbox):
    """Someone types step 1 on a shared computer whose cookie still names
    an account whose session ended: the token outlives a session, so a
    stale one says the form was not that session's. Nothing waits for that
    account; the step comes back to the browser, as to any visitor."""
    from tests.test_session_ended import carried_rows, end_sessions

    sign_up(client, mailbox)
    end_sessions(app)
    response = client.post("/inscription/", data={**PERSON, "csrf_token": "stale"}, headers=SAME_ORIGIN)
    assert response.status_code == 303 and response.headers["Location"] == "/inscription/"
    rows = carried_rows(app)
    assert rows and all("_for" not in row for row in rows)
    assert query(app, lambda: Draft.select().where(Draft.key.endswith(":resume")).count()) == 0


def test_the_language_switch_sent_stale_from_a_page_without_typing_keeps_nothing(app, client):
    client.get("/inscription/")
    sent = {"lang": "en", "next": "/inscription/", "csrf_token": "stale"}
    response = client.post("/langue", data=sent, headers=SAME_ORIGIN)
    assert response.status_code == 400
    assert carried_count(app) == 0


def test_the_language_switch_sent_stale_from_step_1_carries_the_step_s_fields(client):
    """Without JavaScript the switch is a button of the step's form: sent
    stale, the step comes back with what was typed, in the same language."""
    client.get("/inscription/")
    sent = {**PERSON, "lang": "en", "next": "/inscription/", "csrf_token": "stale"}
    response = client.post("/langue?next=/inscription/", data=sent, headers=SAME_ORIGIN)
    assert response.status_code == 303 and response.headers["Location"] == "/inscription/"
    page = text_of(client.get("/inscription/"))
    assert KEPT in page and value_of(page, "last_name") == "Curie" and '<html lang="fr">' in page


def test_the_notice_is_said_by_the_page_that_takes_the_form_back_only(client):
    """Carried to a page that goes elsewhere instead (a later step, another
    page), the form is not said to be back."""
    client.post("/inscription/", data={**PERSON, "csrf_token": "stale"}, headers=SAME_ORIGIN)
    assert KEPT not in text_of(client.get("/connexion"))  # another page: the record waits for its own
    page = text_of(client.get("/inscription/"))
    assert page.count(KEPT) == 1


def test_which_pages_need_an_account_is_what_an_anonymous_visit_finds(app, client):
    """``needs_account`` reads Flask-Login's wrapper on each view: checked
    against what a visitor signed in to no account gets from every page."""
    from flask import current_app

    from views import needs_account

    with app.test_request_context():
        rules = [
            rule.rule
            for rule in current_app.url_map.iter_rules()
            if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/static")
        ]
        expected = {path: needs_account(path) for path in rules}
    assert any(expected.values()) and not all(expected.values())
    sent_to_sign_in = set()
    for path in expected:
        response = client.get(path)
        if response.status_code in (302, 303) and response.headers["Location"].startswith("/connexion"):
            sent_to_sign_in.add(path)
    needed = {path for path, needs in expected.items() if needs}
    # The second step of a sign-in is « Se connecter »'s own, not a page an account reaches.
    assert sent_to_sign_in - needed == {"/connexion/verification/"}
    assert needed <= sent_to_sign_in


def test_the_notice_speaks_english(client):
    speak(client, "en")
    client.post("/inscription/", data={**PERSON, "csrf_token": "stale"}, headers=SAME_ORIGIN)
    page = text_of(client.get("/inscription/"))
    assert "This page was out of date and the form was not accepted." in page
    assert value_of(page, "first_name") == "Marie"


def test_a_form_with_nothing_typed_gets_the_400_page(client):
    response = client.post("/inscription/", data={"csrf_token": "stale", "terms": ""}, headers=SAME_ORIGIN)
    assert response.status_code == 400 and "Rechargez la page et recommencez." in text_of(response)


@pytest.mark.parametrize(
    "placed",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://pirate.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://pirate.localhost"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "https://pirate.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},
    ],
)
def test_attack_another_site_s_form_plants_nothing_in_the_portal_s_page(app, client, placed):
    """A form on another site (or a sibling subdomain, or a sandboxed frame)
    posted to the portal, claiming the portal's page as its referrer: it
    must not fill the page for whoever opens it next in that browser."""
    client.get("/inscription/")
    response = client.post(
        "/inscription/", data={**PERSON, "last_name": "Pirate"}, headers={**FROM_STEP_1, **placed}
    )
    assert response.status_code == 400
    assert carried_count(app) == 0
    assert "Pirate" not in text_of(client.get("/inscription/"))


def test_attack_a_stale_form_cannot_be_sent_back_to_a_page_off_the_site(client):
    headers = {"Referer": "https://pirate.example/inscription/", "Sec-Fetch-Site": "same-origin"}
    response = client.post("/inscription/", data={**PERSON, "csrf_token": "stale"}, headers=headers)
    assert response.status_code == 400


def test_attack_secrets_of_a_stale_form_are_never_kept(app, client):
    secrets = {
        "password": "Secret-1234",
        "password_confirm": "Secret-1234",
        "code": "123456",
        "answer": "K7MX3P",
    }
    client.post("/inscription/", data={**PERSON, **secrets, "csrf_token": "stale"}, headers=SAME_ORIGIN)
    stored = query(app, lambda: [d.data for d in Draft.select() if d.key.endswith(":carried")])
    assert stored and not any(value in row for row in stored for value in secrets.values())
