"""Every mail template: the text part and the HTML part say the same thing
(same words, same links), and the HTML part needs nothing loaded to be
understood."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

import mailer
from models import db
from tests.support.vnu import nu_messages

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
NAMES = sorted(path.stem for path in TEMPLATES.glob("*.txt") if not path.name.startswith("_"))
URL = re.compile(r"https?://\S+")
WORD = re.compile(r"[\w'’@.-]*\w")


def sample_context() -> dict:
    """Every variable any mail template uses, with text that needs escaping."""
    person = SimpleNamespace(first_name="Marie", full_name="Marie Curie", email="marie.curie@exemple.fr")
    requester = SimpleNamespace(
        first_name="Jean", full_name="Jean <b>Dupont</b> & Fils", email="jean@exemple.fr"
    )
    return {
        "user": person,
        "manager": person,
        "operator": person,
        "former": requester,
        "successor": requester,
        "requester": requester,
        "structure": SimpleNamespace(company_name="Dupont & Fils <SA>", identifier="73282932000074"),
        "kind": SimpleNamespace(name="SIRET", internal=True),
        "url": "https://portail.exemple.fr/lien/abc?x=1&y=2",
        "login_url": "https://portail.exemple.fr/connexion",
        "reset_url": "https://portail.exemple.fr/mot-de-passe-oublie",
        "ttl_minutes": 60,
    }


class HtmlPart(HTMLParser):
    """The words a reader sees in the body, the links, and what would load."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.in_body = False
        self.text: list[str] = []
        self.links: list[str] = []
        self.loads: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.in_body = True
        if tag == "a" and not attrs.get("href", "").startswith("mailto:"):
            self.links.append(attrs.get("href"))
        if tag in ("img", "script", "link", "iframe", "object", "video", "audio") or "src" in attrs:
            self.loads.append(tag)
        if "url(" in attrs.get("style", ""):
            self.loads.append("style url()")

    def handle_endtag(self, tag):
        if tag == "body":
            self.in_body = False

    def handle_data(self, data):
        if self.in_body:
            self.text.append(data)


def words(text: str) -> list[str]:
    return [word.lower() for word in WORD.findall(text)]


def render(app, name: str, language: str = "fr", context: dict | None = None, **settings):
    app.config.update(settings)
    with app.test_request_context(), db.connection_context():
        reader = SimpleNamespace(id=None, language=language)  # a reader with no account row
        values = {**sample_context(), **(context or {})}
        return mailer.queue("marie.curie@exemple.fr", "Sujet", name, reader=reader, **values)


def test_every_mail_template_has_a_text_and_an_html_part():
    assert NAMES, "no mail template found"
    assert sorted(p.stem for p in TEMPLATES.glob("*.html") if not p.name.startswith("_")) == NAMES


@pytest.mark.parametrize("support_email", [None, "support@exemple.fr"])
@pytest.mark.parametrize("name", NAMES)
def test_text_and_html_parts_say_the_same_words_and_links(app, name, support_email):
    mail = render(app, name, SUPPORT_EMAIL=support_email, PORTAL_NAME="Portail Test")
    html = HtmlPart(mail.body_html)
    assert URL.findall(mail.body_text) == html.links
    assert words(URL.sub(" ", mail.body_text)) == words(" ".join(html.text))
    assert "Portail Test" in mail.body_text
    if support_email:
        assert support_email in mail.body_text and f'href="mailto:{support_email}"' in mail.body_html


@pytest.mark.parametrize("to_operators", [False, True])
def test_a_request_sent_says_who_decides_it(app, to_operators):
    mail = render(app, "attachment_request_sent", context={"to_operators": to_operators})
    html = HtmlPart(mail.body_html)
    assert words(URL.sub(" ", mail.body_text)) == words(" ".join(html.text))
    said = "transmise aux opérateurs du portail" if to_operators else "transmise à son gestionnaire principal"
    assert said in mail.body_text


@pytest.mark.parametrize("name", NAMES)
def test_a_mail_needs_nothing_loaded_to_be_understood_tracking_pixel(app, name):
    html = HtmlPart(render(app, name).body_html)
    assert html.loads == []
    assert all(link.startswith("https://") for link in html.links)


def test_markup_in_a_name_stays_text_in_the_html_part_injection(app):
    mail = render(app, "attachment_requested")
    assert "<b>Dupont</b>" not in mail.body_html and "&lt;b&gt;Dupont&lt;/b&gt;" in mail.body_html
    assert "Jean <b>Dupont</b> & Fils" in mail.body_text


def test_every_html_part_passes_the_w3c_nu_checker(app, tmp_path):
    """The Nu HTML checker (vnu.jar, from npm vnu-jar), offline."""
    files = []
    for name in NAMES:
        for support_email in (None, "support@exemple.fr"):
            path = tmp_path / f"{name}-{bool(support_email)}.html"
            path.write_text(render(app, name, SUPPORT_EMAIL=support_email).body_html, encoding="utf-8")
            files.append(str(path))
    messages = nu_messages(files)
    assert [(Path(m.get("url", "")).name, m["type"], m["message"]) for m in messages] == []
