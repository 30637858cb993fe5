"""The language switch without JavaScript loses nothing typed: on a page
whose form holds what a person types, the switch's button belongs to that
form, sends what it holds to ``/langue``, and the page comes back in the
other language with the fields as they were. Never a password, a code, the
captcha's answer or the CSRF token; only to the same browser, once, on the
same page. Attacks are named after what they try."""

from __future__ import annotations

import html
import json
import re

import pytest

from drafts import page_mark
from models import Draft, Structure
from tests.support.app import query
from tests.support.i18n import speak
from tests.support.responses import led_to, text_of
from tests.support.signup import PERSON
from tests.support.structures import STRUCTURE, create_structure, sign_up

TYPED = {k: v for k, v in PERSON.items() if k != "terms"}


def switch_of(page: str, language: str = "en") -> tuple[str, str]:
    """A language's button on a page: (the form it belongs to, where it sends)."""
    button = re.search(rf'<button type="submit" name="lang" value="{language}"[^>]*>', page)
    assert button, f"no switch to {language} on the page"
    owner = re.search(r' form="([^"]+)"', button.group(0))
    action = re.search(r' formaction="([^"]+)"', button.group(0))
    return (owner.group(1) if owner else ""), (html.unescape(action.group(1)) if action else "")


def value_of(page: str, name: str) -> str | None:
    field = re.search(rf'<input[^>]* name="{name}"[^>]*>', page)
    if field is None:
        return None
    value = re.search(r' value="([^"]*)"', field.group(0))
    return html.unescape(value.group(1)) if value else ""


def switch_from(client, page: str, fields: dict, language: str = "en"):
    """The button pressed: the page's form, with its token, sent to the switch."""
    mode, client.htmx = client.htmx, False  # the header is the full page's
    owner, action = switch_of(text_of(client.get(page)), language)
    client.htmx = mode
    assert owner and action.startswith("/langue?next=")
    return client.submit(action, {**fields, "lang": language})


def carried_rows(app) -> list[dict]:
    return query(app, lambda: [json.loads(d.data) for d in Draft.select() if d.key.endswith(":carried")])


def test_the_switch_is_the_sign_up_form_s_button_without_javascript(client):
    page = text_of(client.get("/inscription/"))
    assert switch_of(page) == ("signup-form", "/langue?next=%2Finscription%2F".replace("%2F", "/"))
    assert '<form id="signup-form" action="/inscription/"' in page
    # A page without such a form keeps the switch's own form.
    assert switch_of(text_of(client.get("/"))) == ("", "")


def test_step_1_comes_back_in_english_with_what_was_typed(any_client):
    response = switch_from(any_client, "/inscription/", {**TYPED, "terms": "y"})
    assert led_to(any_client, response) == "/inscription/"
    any_client.htmx = False
    page = text_of(any_client.get("/inscription/"))
    assert '<html lang="en">' in page
    for name, value in TYPED.items():
        assert value_of(page, name) == value, name
    # A box that confirms something (the terms) is ticked again by the person.
    assert re.search(r'<input[^>]* name="terms"[^>]* checked', page) is None
    # Once: the next showing is the page as the server has it.
    assert value_of(text_of(any_client.get("/inscription/")), "first_name") == ""


def test_the_carried_fields_wait_for_their_own_page(client):
    switch_from(client, "/inscription/", TYPED)
    assert value_of(text_of(client.get("/connexion")), "email") == ""
    assert value_of(text_of(client.get("/inscription/")), "last_name") == "Curie"


def test_sign_in_carries_the_address_never_the_password_attack_password_kept(app, client):
    typed = {"email": "marie.curie@exemple.fr", "password": "Secret-1234"}
    response = switch_from(client, "/connexion", typed)
    assert response.headers["Location"] == "/connexion"
    (row,) = carried_rows(app)
    assert row == {"_page": page_mark("/connexion"), "email": "marie.curie@exemple.fr"}
    page = text_of(client.get("/connexion"))
    assert value_of(page, "email") == "marie.curie@exemple.fr"
    assert "Secret-1234" not in page


def test_attack_secrets_sent_to_the_switch_are_never_kept(app, client):
    """Whatever form they come from (or are forged into): passwords, codes,
    the captcha's answer, the CSRF token."""
    secrets = {
        "password": "Secret-1234",
        "password_confirm": "Secret-1234",
        "current_password": "Ancien-5678",
        "code": "123456",
        "answer": "K7MX3P",
    }
    switch_from(client, "/inscription/", {**TYPED, **secrets})
    (row,) = carried_rows(app)
    assert set(row) == {*TYPED, "_page"}
    stored = json.dumps(row)
    assert not any(value in stored for value in secrets.values())


def test_attack_another_browser_never_gets_what_was_carried(app, client):
    switch_from(client, "/inscription/", TYPED)
    other = app.test_client()
    assert value_of(text_of(other.get("/inscription/")), "first_name") == ""
    assert value_of(text_of(client.get("/inscription/")), "first_name") == "Marie"


