"""The whole account journey in a real browser, with JavaScript on and again
with JavaScript disabled: « Créer un compte » → personal information → captcha
→ the mail → « Mise à jour du mot de passe » → the structure step, signed in.
Every page is checked with axe and photographed at desktop and phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import (
    CAPTCHA,
    HOME,
    MAIL_SENT,
    PERSONAL_INFO,
    SET_PASSWORD,
    SIGN_IN,
    Inbox,
    Person,
    Visitor,
    check_page,
    new_person,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_account_journey(javascript, request, inbox):
    """« Créer un compte » to the structure step, signed in; then signed out
    and signed in again with « Se connecter »."""
    page = request.getfixturevalue("page" if javascript else "nojs_page")
    # Photographed once: without JavaScript the pages look the same.
    shots = request.getfixturevalue("shots") if javascript else None
    visitor = Visitor(page, inbox, javascript=javascript)
    person = new_person()

    page.goto("/")
    visitor.expect_step(HOME)
    visitor.expect_signed_out()
    check_page(page, shots, "accueil")
    if javascript:
        visitor.mark_document()

    visitor.link("Créer un compte").click()
    visitor.expect_step(PERSONAL_INFO)
    visitor.expect_path("/inscription/")
    check_page(page, shots, "informations personnelles")

    visitor.fill_personal_info(person)
    check_page(page, shots, "informations personnelles remplies")
    visitor.submit_personal_info()
    visitor.expect_step(CAPTCHA)
    visitor.expect_path("/inscription/captcha")
    expect(page.locator("main")).to_contain_text(person.email)
    expect(page.get_by_role("img", name="Image contenant la suite de caractères")).to_be_visible()
    check_page(page, shots, "captcha")

    visitor.solve_captcha()
    visitor.expect_step(MAIL_SENT)
    visitor.expect_path("/inscription/envoye")
    expect(page.locator("main")).to_contain_text(person.email)
    check_page(page, shots, "courriel envoye")
    if javascript:
        visitor.expect_same_document()

    mail = inbox.wait_for(person.email, "Activez votre compte")
    link = inbox.link_in(mail)
    assert link.startswith(page.url.split("/inscription")[0] + "/activation/")
    page.goto(link)
    visitor.expect_step(SET_PASSWORD)
    expect(page.locator("main")).to_contain_text(person.email)
    check_page(page, shots, "mot de passe")
    if javascript:
        visitor.mark_document()

    visitor.set_password(person.password)
    visitor.expect_structure_step()
    visitor.expect_signed_in(person)
    check_page(page, shots, "structure")
    if javascript:
        visitor.expect_same_document()

    # Signed out, the person signs in again with « Se connecter ».
    visitor.sign_out()
    visitor.expect_step(HOME)
    check_page(page, shots, "deconnecte")
    visitor.account_nav.get_by_role("link", name="Se connecter").click()
    visitor.expect_step(SIGN_IN)
    check_page(page, shots, "se connecter")
    visitor.field("Adresse e-mail").fill(person.email)
    visitor.field("Mot de passe").fill(person.password)
    visitor.button("Se connecter").click()
    visitor.expect_structure_step()
    visitor.expect_signed_in(person)


def test_an_address_with_an_account_gets_the_same_answer_and_its_owner_a_mail(signed_in, open_visitor, inbox):
    """No account enumeration: signing up again with a known address shows the
    usual « Vérifiez votre messagerie »; the owner is told by mail."""
    owner = signed_in.person
    other = open_visitor(javascript=True)
    other.create_account(Person(email=owner.email, first_name="Pierre", last_name="Martin"))
    expect(other.page.locator("main")).to_contain_text(owner.email)
    mail = inbox.wait_for(owner.email, "Votre compte existe déjà")
    assert "/connexion" in Inbox.text(mail)
