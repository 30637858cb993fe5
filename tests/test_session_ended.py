"""A form sent after its session ended (« Se déconnecter partout » from
another browser, a session past its age) loses nothing typed: « Se
connecter » first, then the page it was sent from, filled as it was sent;
for the account that session was signed in to only, never a password.
Attacks are named after what they try."""

from __future__ import annotations

import json

from models import Draft, UserSession
from tests.support.app import Client, clean_environment, make_app, outbox, query
from tests.support.constants import EMAIL, PASSWORD
from tests.support.responses import text_of
from tests.support.second_factor import code_at, enrol_totp, second_step
from tests.support.structures import PIERRE, SIRET_NORMALISED, STRUCTURE, new_client, sign_up

STEP_6 = "/structure/nouvelle"
KEPT = "ce que vous avez saisi vous attend sur la page."


def end_sessions(app) -> None:
    """Every session ends, as « Se déconnecter partout » elsewhere does."""
    query(app, lambda: UserSession.delete().execute())


def carried_rows(app) -> list[dict]:
    kept = (":carried", ":resume")  # the page's record, and the one waiting for a sign-in
    return query(app, lambda: [json.loads(d.data) for d in Draft.select() if d.key.endswith(kept)])


def sent_after_the_end(client, path: str, fields: dict, to: str | None = None):
    """The form of page ``path`` sent (to ``to``, or the page's own address)
    once its session has ended: the answer leads to « Se connecter »."""
    where = f"http://localhost{path}"  # the page the form is on, as a browser names it
    response = client.submit(to or path, fields, headers={"Referer": where, "HX-Current-URL": where})
    if client.htmx:
        assert response.headers["HX-Redirect"].startswith("/connexion?next=")
        return response.headers["HX-Redirect"]
    assert response.status_code in (302, 303)
    return response.headers["Location"]


def sign_in(client, login: str, email: str = EMAIL):
    """« Se connecter » at ``login`` (its address names the page to come back to)."""
    mode, client.htmx = client.htmx, False
    response = client.submit(login, {"email": email, "password": PASSWORD})
    client.htmx = mode
    assert response.status_code == 303, text_of(response)
    return response.headers["Location"]


def test_step_6_sent_after_its_session_ended_comes_back_filled_once_signed_in(app, any_client, mailbox):
    client = sign_up(any_client, mailbox)
    client.get(STEP_6)
    end_sessions(app)
    typed = {**STRUCTURE, "company_name": "Ateliers Curie et fils", "city": "Lyon"}

    login = sent_after_the_end(client, STEP_6, typed)

    assert login == "/connexion?next=/structure/nouvelle"
    mode, client.htmx = client.htmx, False
    assert KEPT in text_of(client.get(login))
    client.htmx = mode
    assert sign_in(client, login) == STEP_6
    client.htmx = False
    page = text_of(client.get(STEP_6))
    assert 'value="Ateliers Curie et fils"' in page and 'value="Lyon"' in page
    assert carried_rows(app) == []  # taken back once
    assert 'value="Ateliers Curie et fils"' not in text_of(client.get(STEP_6))


def test_mon_compte_sent_after_its_session_ended_comes_back_filled(app, any_client, mailbox):
    client = sign_up(any_client, mailbox)
    end_sessions(app)
    typed = {"first_name": "Jeanne", "last_name": "Curie"}
    login = sent_after_the_end(client, "/mon-compte/", typed, to="/mon-compte/informations")
    assert sign_in(client, login) == "/mon-compte/"
    client.htmx = False
    assert 'value="Jeanne"' in text_of(client.get("/mon-compte/"))


def test_attack_a_password_sent_after_the_session_ended_is_never_kept(app, client, mailbox):
    sign_up(client, mailbox)
    end_sessions(app)
    secret = "Nouveau-mot-de-passe-2026!"
    sent_after_the_end(
        client,
        "/mon-compte/",
        {"current_password": PASSWORD, "password": secret, "password_confirm": secret, "first_name": "Jo"},
        to="/mon-compte/mot-de-passe",
    )
    [row] = carried_rows(app)
    assert secret not in json.dumps(row) and PASSWORD not in json.dumps(row)
    assert row["first_name"] == "Jo"


def test_attack_another_account_signing_in_on_the_browser_gets_nothing(app, client, mailbox):
    """A shared computer: Marie's session ended while she typed; Pierre signs
    in on the same browser and opens the same page."""
    sign_up(client, mailbox)
    new_client(app, mailbox, PIERRE)  # Pierre's account
    client.get(STEP_6)
    end_sessions(app)
    login = sent_after_the_end(client, STEP_6, {**STRUCTURE, "company_name": "Secret de Marie"})
    sign_in(client, login, PIERRE["email"])
    assert "Secret de Marie" not in text_of(client.get(STEP_6))
    assert carried_rows(app) == []  # dropped at Pierre's sign-in


