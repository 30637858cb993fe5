"""Mail in English: every template rendered for a reader whose language is
« en » says it all in English, its text and HTML parts still say the same
words and links; the same templates for a French reader say what they said.
And an account made in English gets its activation mail in English."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
from flask_babel import lazy_gettext as _l

import mailer
from models import db
from tests.support.constants import EMAIL
from tests.support.i18n import assert_english, french_in, speak
from tests.support.signup import link_in
from tests.test_mail_templates import NAMES, URL, HtmlPart, sample_context, words

PORTAL = "Portail Test"
SUPPORT = "support@exemple.fr"
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def context(**changes) -> dict:
    """Every variable of every template, the ones test_mail_templates leaves out too."""
    values = {**sample_context(), "code": "482913", "minutes": 10, "pending": True, "change": "-"}
    return {**values, **changes}


# What people typed or the configuration says: not the portal's words to translate.
DATA = (PORTAL, SUPPORT, "Marie Curie", "Marie", "Jean <b>Dupont</b> & Fils", "Jean", "Dupont & Fils <SA>")


def render(app, name: str, language: str, subject="Sujet", support_email=SUPPORT, **changes):
    app.config.update(SUPPORT_EMAIL=support_email, PORTAL_NAME=PORTAL)
    with app.test_request_context(), db.connection_context():
        reader = SimpleNamespace(id=None, language=language)  # a reader with no account row
        return mailer.queue(EMAIL, subject, name, reader=reader, **context(**changes))


def text_as_html(text: str) -> str:
    """A text part as a page, its links left out (their paths are French words)."""
    return f"<p>{html.escape(URL.sub(' ', text))}</p>"


def title_of(mail) -> str:
    return html.unescape(TITLE.search(mail.body_html).group(1))


@pytest.mark.parametrize("support_email", [None, SUPPORT])
@pytest.mark.parametrize("name", NAMES)
def test_every_mail_is_english_for_an_english_reader(app, name, support_email):
    mail = render(app, name, "en", support_email=support_email)
    assert_english(mail.body_html, data=DATA)
    assert french_in(text_as_html(mail.body_text), data=DATA) == []
    assert '<html lang="en">' in mail.body_html
    assert "Hello" in mail.body_text and "this is an automatic email" in mail.body_text


@pytest.mark.parametrize("support_email", [None, SUPPORT])
@pytest.mark.parametrize("name", NAMES)
def test_english_text_and_html_parts_say_the_same_words_and_links(app, name, support_email):
    mail = render(app, name, "en", support_email=support_email)
    part = HtmlPart(mail.body_html)
    assert URL.findall(mail.body_text) == part.links
    assert words(URL.sub(" ", mail.body_text)) == words(" ".join(part.text))


@pytest.mark.parametrize("name", NAMES)
def test_the_subject_is_english_and_the_same_as_the_html_title(app, name):
    """The subject callers pass (« _l(French) ») and the template's title:
    one message, translated once."""
    french = title_of(render(app, name, "fr")).removeprefix(f"{PORTAL} – ")
    mail = render(app, name, "en", subject=_l(french))
    assert mail.subject != french and french_in(f"<p>{html.escape(mail.subject)}</p>") == []
    assert title_of(mail) == f"{PORTAL} – {mail.subject}"


@pytest.mark.parametrize(
    ("changes", "english"),
    [
        ({"pending": True}, "It is awaiting approval by the portal team"),
        ({"pending": False}, "Your account is now active and you are attached to a structure."),
        (
            {"kind": SimpleNamespace(name="RIDET", internal=True)},
            "Identifier: 73282932000074 (assigned by the portal; you can enter the structure's SIRET later)",
        ),
    ],
)
def test_every_branch_of_structure_created_is_english(app, changes, english):
    mail = render(app, "structure_created", "en", **changes)
    assert english in mail.body_text and english in html.unescape(mail.body_html)
    assert_english(mail.body_html, data=DATA)


@pytest.mark.parametrize("former", [None, SimpleNamespace(full_name="Jean Dupont")])
def test_both_ways_of_receiving_the_manager_role_are_english(app, former):
    mail = render(app, "manager_role_received", "en", former=former)
    assert_english(mail.body_html, data=(*DATA, "Jean Dupont"))
    assert french_in(text_as_html(mail.body_text), data=(*DATA, "Jean Dupont")) == []
    assert "the role of main manager of the structure Dupont & Fils <SA>" in mail.body_text


def test_minutes_are_counted_in_english(app):
    assert (
        "This link is valid for 1 minute and can be used only once."
        in render(app, "reset", "en", ttl_minutes=1).body_text
    )
    assert (
        "It is valid for 10 minutes and can be used only once."
        in render(app, "second_factor_code", "en").body_text
    )


def test_links_keep_their_place_in_english(app):
    mail = render(app, "attachment_request_sent", "en")
    link = '<a href="https://portail.exemple.fr/lien/abc?x=1&amp;y=2">Track or cancel my request</a>'
    assert f"{link} in “My space”." in mail.body_html
    assert (
        "Track or cancel my request in “My space”: https://portail.exemple.fr/lien/abc?x=1&y=2"
        in mail.body_text
    )
    footer = f'If you have any questions, contact <a href="mailto:{SUPPORT}">{SUPPORT}</a>.'
    assert footer in mail.body_html


def test_a_french_reader_reads_what_the_mail_always_said(app):
    mail = render(app, "activation", "fr", ttl_minutes=60)
    assert '<html lang="fr">' in mail.body_html
    assert "Ce lien est valable 1 heure et ne peut servir qu'une fois." in mail.body_text
    assert "Activer mon compte : https://portail.exemple.fr/lien/abc?x=1&y=2" in mail.body_text
    assert (
        f"{PORTAL} – ce courriel est envoyé automatiquement. Pour toute question : {SUPPORT}."
        in mail.body_text
    )
    refused = render(app, "structure_refused", "fr", support_email=None)
    assert f"<title>{PORTAL} – Votre structure n&#39;est pas validée</title>" in refused.body_html
    assert "ce courriel est envoyé automatiquement, merci de ne pas y répondre." in refused.body_html
    role = render(app, "manager_role_received", "fr", former=None).body_html
    assert (
        "L'équipe du portail vous a confié le rôle de gestionnaire principal de la structure "
        "<strong>Dupont &amp; Fils &lt;SA&gt;</strong>. Vous décidez désormais" in role
    )


def test_markup_in_a_name_stays_text_in_english_injection(app):
    mail = render(app, "attachment_requested", "en")
    assert (
        "<b>Dupont</b>" not in mail.body_html
        and "Jean &lt;b&gt;Dupont&lt;/b&gt; &amp; Fils" in mail.body_html
    )
    assert "Jean <b>Dupont</b> & Fils (jean@exemple.fr) asks to be attached" in mail.body_text


def test_an_account_made_in_english_gets_its_activation_mail_in_english(client, signup, mailbox):
    speak(client, "en")
    signup.create_account()
    (mail,) = mailbox(EMAIL)
    assert mail.subject == "Activate your account"
    assert "Activate my account: http" in mail.body_text
    assert_english(mail.body_html, data=("Marie",))
    assert french_in(text_as_html(mail.body_text)) == []
    assert client.get(link_in(mail)).status_code == 200


def test_an_account_made_in_french_gets_french_mail_when_it_asks_in_english(client, account, mailbox):
    """The reader's language, not the request's."""
    speak(client, "en")
    client.submit("/mot-de-passe-oublie/", {"email": EMAIL})
    mail = mailbox(EMAIL)[-1]
    assert mail.subject == "Réinitialisez votre mot de passe"
    assert "Choisir un nouveau mot de passe : http" in mail.body_text


@pytest.mark.parametrize(
    ("minutes", "french", "english"),
    [
        (1440, "1 jour", "1 day"),
        (2880, "2 jours", "2 days"),
        (120, "2 heures", "2 hours"),
        (45, "45 minutes", "45 minutes"),
    ],
)
def test_a_link_s_life_reads_as_people_say_it(app, minutes, french, english):
    """A contact address's link lives 1440 minutes: « 1 jour », not « 1440 minutes »."""
    french_mail = render(app, "contact", "fr", ttl_minutes=minutes).body_text
    english_mail = render(app, "contact", "en", ttl_minutes=minutes).body_text
    assert f"Ce lien est valable {french} et" in french_mail
    assert f"This link is valid for {english} and" in english_mail