def test_attack_carried_fields_never_reach_the_page_shared_by_every_visitor(app, client):
    """The empty step every new visitor sees alike is rendered once for all:
    the page filled with one visitor's fields is never that one."""
    switch_from(client, "/inscription/", TYPED)
    assert value_of(text_of(client.get("/inscription/")), "first_name") == "Marie"
    for visitor in (app.test_client(), client):
        page = text_of(visitor.get("/inscription/"))
        assert value_of(page, "first_name") == "" and "Curie" not in page


def test_attack_a_flood_of_fields_is_kept_bounded(app, client):
    flood = {f"field{n}": "x" * 500 for n in range(100)}  # within a form's size limit (64 KB)
    response = switch_from(client, "/inscription/", {**TYPED, **flood})
    assert response.status_code == 303
    (row,) = carried_rows(app)
    assert len(row) <= 61
    assert all(len(value) <= 300 for value in row.values())


def test_attack_a_next_off_the_site_carries_to_the_page_it_came_from(app, client):
    page = "/inscription/"
    sent_from = {"Referer": "http://localhost" + page}
    response = client.submit("/langue?next=//evil.example/", {**TYPED, "lang": "en"}, headers=sent_from)
    assert response.headers["Location"] == page
    assert carried_rows(app)[0]["_page"] == page_mark(page)


def test_attack_hidden_fields_are_not_filled_from_the_switch(app, client, mailbox):
    """Step 6's hidden state (the directory SIRET it was filled with) is the
    page's, not the person's: never taken from what the switch was sent."""
    sign_up(client, mailbox)
    fields = {**STRUCTURE, "sirene_siret": "40483304800022"}
    switch_from(client, "/structure/nouvelle", fields)
    page = text_of(client.get("/structure/nouvelle"))
    assert value_of(page, "label") == STRUCTURE["label"]
    assert value_of(page, "identifier").replace(" ", "") == STRUCTURE["identifier"].replace(" ", "")
    assert value_of(page, "sirene_siret") in ("", None)


def test_step_6_comes_back_with_what_was_typed_under_htmx_too(app, any_client, mailbox):
    client = sign_up(any_client, mailbox)
    typed = {**STRUCTURE, "label": "Atelier du quai", "city": "Lyon", "postal_code": "69002"}
    response = switch_from(client, "/structure/nouvelle", typed)
    assert response.status_code == (204 if client.htmx else 303)
    client.htmx = False
    page = text_of(client.get("/structure/nouvelle"))
    assert '<html lang="en">' in page
    assert (value_of(page, "label"), value_of(page, "city"), value_of(page, "postal_code")) == (
        "Atelier du quai",
        "Lyon",
        "69002",
    )


def test_a_structure_edit_carries_what_it_showed_with_what_was_typed(app, client, mailbox):
    """Its record of what it showed comes back too: a change saved meanwhile
    is still told apart from what the person typed."""
    sign_up(client, mailbox)
    create_structure(client)
    url = f"/structure/{query(app, Structure.get).id}/modifier"
    long = {"address_2": "Bâtiment B, escalier C, " + "x" * 60, "address_3": "Zone d'activités " + "y" * 60}
    query(app, lambda: Structure.get().update_details(**long))
    shown = value_of(text_of(client.get(url)), "seen")
    assert len(shown) > 300  # kept whole, not cut like a typed field: cut, it would read as made up
    details = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")} | long
    switch_from(client, url, {**details, "seen": shown, "label": "Atelier du quai"})
    query(app, lambda: Structure.get().update_details(city="Lyon"))  # meanwhile, elsewhere
    page = text_of(client.get(url))
    assert value_of(page, "label") == "Atelier du quai"
    assert value_of(page, "seen") == shown
    assert value_of(page, "city") == "Paris"  # as the person left it: sent, it will take Lyon


@pytest.mark.parametrize("page", ["/connexion", "/mot-de-passe-oublie/", "/inscription/renvoyer"])
def test_each_page_with_a_form_to_type_in_names_it_to_the_switch(client, page):
    owner, action = switch_of(text_of(client.get(page)))
    assert owner and f'<form id="{owner}"' in text_of(client.get(page))
    assert action == "/langue?next=" + page


def test_an_english_switch_back_to_french_carries_too(client):
    speak(client, "en", "/")
    typed = {"email": "marie.curie@exemple.fr"}
    response = switch_from(client, "/mot-de-passe-oublie/", typed, language="fr")
    assert response.status_code == 303
    page = text_of(client.get("/mot-de-passe-oublie/"))
    assert '<html lang="fr">' in page and value_of(page, "email") == "marie.curie@exemple.fr"


def test_attack_a_field_named_like_the_record_s_page_cannot_send_the_fields_elsewhere(app, client):
    switch_from(client, "/inscription/", {**TYPED, "_page": "/connexion"})
    assert carried_rows(app)[0]["_page"] == page_mark("/inscription/")
    assert value_of(text_of(client.get("/inscription/")), "first_name") == "Marie"


