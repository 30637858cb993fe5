"""The auth area in English: « Se connecter », « Mot de passe oublié ? » and
its link, the error pages (404, 413, 429, an expired form), the conditions
and legal notice (the operator's files, their English version or the French
one marked as French), the accessibility statement (the RGAA grid stays
French, marked lang="fr") and the development outbox; each as a full page
and as an htmx partial.

The header, the footer, the error summary's heading and the new-password
fields belong to other areas: ``ours`` leaves them out, and
tests/test_i18n_pages.py checks whole pages."""

from __future__ import annotations

import re

import pytest

from accessibility import load_audit
from tests.support.app import Client, HtmxClient, clean_environment, make_app, operator_texts
from tests.support.constants import NEW_PASSWORD, PASSWORD
from tests.support.i18n import assert_english, speak, visible_text
from tests.support.responses import error_of, follow, text_of
from tests.support.signup import link_in
from views.dev import LINK

WRONG = {"email": "personne@exemple.fr", "password": "Pas-le-bon-1234"}
MIB = 1024 * 1024


def english(response, *data: str) -> str:
    """The whole answer's text (header, footer and all), checked for French; the visible text."""
    html = text_of(response)
    assert_english(html, data=data)
    return visible_text(html)


@pytest.fixture
def en(any_client):
    speak(any_client, "en")
    return any_client


# -- « Se connecter » -------------------------------------------------------------------------


def test_the_sign_in_page(en):
    response = en.get("/connexion")
    assert response.status_code == 200 and ("<html" in text_of(response)) != en.htmx
    text = english(response)
    assert "<h1>Sign in</h1>" in text_of(response)
    assert "Forgotten your password?" in text and "No account yet? Create an account" in text
    assert "Email address" in text and "Password" in text


def test_a_wrong_password_is_said_in_english(en, account):
    response = en.submit("/connexion", WRONG)
    assert response.status_code == 422
    text = english(response, WRONG["email"])
    assert "Incorrect email address or password." in text
    assert "<title>Error – Sign in" in text_of(response)


def test_signing_out_is_said_in_english(en, account):
    en.submit("/connexion", {"email": account, "password": PASSWORD})
    speak(en, "en")
    response = en.submit("/deconnexion")
    page = follow(en, response) if not en.htmx else text_of(en.get("/"))
    assert "You are signed out." in page


# -- « Mot de passe oublié ? » ------------------------------------------------------------------


def test_the_forgotten_password_pages(en, account):
    text = english(en.get("/mot-de-passe-oublie/"))
    assert "Forgotten your password?" in text and "Expected format: name@example.com" in text
    response = en.submit("/mot-de-passe-oublie/", {"email": account})
    sent = follow(en, response, pushed="/mot-de-passe-oublie/envoye")
    assert "If an account exists for" in sent
    text = english(en.get("/mot-de-passe-oublie/envoye"), account)
    assert "Check your inbox" in text and "valid for 1 hour" in text


