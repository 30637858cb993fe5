"""A form sent without JavaScript while the database is unavailable: the
503 page holds what was typed (never a password or a code) and sends it
again once the database is back. The outage is SQLite's write lock held
past busy_timeout by another connection (a backup, a SIRENE import)."""

from __future__ import annotations

import re
from html import unescape

import pytest

import breach
import database
from forms import MAX_TYPED
from tests.support.app import Client, HtmxClient, clean_environment, make_app, outbox
from tests.support.responses import text_of
from tests.support.second_factor import VERIFY, code_at, enrol_totp, password_step
from tests.support.signup import PERSON
from tests.support.sqlite_lock import write_lock
from tests.support.structures import STRUCTURE, sign_up

UNAVAILABLE = "Le service est momentanément indisponible"
RESEND = "Renvoyer le formulaire"
OWN_PAGE = {"Sec-Fetch-Site": "same-origin"}
SIGN_IN = {"email": "marie.curie@exemple.fr", "password": "Un-secret-bien-garde-42"}
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def app(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setitem(database.SQLITE_PRAGMAS, "busy_timeout", 200)
    app = make_app(tmp_path)
    app.test_client_class = Client
    return app


def sent_during_an_outage(app, client, url: str, form: dict, headers: dict = OWN_PAGE):
    """``form`` sent to ``url`` with the session's token while another
    connection holds the database's write lock."""
    token = client.csrf_token()
    with write_lock(app.config["DATABASE_URL"]):
        return client.post(url, data={"csrf_token": token, **form}, headers=headers)


def resend_form(response) -> tuple[str, dict[str, str]]:
    """The 503 page's form: its action and its hidden fields."""
    html = response.get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)" class="resend">(.*?)</form>', html, re.S)
    assert form, "no form to send again"
    return unescape(form.group(1)), {unescape(k): unescape(v) for k, v in HIDDEN.findall(form.group(2))}


def secret_named(masked: str) -> str:
    """The part of a token that names the session's CSRF secret (before its
    timestamp and signature): two pages of one session name the same."""
    return breach.unmask(masked).split(".", 1)[0]


def test_a_step_sent_during_an_outage_is_sent_again_from_the_503_page(app):
    client = app.test_client()
    response = sent_during_an_outage(app, client, "/inscription/", PERSON)
    assert response.status_code == 503 and UNAVAILABLE in text_of(response)
    assert RESEND in text_of(response) and "saisirez de nouveau" not in text_of(response)
    action, fields = resend_form(response)
    assert action == "/inscription/"
    # The session's token, under a mask of this page's own (breach.py): the
    # secret it names is the session's (its timestamp is the page's second).
    resent_token = fields.pop("csrf_token")
    assert resent_token.startswith(breach.MASKED)
    assert secret_named(resent_token) == secret_named(client.csrf_token())
    assert fields == PERSON  # the box ticked, the empty field, as sent
    fields["csrf_token"] = resent_token
    # The database back, the form sent from the 503 page goes on to the captcha.
    again = client.post(action, data=fields, headers=OWN_PAGE)
    assert again.status_code == 303 and again.headers["Location"] == "/inscription/captcha"


def test_a_password_sent_during_an_outage_is_never_written_back(app):
    client = app.test_client()
    response = sent_during_an_outage(app, client, "/connexion", SIGN_IN)
    assert response.status_code == 503
    assert SIGN_IN["password"] not in response.get_data(as_text=True)
    assert "Les mots de passe et les codes ne sont pas gardés" in text_of(response)
    action, fields = resend_form(response)
    assert action == "/connexion" and fields.keys() == {"csrf_token", "email"}
    assert fields["email"] == SIGN_IN["email"]
    # Sent again, the address comes back with the password asked for.
    again = client.post(action, data=fields, headers=OWN_PAGE)
    assert again.status_code == 422 and f'value="{SIGN_IN["email"]}"' in again.get_data(as_text=True)


