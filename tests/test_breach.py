"""Compressed pages without a BREACH oracle (breach.py): the CSRF token is
masked afresh wherever a page carries it, and HTML is compressed only for
requests the browser marks as the portal's own or the person's. Attacks are
named after what they try."""

from __future__ import annotations

import gzip
import re

import pytest
from itsdangerous import URLSafeTimedSerializer

import breach
from tests.support.app import CSRF_IN_PAGE

BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd", "Sec-Fetch-Site": "same-origin"}
TOKEN = re.compile(r'(?:name="csrf_token"(?: type="hidden")? value="|"X-CSRFToken": ")([^"]+)"')


def tokens(html: str) -> list[str]:
    return TOKEN.findall(html)


def session_token(client) -> str:
    with client.session_transaction() as stored:
        return stored["csrf_token"]


@pytest.mark.parametrize("path", ["/inscription/", "/connexion", "/mot-de-passe-oublie/"])
def test_breach_a_page_never_carries_the_csrf_secret_as_it_is(any_client, path):
    first = any_client.get(path).get_data(as_text=True)
    second = any_client.get(path).get_data(as_text=True)
    raw = session_token(any_client)
    found = tokens(first) + tokens(second)
    assert len(found) >= 2
    assert len(set(found)) == len(found), "two places or two answers share a mask"
    assert all(token.startswith(breach.MASKED) for token in found)
    for html in (first, second):
        assert raw not in html
        # Nor the signed token Flask-WTF would have written (its payload is the raw one).
        assert not re.search(r'"(Ij[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)"', html)
    # Each one, unmasked, is Flask-WTF's token for this session (signed at its second).
    signed = URLSafeTimedSerializer(any_client.application.secret_key, salt="wtf-csrf-token")
    assert {signed.loads(breach.unmask(token)) for token in found} == {raw}


def test_a_masked_token_is_accepted_from_the_form_and_from_the_htmx_header(client, htmx_client):
    page = client.get("/connexion").get_data(as_text=True)
    [form_token, *_] = tokens(page)
    answer = client.post("/langue", data={"csrf_token": form_token, "lang": "en", "next": "/"})
    assert answer.status_code == 303

    page = htmx_client.get("/connexion").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    if header_token is None:  # a fragment: the token of its own form
        header_token = CSRF_IN_PAGE.search(page)
    token = header_token.group(1) or header_token.group(2)
    answer = htmx_client.post("/langue", data={"lang": "en", "next": "/"}, headers={"X-CSRFToken": token})
    assert answer.status_code in (200, 204, 303)
    assert answer.status_code != 400


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),  # a flipped mask
        lambda token: breach.MASKED + "!!not base64!!",
        lambda token: breach.MASKED + "QUJD",  # an odd length: no mask to take off
        lambda token: breach.MASKED,
        lambda token: breach.MASKED + "A" * 5000,  # far too long to read
        lambda token: breach.mask("x" * 40),  # well masked, but not a token
        lambda token: breach.MASKED + "_-8" * 60,  # bytes that are not ASCII once unmasked
    ],
)
def test_breach_a_forged_masked_token_is_refused_never_a_500(any_client, forge):
    token = tokens(any_client.get("/connexion").get_data(as_text=True))[0]
    answer = any_client.post("/langue", data={"csrf_token": forge(token), "lang": "en", "next": "/"})
    assert answer.status_code == 400
    said = "Cette page n&#39;était plus à jour" if any_client.htmx else "Votre session a expiré"
    assert said in answer.get_data(as_text=True)


def test_breach_another_visitors_masked_token_is_refused(app):
    alice, bob = app.test_client(), app.test_client()
    bob_token = tokens(bob.get("/connexion").get_data(as_text=True))[0]
    alice.get("/connexion")
    answer = alice.post("/langue", data={"csrf_token": bob_token, "lang": "en", "next": "/"})
    assert answer.status_code == 400


@pytest.mark.parametrize("site", ["cross-site", "same-site", None])
def test_breach_requests_another_site_makes_never_get_compressed_html(any_client, site):
    headers = {"Accept-Encoding": "gzip"}
    if site:
        headers["Sec-Fetch-Site"] = site
    for path in ("/", "/inscription/", "/connexion"):
        answer = any_client.get(path, headers=headers)
        assert answer.status_code == 200
        assert "Content-Encoding" not in answer.headers
        assert answer.get_data(as_text=True).lstrip().startswith("<")
        assert {"Accept-Encoding", "Sec-Fetch-Site"} <= set(answer.vary)


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_pages_the_browser_asks_for_itself_come_compressed(any_client, site):
    plain = any_client.get("/inscription/").get_data(as_text=True)
    answer = any_client.get("/inscription/", headers={**BROWSER, "Sec-Fetch-Site": site})
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    body = answer.get_data()
    assert int(answer.headers["Content-Length"]) == len(body) < len(plain.encode()) / 2
    html = gzip.decompress(body).decode()
    # The same page, each token under its own mask.
    assert TOKEN.sub("", html) == TOKEN.sub("", plain)
    assert {"Accept-Encoding", "Sec-Fetch-Site", "HX-Request"} <= set(answer.vary)


def test_a_step_with_its_errors_comes_compressed_and_keeps_what_was_typed(any_client):
    page = any_client.get("/inscription/").get_data(as_text=True)
    token = tokens(page)[-1]
    answer = any_client.post(
        "/inscription/",
        data={"csrf_token": token, "email": "marie.curie@exemple.fr", "email_confirm": "autre@exemple.fr"},
        headers=BROWSER,
    )
    assert answer.status_code == 422 and answer.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(answer.get_data()).decode()
    assert 'value="marie.curie@exemple.fr"' in html


def test_small_answers_and_refused_encodings_are_sent_as_they_are(client):
    token = tokens(client.get("/inscription/").get_data(as_text=True))[0]
    field = {"csrf_token": token, "email": "marie.curie@exemple.fr"}
    small = client.post("/inscription/champ/email", data=field, headers=BROWSER)
    assert small.status_code == 200 and len(small.get_data()) < breach.COMPRESSED_SMALLEST
    assert "Content-Encoding" not in small.headers
    for refused in ("identity", "gzip;q=0, br", "br"):
        answer = client.get("/inscription/", headers={**BROWSER, "Accept-Encoding": refused})
        assert "Content-Encoding" not in answer.headers


def test_static_files_keep_their_own_compression(client):
    home = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/css/[^"]+\.css)"', home).group(1)
    with client.get(css, headers=BROWSER) as answer:
        assert answer.status_code == 200 and answer.get_data()
        assert answer.headers.get("Content-Encoding") in (None, "gzip", "br")
        assert "Sec-Fetch-Site" not in answer.vary


def test_unmask_gives_back_what_mask_hid():
    for token in ("IjA1ZGZhYjEyIg.aw0-EA.2l2s1f9SwuN1ON3AbXv3VPkOYzw", "a", "~" * 300):
        assert breach.unmask(breach.mask(token)) == token
    assert breach.unmask("IjA1ZGZhYjEyIg.aw0-EA.sig") == "IjA1ZGZhYjEyIg.aw0-EA.sig"  # not masked: as it is
    assert breach.unmask(None) is None
    assert breach.mask("abc") != breach.mask("abc")