def test_the_reset_page_and_its_expired_link(en, account, mailbox):
    en.submit("/mot-de-passe-oublie/", {"email": account})
    [link] = [link_in(m) for m in mailbox(account) if "/mot-de-passe-oublie/" in m.body_text]
    text = english(en.get(link), account)
    assert "Choose a new password" in text and f"Account: {account}" in text
    response = en.submit(link, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert "Your password has been changed. Your other sessions have been closed." in follow(en, response)
    expired = en.get(link)
    assert expired.status_code == 410
    assert "This link is no longer valid" in english(expired)


def test_a_reset_to_the_current_password_is_refused_in_english(en, account, mailbox):
    en.submit("/mot-de-passe-oublie/", {"email": account})
    [link] = [link_in(m) for m in mailbox(account) if "/mot-de-passe-oublie/" in m.body_text]
    response = en.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 422
    english(response, account)
    assert "must be different from the current password" in error_of(response, "password")


# -- error pages ---------------------------------------------------------------------------------


def test_page_not_found(en):
    response = en.get("/nulle-part")
    assert response.status_code == 404
    assert "Page not found" in english(response) and "Back to the home page" in text_of(response)


def test_an_expired_form(en):
    response = en.post("/connexion", data=WRONG)  # no CSRF token
    assert response.status_code == 400
    text = english(response, WRONG["email"])
    if en.htmx:  # sent in place: the page stays, a notice above it (tests/test_stale_form.py)
        assert "This page was out of date: it is up to date again, and what you typed is kept." in text
    else:
        assert "Your session has expired or the form is no longer valid." in text


def test_a_body_too_large(en):
    body = f"csrf_token={en.csrf_token()}&email=a%40exemple.fr&password=".encode() + b"x" * (2 * MIB)
    response = en.post("/connexion", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    if en.htmx:  # the page and what was typed stay, the notice above them
        assert "The data sent is too large: shorten what you typed, then try again." in english(response)
    else:
        text = english(response)
        assert "Submission too large" in text
        assert "The data sent is too large. Go back, shorten what you typed, then try again." in text


@pytest.mark.parametrize("client_class", [Client, HtmxClient])
def test_too_many_attempts_says_how_long_to_wait(tmp_path, monkeypatch, client_class):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_SIGN_IN="1 per minute")
    app.test_client_class = client_class
    client = app.test_client()
    speak(client, "en")
    client.submit("/connexion", WRONG)
    response = client.submit("/connexion", WRONG)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    text = english(response)
    # Under htmx the form stays and the notice goes above it, without the page's title.
    assert ("Too many attempts" in text) is not client.htmx
    assert re.search(r"Wait (less than a minute|1 minute) before trying again\.", text)


def test_the_waiting_times_in_english(app):
    from views.errors import _wait_text

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert [_wait_text(s) for s in (30, 60, 61, 3600, 3601, 7201)] == [
            "less than a minute", "1 minute", "2 minutes", "60 minutes", "2 hours", "3 hours",
        ]  # fmt: skip
    with app.test_request_context():
        assert [_wait_text(s) for s in (30, 61, 3601)] == ["moins d'une minute", "2 minutes", "2 heures"]


# -- the conditions and the legal notice ------------------------------------------------------


def test_the_default_texts_in_english(en):
    terms = english(en.get("/conditions"), "Portail Structures")
    assert "Terms of use" in terms and "must replace it with their own terms of use" in terms
    legal = english(en.get("/mentions-legales"), "Portail Structures")
    assert "Legal notice and personal data" in legal
    assert "Portail Structures is operated by the organisation that hosts it." in legal


@pytest.fixture
def operated(tmp_path, monkeypatch):
    """An operator's French texts, the legal notice with an English version beside it."""
    clean_environment(monkeypatch)
    legal = operator_texts(tmp_path, monkeypatch)
    english_legal = legal.with_name("mentions.en.html")
    english_legal.write_text("<h2>Publisher</h2><p>Exemple SA, Paris.</p>", encoding="utf-8")
    return make_app(tmp_path)


@pytest.mark.parametrize("client_class", [Client, HtmxClient])
def test_an_operator_text_without_english_is_shown_in_french_marked_as_french(operated, client_class):
    operated.test_client_class = client_class
    client = operated.test_client()
    assert '<div lang="fr">' not in text_of(client.get("/conditions"))  # the French page is as it was
    speak(client, "en")
    response = client.get("/conditions")
    text = english(response)
    assert "This text is available in French only." in text
    french = re.compile(r'<div lang="fr"><h1>Nos conditions</h1>\s*<p>Un <strong>texte</strong>')
    assert french.search(text_of(response))


@pytest.mark.parametrize("client_class", [Client, HtmxClient])
def test_an_operator_text_with_an_english_version_beside_it(operated, client_class):
    operated.test_client_class = client_class
    client = operated.test_client()
    assert "Exemple SA, 1 rue de la Paix." in text_of(client.get("/mentions-legales"))
    speak(client, "en")
    text = english(client.get("/mentions-legales"), "Exemple SA")
    assert "Exemple SA, Paris." in text and "French only" not in text


# -- the accessibility statement ------------------------------------------------------------


def test_the_accessibility_statement_in_english_with_the_grid_in_french(en):
    audit = load_audit()
    response = en.get("/declaration-accessibilite")
    html = text_of(response)
    text = english(response, "Portail Structures")
    assert "Accessibility statement" in text and "Remedies" in text
    state = {"totalement conforme": "fully", "partiellement conforme": "partially"}[audit.state]
    assert f"Portail Structures is {state} compliant with" in text
    assert f"<strong>{audit.rate:.1f}%</strong>" in html
    assert f"{audit.count('conforme')} compliant criteria;" in text
    for criterion in audit.failures:
        assert f'Criterion {criterion.number} (<span lang="fr">{criterion.theme}</span>): ' in html
        assert f'<span lang="fr">{criterion.reason}</span>' in html.replace("&#39;", "'")
    assert '<span lang="fr">Défenseur des droits</span>' in html


# -- the development outbox ------------------------------------------------------------------


def test_the_development_outbox(en, account, mailbox):
    response = en.get("/dev/courriels")
    text = english(response, *_mail_texts(mailbox()))
    assert "Emails kept in the outbox" in text
    # The mail is in its reader's language (French, marked so); what the page says of it is English.
    assert '<article class="mail" lang="fr">' in text_of(response)
    assert re.search(rf'<p lang="en">To: {re.escape(account)} — ', text_of(response))


def _mail_texts(mails) -> tuple[str, ...]:
    """What the mail says (written in its reader's language), as the page shows it, and its
    links (a random token may hold a French-looking word)."""
    texts = []
    for mail in mails:
        texts += [mail.subject, " ".join(mail.body_text.split()), *LINK.findall(mail.body_text)]
    return tuple(texts)


def test_the_empty_development_outbox(en):
    text = english(en.get("/dev/courriels"))
    assert "No emails yet." in text and "Development page: no mail server is configured" in text
