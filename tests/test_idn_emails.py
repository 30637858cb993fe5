"""Addresses with an internationalised domain: stored and sent in their ASCII
form (« xn--… »), shown to people in Unicode, on pages, in forms filled
from the database and in the mails' text; a look-alike domain stays ASCII."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from models import Structure, User
from rules.email import normalize_email, shown_email
from tests.support.app import query
from tests.support.responses import follow, text_of, without_tokens
from tests.support.signup import PERSON, Signup, link_in
from tests.support.structures import create_structure
from tests.test_mail_templates import NAMES, TEMPLATES, render

LOGIN = "marie@exemple-été.fr"
CONTACT = "secretariat@café-curie.fr"
STRUCTURE_EMAIL = "contact@ateliers-été.fr"
LOOK_ALIKE = "contact@exаmple.fr"  # a Cyrillic « а » among Latin letters


def ascii_of(address: str) -> str:
    return normalize_email(address)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("contact@xn--exemple-t-i4ab.fr", "contact@exemple-été.fr"),
        ("jose@xn--bcher-kva.de", "jose@bücher.de"),
        ("x@xn--e1afmkfd.xn--p1ai", "x@пример.рф"),  # one script, Cyrillic: readable as it is
        ("x@xn--r8jz45g.jp", "x@例え.jp"),  # Japanese mixes its scripts
        ("marie.curie@exemple.fr", "marie.curie@exemple.fr"),
        ("x@xn--exmple-4nf.fr", "x@xn--exmple-4nf.fr"),  # Latin and Cyrillic mixed: ASCII
        ("x@xn--zz.fr", "x@xn--zz.fr"),  # no valid label: as it is
        ("pas-une-adresse-xn--", "pas-une-adresse-xn--"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_stored_address_is_shown_in_unicode(stored, shown):
    assert shown_email(stored) == shown


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("x@xn--80ak6aa92e.com", "x@xn--80ak6aa92e.com"),  # « аррӏе », all Cyrillic: reads « apple »
        ("x@xn--80aa0cbo65f.fr", "x@xn--80aa0cbo65f.fr"),  # « раураӏ »: reads « paypal »
        ("x@xn--vxaj.fr", "x@xn--vxaj.fr"),  # « οκ », all Greek: reads « ok »
        ("x@xn--80a1acny.fr", "x@почта.fr"),  # Cyrillic with letters Latin has not: readable
        ("x@xn--80ak6aa92e.xn--p1ai", "x@аррӏе.рф"),  # under a Cyrillic TLD, Cyrillic is expected
    ],
)
def test_attack_a_whole_script_look_alike_of_a_latin_name_is_shown_in_ascii(stored, shown):
    assert shown_email(stored) == shown


@pytest.mark.parametrize("name", NAMES)
def test_no_mail_shows_an_address_in_punycode(app, name):
    person = SimpleNamespace(first_name="Marie", full_name="Marie Curie", email=ascii_of(LOGIN))
    requester = SimpleNamespace(first_name="Jean", full_name="Jean Dupont", email=ascii_of(CONTACT))
    mail = render(app, name, context={"user": person, "manager": person, "requester": requester})
    assert "xn--" not in mail.body_text and "xn--" not in mail.body_html
    if "email=" in (TEMPLATES / f"{name}.txt").read_text(encoding="utf-8"):  # names an address
        assert LOGIN in mail.body_text or CONTACT in mail.body_text


@pytest.fixture
def marie(app, any_client, mailbox):
    """Marie, her login and contact addresses on internationalised domains,
    signed in on ``any_client`` (the sign-up itself without htmx)."""
    htmx, any_client.htmx = any_client.htmx, False
    signup = Signup(any_client, mailbox)
    person = {**PERSON, "email": LOGIN, "email_confirm": LOGIN, "contact_email": CONTACT}
    signup.create_account(**person)
    assert signup.activate(email=ascii_of(LOGIN)).status_code == 303
    any_client.htmx = htmx
    return any_client


def test_the_account_is_stored_in_ascii_and_mailed_there(app, marie, mailbox):
    user = query(app, lambda: User.get())
    assert (user.email, user.contact_email) == (ascii_of(LOGIN), ascii_of(CONTACT))
    assert [m.recipient for m in mailbox(ascii_of(CONTACT))]  # the confirmation link went to the ASCII form


def test_mon_compte_shows_both_addresses_in_unicode(marie):
    text = text_of(marie.get("/mon-compte/"))
    assert f"<strong>{LOGIN}</strong>" in text
    assert f'value="{CONTACT}"' in text  # the contact field, filled from the database
    assert f"<strong>{CONTACT}</strong> n'est pas encore confirmée" in text
    assert "xn--" not in without_tokens(text)
    text = text_of(marie.get("/mon-compte/donnees"))
    assert LOGIN in text and CONTACT in text and "xn--" not in without_tokens(text)


def test_the_contact_link_pages_and_mail_show_unicode(app, marie, mailbox):
    [mail] = [m for m in mailbox(ascii_of(CONTACT)) if m.subject == "Confirmez votre adresse de contact"]
    assert LOGIN in mail.body_text and "xn--" not in mail.body_text + mail.body_html
    text = text_of(marie.get(link_in(mail)))
    assert LOGIN in text and CONTACT in text and "xn--" not in without_tokens(text)


def test_a_profile_shown_again_with_an_error_keeps_the_unicode_address(marie):
    response = marie.submit(
        "/mon-compte/informations",
        {"first_name": "", "last_name": "Curie", "phone": "", "contact_email": "autre@exemple-été.fr"},
    )
    assert response.status_code == 422
    text = text_of(response)
    assert 'value="autre@exemple-été.fr"' in text and "xn--" not in without_tokens(text)


def test_the_flash_after_a_new_contact_address_says_it_in_unicode(marie):
    response = marie.submit(
        "/mon-compte/informations",
        {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": "autre@exemple-été.fr"},
    )
    text = follow(marie, response)
    assert "Un lien de confirmation a été envoyé à autre@exemple-été.fr." in text
    assert "xn--" not in without_tokens(text)


def test_a_structure_email_is_stored_in_ascii_and_shown_in_unicode(app, marie):
    response = create_structure(marie, email=STRUCTURE_EMAIL)
    assert response.status_code in (200, 303), text_of(response)
    structure = query(app, lambda: Structure.get())
    assert structure.email == ascii_of(STRUCTURE_EMAIL)
    for url in (f"/structure/{structure.id}/", f"/structure/{structure.id}/modifier"):
        text = text_of(marie.get(url))
        assert STRUCTURE_EMAIL in text and "xn--" not in without_tokens(text), url


def test_a_structure_form_shown_again_keeps_the_unicode_address(marie):
    response = create_structure(marie, email=STRUCTURE_EMAIL, city="")
    assert response.status_code == 422
    text = text_of(response)
    assert f'value="{STRUCTURE_EMAIL}"' in text and "xn--" not in without_tokens(text)


def test_attack_a_look_alike_domain_is_shown_in_ascii(app, marie):
    """« exаmple.fr » with a Cyrillic « а » would pass for exemple's own
    address on the structure's page: it is shown as its ASCII form."""
    create_structure(marie, email=LOOK_ALIKE)
    structure = query(app, lambda: Structure.get())
    text = text_of(marie.get(f"/structure/{structure.id}/"))
    assert LOOK_ALIKE not in text and ascii_of(LOOK_ALIKE) in text


def test_the_sign_in_page_shown_again_keeps_the_unicode_address(any_client):
    response = any_client.submit("/connexion", {"email": LOGIN, "password": "Pas-le-bon-1234"})
    assert response.status_code == 422
    assert f'value="{LOGIN}"' in text_of(response) and "xn--" not in without_tokens(text_of(response))


def test_the_reset_pages_show_the_unicode_address(marie, mailbox):
    marie.submit("/deconnexion")
    text = follow(marie, marie.submit("/mot-de-passe-oublie/", {"email": LOGIN}))
    assert LOGIN in text and "xn--" not in without_tokens(text)
    [mail] = [m for m in mailbox(ascii_of(LOGIN)) if m.subject == "Réinitialisez votre mot de passe"]
    text = text_of(marie.get(link_in(mail)))
    assert f"<strong>{LOGIN}</strong>" in text and "xn--" not in without_tokens(text)


def test_step_two_and_three_show_the_unicode_address(any_client, mailbox):
    response = Signup(any_client, mailbox).personal_info(email=LOGIN, email_confirm=LOGIN)
    text = follow(any_client, response)
    assert LOGIN in text and "xn--" not in without_tokens(text)
