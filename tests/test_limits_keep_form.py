"""A form sent past a rate limit without JavaScript: back to its page, the
notice above it, what was typed in it again (never a password); as under
htmx, where the notice goes above the form the page kept."""

from __future__ import annotations

from tests.support.app import HtmxClient, limited_app, outbox
from tests.support.signup import PERSON
from tests.support.structures import LUCIE, STRUCTURE, sign_up

OWN_PAGE = {"Sec-Fetch-Site": "same-origin", "Referer": "http://localhost/inscription/"}


def sent_twice(client, url: str, first: dict, second: dict, headers: dict):
    """``first`` let through, ``second`` past the limit, from this site's page."""
    assert client.submit(url, first).status_code in (200, 303, 422)
    return client.submit(url, second, headers=headers)


def test_a_sign_up_sent_past_its_limit_comes_back_filled_with_the_notice(tmp_path, monkeypatch):
    app = limited_app(tmp_path, monkeypatch, RATELIMIT_SIGN_UP="1 per minute")
    client = app.test_client()
    answer = sent_twice(client, "/inscription/", PERSON, LUCIE, OWN_PAGE)
    assert answer.status_code == 303 and answer.headers["Location"] == "/inscription/"
    assert int(answer.headers["Retry-After"]) > 0
    page = client.get("/inscription/").get_data(as_text=True)
    assert "Patientez" in page
    assert 'value="Lucie"' in page and 'value="Martin"' in page and 'value="lucie.martin@exemple.fr"' in page
    # Shown once: the page asked again is the plain form.
    assert "Patientez" not in client.get("/inscription/").get_data(as_text=True)


def test_the_password_of_a_sign_in_past_its_limit_is_never_kept(tmp_path, monkeypatch):
    app = limited_app(tmp_path, monkeypatch, RATELIMIT_SIGN_IN="1 per minute")
    client = app.test_client()
    form = {"email": "marie.curie@exemple.fr", "password": "Un-secret-bien-garde-42"}
    here = {"Sec-Fetch-Site": "same-origin", "Referer": "http://localhost/connexion"}
    answer = sent_twice(client, "/connexion", form, form, here)
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Patientez" in page and 'value="marie.curie@exemple.fr"' in page
    assert "Un-secret-bien-garde-42" not in page
    from models import Draft

    with app.app_context():
        assert all("Un-secret" not in draft.data for draft in Draft.select())


def test_attack_another_sites_form_past_a_limit_fills_nothing(tmp_path, monkeypatch):
    """A page of another site posts to the portal until the limit: it gets
    the error page, and the portal's form, opened next in that browser, is
    not filled with what that site chose."""
    app = limited_app(tmp_path, monkeypatch, RATELIMIT_SIGN_UP="1 per minute")
    client = app.test_client()
    elsewhere = {"Sec-Fetch-Site": "cross-site", "Referer": "http://localhost/inscription/"}
    answer = sent_twice(client, "/inscription/", PERSON, LUCIE, elsewhere)
    assert answer.status_code == 429 and "Trop de tentatives" in answer.get_data(as_text=True)
    assert "Martin" not in client.get("/inscription/").get_data(as_text=True)


def test_a_script_without_a_browsers_headers_gets_the_429(tmp_path, monkeypatch):
    app = limited_app(tmp_path, monkeypatch, RATELIMIT_SIGN_UP="1 per minute")
    answer = sent_twice(app.test_client(), "/inscription/", PERSON, LUCIE, {})
    assert answer.status_code == 429 and "Patientez" in answer.get_data(as_text=True)


def test_a_signed_in_persons_step_6_past_its_limit_comes_back_filled(tmp_path, monkeypatch):
    app = limited_app(tmp_path, monkeypatch, RATELIMIT_STRUCTURE_CREATE_ACCOUNT="1 per minute")
    client = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    here = {"Sec-Fetch-Site": "same-origin", "Referer": "http://localhost/structure/nouvelle"}
    assert client.submit("/structure/nouvelle", STRUCTURE).status_code == 303
    second = {**STRUCTURE, "identifier": "356 000 000 00048", "company_name": "La Poste de Quartier"}
    answer = client.submit("/structure/nouvelle", second, headers=here)
    assert answer.status_code == 303 and answer.headers["Location"] == "/structure/nouvelle"
    page = client.get("/structure/nouvelle").get_data(as_text=True)
    assert "Patientez" in page and 'value="La Poste de Quartier"' in page


def test_attack_a_signed_in_form_with_another_sessions_token_is_not_kept(tmp_path, monkeypatch):
    """A signed-in session's form comes back only with that session's token:
    sent with another's (a page of before the sign-in, another account's),
    it is refused for its token before any limit, and nothing it held
    reaches the account's page."""
    app = limited_app(tmp_path, monkeypatch, RATELIMIT_STRUCTURE_CREATE_ACCOUNT="1 per minute")
    client = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    assert client.submit("/structure/nouvelle", STRUCTURE).status_code == 303
    here = {"Sec-Fetch-Site": "same-origin", "Referer": "http://localhost/structure/nouvelle"}
    other = app.test_client().csrf_token()
    second = {**STRUCTURE, "csrf_token": other, "company_name": "Societe Planted"}
    assert client.post("/structure/nouvelle", data=second, headers=here).status_code == 400
    assert "Societe Planted" not in client.get("/structure/nouvelle").get_data(as_text=True)


def test_under_htmx_the_page_itself_keeps_the_form_and_nothing_is_carried(tmp_path, monkeypatch):
    """Sent in place, the form never left its page: the notice goes above it
    (429, into #flashes), and nothing is kept on the server for a next
    showing of the page."""
    app = limited_app(tmp_path, monkeypatch, RATELIMIT_SIGN_UP="1 per minute")
    app.test_client_class = HtmxClient
    client = app.test_client()
    answer = sent_twice(client, "/inscription/", PERSON, LUCIE, OWN_PAGE)
    assert answer.status_code == 429 and "Patientez" in answer.get_data(as_text=True)
    assert (answer.headers["HX-Retarget"], answer.headers["HX-Reswap"]) == ("#flashes", "innerHTML")
    client.htmx = False
    assert "Martin" not in client.get("/inscription/").get_data(as_text=True)


def test_attack_forms_sent_past_a_limit_again_and_again_keep_no_more_than_the_drafts_allow(
    tmp_path, monkeypatch
):
    """Each form carried back writes a draft: a script that sends them on and
    on, with a browser's headers, is bounded by the drafts' own limit, past
    which it gets the 429 page and nothing more is kept."""
    app = limited_app(tmp_path, monkeypatch, RATELIMIT_SIGN_UP="1 per minute", RATELIMIT_DRAFT="1 per minute")
    client = app.test_client()
    assert sent_twice(client, "/inscription/", PERSON, LUCIE, OWN_PAGE).status_code == 303
    again = client.submit("/inscription/", {**LUCIE, "first_name": "Encore"}, headers=OWN_PAGE)
    assert again.status_code == 429 and "Trop de tentatives" in again.get_data(as_text=True)
    from models import Draft

    with app.app_context():
        assert all("Encore" not in draft.data for draft in Draft.select())