def test_attack_another_sites_form_during_an_outage_is_not_written_into_the_page(app):
    """A page of another site posting to the portal while it is down must
    not get a portal page holding a form of its choosing."""
    client = app.test_client()
    planted = {**PERSON, "first_name": "Offre-speciale"}
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {}):
        response = sent_during_an_outage(app, client, "/inscription/", planted, headers)
        assert response.status_code == 503
        assert RESEND not in text_of(response) and "Offre-speciale" not in response.get_data(as_text=True)


def test_attack_markup_typed_before_an_outage_is_text_in_the_503_page(app):
    markup = '"><script>alert(1)</script>'
    form = {**PERSON, "last_name": markup}
    response = sent_during_an_outage(app, app.test_client(), "/inscription/", form)
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert resend_form(response)[1]["last_name"] == markup


def test_an_outage_under_htmx_keeps_the_page_without_a_form_to_send_again(app):
    """Under htmx the page and what was typed stay where they are: the
    notice goes into the flash region, with no second form."""
    app.test_client_class = HtmxClient
    response = sent_during_an_outage(app, app.test_client(), "/inscription/", PERSON)
    assert response.status_code == 503 and response.headers["HX-Retarget"] == "#flashes"
    assert RESEND not in text_of(response)


def test_the_form_to_send_again_speaks_english(app):
    headers = {**OWN_PAGE, "Accept-Language": "en"}
    text = text_of(sent_during_an_outage(app, app.test_client(), "/connexion", SIGN_IN, headers))
    assert "Send the form again" in text and "What you typed is kept on this page" in text
    assert "Passwords and codes are not kept: you will type them again." in text


def test_a_signed_in_persons_step_6_sent_during_an_outage_is_sent_again(app):
    client = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    response = sent_during_an_outage(app, client, "/structure/nouvelle", STRUCTURE)
    assert response.status_code == 503
    action, fields = resend_form(response)
    assert action == "/structure/nouvelle" and fields["company_name"] == STRUCTURE["company_name"]
    again = client.post(action, data=fields, headers=OWN_PAGE)
    assert again.status_code == 303 and again.headers["Location"] == "/espace/"


def test_the_code_of_a_second_step_sent_during_an_outage_is_never_written_back(app):
    client = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    secret, _codes = enrol_totp(client)
    client.submit("/deconnexion")
    assert password_step(client).status_code == 303
    code = code_at(secret)
    response = sent_during_an_outage(app, client, VERIFY, {"method": "totp", "code": code, "trust": "y"})
    assert response.status_code == 503
    _action, fields = resend_form(response)
    assert "code" not in fields and fields["trust"] == "y"
    assert f'value="{code}"' not in response.get_data(as_text=True)


def test_the_addresss_query_goes_with_the_form_sent_again(app):
    """The action is the route's own address (under the app's prefix, if
    any), with the query the form was sent to."""
    response = sent_during_an_outage(app, app.test_client(), "/connexion?next=%2Fespace%2F", SIGN_IN)
    assert response.status_code == 503
    assert resend_form(response)[0] == "/connexion?next=%2Fespace%2F"


def test_attack_a_form_of_a_thousand_fields_sent_during_an_outage_is_bounded(app):
    """A client posting a thousand fields (within a form's size limit, 64 KB)
    gets a page of at most MAX_TYPED fields to send again, not an echo of
    everything it sent."""
    flood = {**PERSON, **{f"f{n}": "x" * 50 for n in range(1000)}}
    response = sent_during_an_outage(app, app.test_client(), "/inscription/", flood)
    assert response.status_code == 503
    _action, fields = resend_form(response)
    assert len(fields) <= MAX_TYPED + 1  # and the CSRF token
    assert len(response.get_data()) < 60_000


def test_a_browser_without_sec_fetch_site_is_told_apart_by_its_origin(app):
    """Older browsers send no Sec-Fetch-Site: their Origin says whose page
    sent the form, this site's (offered again) or another's (not)."""
    client = app.test_client()
    own = sent_during_an_outage(app, client, "/inscription/", PERSON, {"Origin": "http://localhost"})
    assert RESEND in text_of(own)
    other = sent_during_an_outage(app, client, "/inscription/", PERSON, {"Origin": "https://pirate.example"})
    assert other.status_code == 503 and RESEND not in text_of(other)
