"""axe-core finds no WCAG 2.1 A/AA violation on any page of the flow nor in
any of its error states, with JavaScript on and with JavaScript disabled.
Each state is also photographed at desktop and phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_page
from tests.browser.support.pages import CAPTCHA, MAIL_SENT, SET_PASSWORD, SIGN_IN
from tests.browser.support.people import new_person

pytestmark = pytest.mark.browser


def test_every_page_and_error_state(any_visitor, request, console_allows):
    visitor, page = any_visitor, any_visitor.page
    # Photographed once: without JavaScript the pages look the same.
    shots = request.getfixturevalue("shots") if visitor.javascript else None
    person = new_person("axe")
    # Pages answered with these statuses on purpose (Chromium logs them).
    console_allows += [r"status of 404 \(NOT FOUND\)", r"status of 410 \(GONE\)"]

    page.goto("/")
    check_page(page, shots, "accueil")

    page.goto("/connexion")
    visitor.expect_step(SIGN_IN)
    check_page(page, shots, "connexion")
    visitor.button("Se connecter").click()
    visitor.expect_errors("Ce champ est obligatoire.")
    check_page(page, shots, "connexion vide")
    visitor.field("Adresse e-mail").fill("personne@exemple.fr")
    visitor.field("Mot de passe").fill("pas le bon mot de passe")
    visitor.button("Se connecter").click()
    visitor.expect_errors("incorrect")
    check_page(page, shots, "connexion refusee")

    visitor.start_signup()
    visitor.submit_personal_info()
    visitor.expect_errors("Ce champ est obligatoire.", "accepter les conditions")
    check_page(page, shots, "informations personnelles vides")
    visitor.field("Adresse e-mail").fill("marie.curie@exemple")
    visitor.field("Confirmez votre adresse e-mail").fill("autre@exemple.fr")
    visitor.field("Prénom").fill("Marie")
    visitor.field("Nom").fill("Curie")
    visitor.field("Téléphone").fill("12")
    visitor.field("Adresse email de contact").fill("contact@")
    visitor.submit_personal_info()
    visitor.expect_errors("Téléphone")
    check_page(page, shots, "informations personnelles invalides")

    visitor.fill_personal_info(person)
    visitor.field("Adresse email de contact").fill("")
    visitor.submit_personal_info()
    visitor.expect_step(CAPTCHA)
    check_page(page, shots, "captcha")
    visitor.button("Valider le Captcha").click()
    visitor.expect_errors("Ce champ est obligatoire.")
    check_page(page, shots, "captcha vide")
    visitor.solve_captcha("AAAAAA")
    visitor.expect_errors("ne correspondent pas")
    check_page(page, shots, "captcha faux")
    visitor.solve_captcha()
    visitor.expect_step(MAIL_SENT)
    check_page(page, shots, "courriel envoye")
    visitor.button("Renvoyer le courriel").click()
    expect(page.locator(".notice--success").first).to_be_visible()
    check_page(page, shots, "courriel renvoye")

    link = visitor.activation_link(person)
    page.goto(link)
    visitor.expect_step(SET_PASSWORD)
    check_page(page, shots, "mot de passe")
    visitor.check_password_errors(shots, "mot de passe", person.password)
    visitor.set_password(person.password)
    visitor.expect_structure_step()
    check_page(page, shots, "structure")

    page.goto(link)  # used already, by this signed-in account: on to step 5
    visitor.expect_structure_step()
    expect(page.locator("main")).to_contain_text("Votre compte est déjà activé.")
    visitor.sign_out()
    page.goto(link)  # used already, seen by nobody signed in
    expect(visitor.heading).to_have_text(re.compile("plus valable"))
    check_page(page, shots, "lien expire")
    page.goto("/nulle-part")
    expect(visitor.heading).to_have_text("Page introuvable")
    check_page(page, shots, "page introuvable")