def test_mon_compte_carries_its_personal_information_and_what_it_showed(app, any_client, mailbox):
    client = sign_up(any_client, mailbox)
    mode, client.htmx = client.htmx, False
    page = text_of(client.get("/mon-compte/"))
    client.htmx = mode
    assert switch_of(page)[0] == "profile-form" and '<form id="profile-form"' in page
    shown = value_of(page, "seen")
    switch_from(client, "/mon-compte/", {"seen": shown, "first_name": "Jeanne", "last_name": "Curie"})
    client.htmx = False
    page = text_of(client.get("/mon-compte/"))
    assert '<html lang="en">' in page
    assert (value_of(page, "first_name"), value_of(page, "seen")) == ("Jeanne", shown)


def test_mon_compte_shown_again_by_a_refused_form_switches_back_to_itself(app, client, mailbox):
    """A form refused without JavaScript shows the page at its POST address,
    which no GET shows: the switch comes back to « Mon compte » with what
    the personal information held, not to the home page."""
    sign_up(client, mailbox)
    shown = value_of(text_of(client.get("/mon-compte/")), "seen")
    refused_forms = {
        "/mon-compte/mot-de-passe": {"current_password": "x", "password": "y"},
        "/mon-compte/informations": {"seen": shown, "first_name": "", "last_name": "Curie"},
    }
    for url, fields in refused_forms.items():
        response = client.submit(url, fields)
        assert response.status_code == 422
        assert switch_of(text_of(response)) == ("profile-form", "/langue?next=/mon-compte/")
        assert 'name="next" value="/mon-compte/"' in text_of(response)
        typed = {"seen": shown, "first_name": "Jeanne", "lang": "en"}
        response = client.submit("/langue?next=/mon-compte/", typed)
        assert response.headers["Location"] == "/mon-compte/"
        page = text_of(client.get("/mon-compte/"))
        assert '<html lang="en">' in page and value_of(page, "first_name") == "Jeanne"
        client.submit("/langue", {"lang": "fr", "next": "/"})


def test_a_structure_edit_shown_again_by_a_refused_siret_switches_back_to_itself(app, client, mailbox):
    sign_up(client, mailbox)
    create_structure(client, identifier_type="en_cours", identifier="")
    url = f"/structure/{query(app, Structure.get).id}/modifier"
    response = client.submit(url.replace("/modifier", "/siret"), {"identifier": "123"})
    assert response.status_code == 422
    assert switch_of(text_of(response)) == ("structure-edit-form", "/langue?next=" + url)


def test_mes_donnees_lists_what_was_typed_not_what_the_page_kept_for_itself(app, any_client, mailbox):
    """Between the switch and the page's return, « Mes données » and its file
    listed the carried record's page (« _page ») and the encoded record of
    what the page showed: neither was typed by the person."""
    client = sign_up(any_client, mailbox)
    mode, client.htmx = client.htmx, False
    shown = value_of(text_of(client.get("/mon-compte/")), "seen")
    client.htmx = mode
    switch_from(client, "/mon-compte/", {"seen": shown, "first_name": "Jeanne", "last_name": "Curie"})
    assert [row["_page"] for row in carried_rows(app)] == [page_mark("/mon-compte/")]  # kept, for the page

    page = text_of(client.get("/mon-compte/donnees"))
    assert "Jeanne" in page
    assert "_page" not in page and shown not in page and "<code>seen</code>" not in page
    [draft] = json.loads(client.get("/mon-compte/donnees.json").get_data(as_text=True))["brouillons"]
    assert draft["contenu"] == {"first_name": "Jeanne", "last_name": "Curie"}


STEP_4 = {"first_name": "Marie-Anne", "last_name": "Curie", "phone": "06 12 34 56 78", "contact_email": ""}
STEP_4_PASSWORDS = {"password": "Velo-Rouge-Matin-42", "password_confirm": "Velo-Rouge-Matin-42"}


def test_step_4_comes_back_in_english_with_its_corrections_never_the_password(client, signup):
    """Step 4 keeps no draft (its link names the account): without
    JavaScript its form sends the switch what was corrected there."""
    signup.create_account()
    path = signup.activation_path()
    assert switch_of(text_of(client.get(path)))[0] == "activation-form"
    response = switch_from(client, path, {**STEP_4, **STEP_4_PASSWORDS})
    assert response.headers["Location"] == path
    page = text_of(client.get(path))
    assert '<html lang="en">' in page
    for name, value in STEP_4.items():
        assert value_of(page, name) == value, name
    assert STEP_4_PASSWORDS["password"] not in page
    assert value_of(text_of(client.get(path)), "first_name") == "Marie"  # once: then as the account has it


def test_attack_a_carried_record_never_holds_an_activation_link(app, client, signup):
    """The database keeps an activation link's key hashed only: the carried
    record (and a backup of it), and the session's cookie, name step 4's
    page by a digest, never by its path."""
    signup.create_account()
    path = signup.activation_path()
    key = path.rstrip("/").rsplit("/", 1)[-1]
    switch_from(client, path, STEP_4)
    assert key not in json.dumps(carried_rows(app))
    with client.session_transaction() as session:
        assert key not in json.dumps(dict(session), default=str)
    assert value_of(text_of(client.get(path)), "first_name") == "Marie-Anne"
