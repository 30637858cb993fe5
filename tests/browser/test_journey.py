"""The whole journey in a real browser, with JavaScript on and again with
JavaScript disabled: « Créer un compte » → personal information → captcha →
the mail → « Mise à jour du mot de passe » → the structure step → a new
structure, « vous êtes rattaché à une structure »; then a colleague asks to be
attached to it and its gestionnaire principal approves from « Approbations ».
Every page is checked with axe and photographed at desktop and phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_page
from tests.browser.support.keyboard import expect_focus
from tests.browser.support.mail import Inbox
from tests.browser.support.pages import (
    APPROVALS,
    APPROVALS_PATH,
    ATTACHED,
    CAPTCHA,
    CREATED,
    EXISTS,
    HOME,
    MAIL_SENT,
    PERSONAL_INFO,
    SET_PASSWORD,
    SIGN_IN,
    SPACE,
    SPACE_PATH,
    STRUCTURE_FORM,
    STRUCTURE_FORM_PATH,
)
from tests.browser.support.people import Company, Person, new_company, new_person
from tests.browser.support.visitor import Visitor

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_complete_journey(javascript, request, inbox, open_visitor):
    """« Créer un compte » to the structure step, signed in; signed out and in
    again with « Se connecter »; a new structure; a colleague's attachment
    request, approved."""
    page = request.getfixturevalue("page" if javascript else "nojs_page")
    # Photographed once: without JavaScript the pages look the same.
    shots = request.getfixturevalue("shots") if javascript else None
    visitor = Visitor(page, inbox, javascript=javascript)
    person = visitor.person = new_person()

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
    visitor.expect_current_nav(None)

    # Step 6: « Créer une nouvelle structure ».
    company = new_company()
    if javascript:
        visitor.mark_document()
    visitor.start_new_structure()
    expect(page.locator("main .stepper")).to_contain_text("Étape 6 sur 6")
    check_page(page, shots, "informations generales")
    visitor.fill_structure(company)
    check_page(page, shots, "informations generales remplies")
    visitor.submit_structure()
    visitor.expect_step(SPACE)
    visitor.expect_path(SPACE_PATH)
    expect(visitor.main).to_contain_text(CREATED)
    expect(visitor.row_of(company.name)).to_contain_text("Gestionnaire principal")
    visitor.expect_current_nav(SPACE)
    check_page(page, shots, "structure creee")
    if javascript:
        visitor.expect_same_document()
    assert company.name in Inbox.text(inbox.wait_for(person.email, "Votre structure est créée"))

    # A colleague, in a browser of their own, tries to create the same
    # structure and is offered to ask for attachment instead.
    colleague = open_visitor(javascript=javascript)
    other = colleague.create_and_activate(new_person("pierre", first_name="Pierre", last_name="Martin"))
    colleague.start_new_structure()
    colleague.fill_structure(Company(siret=company.siret, name="Curie et associés"))
    colleague.submit_structure()
    colleague.expect_step(STRUCTURE_FORM)
    colleague.expect_path(STRUCTURE_FORM_PATH)
    expect(colleague.error_for("Identifiant Siret")).to_contain_text(EXISTS)
    offer = colleague.page.get_by_role("region", name=EXISTS)
    expect(offer).to_contain_text(company.siret)
    expect(colleague.field("Raison sociale")).to_have_value("Curie et associés")  # nothing typed is lost
    check_page(colleague.page, shots, "structure existante")
    offer.get_by_role("button", name="Demander le rattachement").click()
    colleague.expect_step(SPACE)
    expect(colleague.main).to_contain_text("Votre demande de rattachement a été transmise")
    if javascript:  # the focus on the new heading; the message read out with it
        expect_focus(colleague.page, SPACE, tag="h1")
        colleague.expect_announced(re.compile(rf"^{SPACE}\. Votre demande de rattachement a été transmise"))
    expect(colleague.row_of(company.name)).to_contain_text("En attente")
    check_page(colleague.page, shots, "demande de rattachement envoyee")

    # The gestionnaire principal, told by mail, approves in « Approbations ».
    visitor.open_link_from_mail("Nouvelle demande de rattachement")
    visitor.expect_step(APPROVALS)
    visitor.expect_path(APPROVALS_PATH)
    request_row = visitor.row_of(other.email)
    expect(request_row).to_contain_text(other.full_name)
    check_page(page, shots, "approbations")
    if javascript:
        visitor.mark_document()
    request_row.get_by_role("button", name=f"Approuver la demande de {other.full_name}").click()
    approved = f"{other.full_name} est désormais rattaché à la structure {company.name}."
    if javascript:
        # The row swaps in place with the decision, which takes the focus;
        # the message replaces the one above the page, and is announced.
        expect(request_row).to_contain_text("Acceptée le")
        expect(request_row).not_to_contain_text(approved)
        expect(request_row.get_by_role("button")).to_have_count(0)
        expect(page.locator(".notice--flash")).to_have_text([approved])
        expect_focus(page, re.compile(r"^Acceptée le "), tag="td")
        visitor.expect_announced(approved)
        visitor.expect_same_document()
    else:
        expect(page.locator(".notice--success")).to_have_text(approved)
        expect(request_row).to_have_count(0)  # no longer waiting
    visitor.expect_path(APPROVALS_PATH)
    check_page(page, shots, "demande approuvee")

    # The colleague is told by mail, and is attached in « Mon espace ».
    colleague.open_link_from_mail("Votre demande de rattachement est acceptée")
    colleague.expect_step(SPACE)
    expect(colleague.main).to_contain_text(ATTACHED)
    expect(colleague.row_of(company.name)).to_contain_text("Utilisateur")
    colleague.expect_current_nav(SPACE)
    check_page(colleague.page, shots, "rattache")


def test_an_address_with_an_account_gets_the_same_answer_and_its_owner_a_mail(signed_in, open_visitor, inbox):
    """No account enumeration: signing up again with a known address shows the
    usual « Vérifiez votre messagerie »; the owner is told by mail."""
    owner = signed_in.person
    other = open_visitor(javascript=True)
    other.create_account(Person(email=owner.email, first_name="Pierre", last_name="Martin"))
    expect(other.page.locator("main")).to_contain_text(owner.email)
    mail = inbox.wait_for(owner.email, "Votre compte existe déjà")
    assert "/connexion" in Inbox.text(mail)