def test_attack_a_visitor_never_signed_in_leaves_nothing_on_the_server(app, client):
    client.get("/")
    response = client.submit(STEP_6, {**STRUCTURE, "company_name": "Rien"})
    assert response.status_code in (302, 303)
    assert carried_rows(app) == []
    assert KEPT not in text_of(client.get(response.headers["Location"]))


def test_attack_a_flood_of_fields_sent_after_the_end_is_kept_bounded(app, client, mailbox):
    sign_up(client, mailbox)
    end_sessions(app)
    # within a form's size limit (64 KB); one field a page has, or nothing typed is kept
    flood = {"first_name": "Jo", **{f"f{i}": "x" * 500 for i in range(100)}}
    sent_after_the_end(client, "/mon-compte/", flood, to="/mon-compte/informations")
    [row] = carried_rows(app)
    fields = {name: value for name, value in row.items() if not name.startswith("_")}
    assert len(fields) == 60 and max(len(value) for value in fields.values()) <= 300


def test_step_6_comes_back_filled_after_the_second_step_too(app, client, mailbox):
    """The pending sign-in between the password and the code keeps what
    waits; only the session the code starts takes it over."""
    sign_up(client, mailbox)
    secret, _codes = enrol_totp(client)
    end_sessions(app)
    login = sent_after_the_end(client, STEP_6, {**STRUCTURE, "company_name": "Ateliers à deux étapes"})
    response = client.submit(login, {"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 303 and "verification" in response.headers["Location"]
    response = second_step(client, code_at(secret, steps=1))
    assert response.status_code == 303 and response.headers["Location"] == STEP_6, text_of(response)
    assert 'value="Ateliers à deux étapes"' in text_of(client.get(STEP_6))


def test_the_language_switch_on_the_sign_in_page_keeps_what_waits_for_the_account(app, client, mailbox):
    """Without JavaScript the switch on « Se connecter » sends the sign-in
    form, which it carries for that page: what waits for the account stays."""
    sign_up(client, mailbox)
    client.get(STEP_6)
    end_sessions(app)
    login = sent_after_the_end(client, STEP_6, {**STRUCTURE, "company_name": "Ateliers bilingues"})

    switched = client.submit(f"/langue?next={login}", {"email": EMAIL, "password": "", "lang": "en"})
    assert switched.status_code == 303 and switched.headers["Location"] == login
    assert f'value="{EMAIL}"' in text_of(client.get(login))  # the sign-in form's own, carried back

    assert sign_in(client, login) == STEP_6
    assert 'value="Ateliers bilingues"' in text_of(client.get(STEP_6))


def test_a_form_with_nothing_typed_sent_after_the_end_only_says_to_sign_in(app, any_client, mailbox):
    """« Demander le rattachement »: a button and the page's hidden fields.
    Nothing typed waits, and the message does not say something does."""
    client = sign_up(any_client, mailbox)
    end_sessions(app)
    login = sent_after_the_end(
        client,
        "/structure/",
        {"identifier_type": "siret", "identifier": SIRET_NORMALISED},
        to="/structure/rattachement/demande",
    )
    client.htmx = False
    page = text_of(client.get(login))
    assert KEPT not in page and "Connectez-vous pour accéder à cette page." in page
    assert carried_rows(app) == []


def test_attack_an_ended_sessions_cookie_sent_again_and_again_writes_rows_within_the_limit(
    tmp_path, monkeypatch
):
    """Each answer gives the browser a draft id, which a copy of the ended
    session's cookie sent again never holds: each request would write a row."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_DRAFT="3 per hour")
    app.test_client_class = Client
    client = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    token = client.csrf_token()
    end_sessions(app)
    ended = client.get_cookie("session").value
    for n in range(6):
        client.set_cookie("session", ended)
        client.post(
            "/mon-compte/informations",
            data={"csrf_token": token, "first_name": f"Jo{n}"},
            headers={"Referer": "http://localhost/mon-compte/"},
        )
    assert len(carried_rows(app)) == 3


def test_a_page_whose_address_has_a_fragment_comes_back_filled(app, htmx_client, mailbox):
    """« Aller au contenu » puts #main in the address bar, which htmx names
    (HX-Current-URL); the page the sign-in comes back to has no fragment
    in its request, nor should what waits for it."""
    client = sign_up(htmx_client, mailbox)
    end_sessions(app)
    there = f"http://localhost{STEP_6}?siret=73282932000074#main"
    response = client.submit(
        STEP_6, {**STRUCTURE, "company_name": "Ateliers du lien"}, headers={"HX-Current-URL": there}
    )
    login = response.headers["HX-Redirect"]
    assert "main" not in login
    client.htmx = False
    back = sign_in(client, login)
    assert back == f"{STEP_6}?siret=73282932000074"
    assert 'value="Ateliers du lien"' in text_of(client.get(back))
