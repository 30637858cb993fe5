"""axe-core finds no WCAG 2.1 A/AA violation on « Mon compte », « Mot de
passe oublié ? » and the reset page, nor in any of their error states, with
JavaScript on and with JavaScript disabled. Each state is also photographed
at desktop and phone width.

(The 429 page needs the rate limits, which the browser tests' server runs
without; the non-browser tests cover it.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_page
from tests.browser.support.pages import ACCOUNT, ACCOUNT_PATH, MAIL_SENT, SIGN_IN, SPACE_PATH
from tests.browser.support.people import new_person

pytestmark = pytest.mark.browser

FORGOTTEN = "Mot de passe oublié ?"
RESET = "Choisissez un nouveau mot de passe"


def expect_notice(visitor, text: str | re.Pattern) -> None:
    expect(visitor.page.locator("main .notice").first).to_contain_text(text)


def test_account_page_and_its_error_states(any_owner, request):
    """« Mon compte » of the shared owner: its errors only change nothing,
    and what it saves is what was there (its password stays)."""
    owner, page = any_owner, any_owner.page
    person = owner.person
    shots = request.getfixturevalue("shots") if owner.javascript else None

    page.goto(SPACE_PATH)
    owner.nav_link(ACCOUNT).click()
    owner.expect_step(ACCOUNT)
    owner.expect_path(ACCOUNT_PATH)
    owner.expect_current_nav(ACCOUNT)
    expect(owner.main).to_contain_text(person.email)
    check_page(page, shots, "mon compte")

    owner.field("Prénom").fill("")
    owner.field("Téléphone").fill("12")
    owner.button("Enregistrer mes informations").click()
    owner.expect_errors("Prénom : Ce champ est obligatoire.", "Téléphone")
    expect(owner.field("Téléphone")).to_have_value("12")  # nothing typed is lost
    owner.expect_current_nav(ACCOUNT)
    check_page(page, shots, "mon compte informations invalides")
    owner.field("Prénom").fill(person.first_name)
    owner.field("Téléphone").fill(person.phone)
    owner.button("Enregistrer mes informations").click()
    expect_notice(
        owner, re.compile("^(Aucune modification à enregistrer|Vos informations ont été enregistrées)")
    )
    check_page(page, shots, "mon compte informations enregistrees")

    consent = page.get_by_label(re.compile("^J'accepte que mon nom"))
    consent.check()
    owner.button("Enregistrer mon choix").click()
    expect_notice(owner, "Vous recevrez l'enquête de satisfaction.")
    expect(consent).to_be_checked()
    check_page(page, shots, "mon compte enquete acceptee")
    consent.uncheck()
    owner.button("Enregistrer mon choix").click()
    expect_notice(owner, "Votre consentement est retiré")

    owner.button("Modifier mon mot de passe").click()
    owner.expect_errors("Mot de passe actuel : Ce champ est obligatoire.")
    check_page(page, shots, "mon compte mot de passe vide")
    owner.field("Mot de passe actuel").fill("pas le bon mot de passe")
    owner.field("Nouveau mot de passe").fill("Autre-Cheval-4242")
    owner.field("Confirmation du nouveau mot de passe").fill("Autre-Cheval-4242")
    owner.button("Modifier mon mot de passe").click()
    expect(owner.error_for("Mot de passe actuel")).to_contain_text("incorrect")
    check_page(page, shots, "mon compte mot de passe actuel faux")
    owner.field("Mot de passe actuel").fill(person.password)
    owner.field("Nouveau mot de passe").fill("motdepasse")
    owner.field("Confirmation du nouveau mot de passe").fill("autre chose")
    owner.button("Modifier mon mot de passe").click()
    owner.expect_errors("Nouveau mot de passe", "identiques")
    check_page(page, shots, "mon compte nouveau mot de passe refuse")


def test_password_recovery_pages(any_visitor, request, console_allows):
    """« Mot de passe oublié ? » → the mail → the reset page and its errors →
    signed in on « Mon compte »; the link, used, is no longer valid (410)."""
    visitor, page = any_visitor, any_visitor.page
    shots = request.getfixturevalue("shots") if visitor.javascript else None
    console_allows.append(r"status of 410 \(GONE\)")
    person = visitor.sign_up_quickly(new_person("oubli"))
    page.context.clear_cookies()  # someone who is not signed in

    page.goto("/connexion")
    visitor.expect_step(SIGN_IN)
    visitor.link(FORGOTTEN).click()
    visitor.expect_step(FORGOTTEN)
    check_page(page, shots, "mot de passe oublie")
    visitor.button("Recevoir un lien").click()
    visitor.expect_errors("Ce champ est obligatoire.")
    check_page(page, shots, "mot de passe oublie vide")
    visitor.field("Adresse e-mail").fill("marie.curie@exemple")
    visitor.button("Recevoir un lien").click()
    visitor.expect_errors("Adresse e-mail")
    expect(visitor.field("Adresse e-mail")).to_have_value("marie.curie@exemple")
    check_page(page, shots, "mot de passe oublie adresse invalide")
    visitor.field("Adresse e-mail").fill(person.email)
    visitor.button("Recevoir un lien").click()
    visitor.expect_step(MAIL_SENT)
    expect(visitor.main).to_contain_text(person.email)
    check_page(page, shots, "mot de passe oublie envoye")

    visitor.open_link_from_mail("Réinitialisez votre mot de passe")
    visitor.expect_step(RESET)
    link = page.url
    check_page(page, shots, "nouveau mot de passe")
    new_password = "Nouveau-Cheval-73"
    visitor.check_password_errors(shots, "nouveau mot de passe", new_password)
    visitor.set_password(new_password)
    visitor.expect_step(ACCOUNT)
    visitor.expect_path(ACCOUNT_PATH)
    expect_notice(visitor, "Votre mot de passe a été modifié.")
    visitor.expect_signed_in(person)
    check_page(page, shots, "mot de passe reinitialise")

    page.goto(link)  # used already
    expect(visitor.heading).to_have_text("Ce lien n'est plus valable")
    check_page(page, shots, "lien de reinitialisation expire")
