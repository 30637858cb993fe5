"""The journey with the keyboard alone: Tab, Shift+Tab, Enter, Space, the
arrow keys and typing, never a click or a fill. Every element reached shows
its focus."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.keyboard import expect_focus, focused, tab_to
from tests.browser.support.pages import (
    CAPTCHA,
    CREATED,
    HOME,
    MAIL_SENT,
    PERSONAL_INFO,
    SET_PASSWORD,
    SIGN_IN,
    SPACE,
    STRUCTURE_FORM,
)
from tests.browser.support.people import new_company, new_person
from tests.support.constants import CAPTCHA_ANSWER

pytestmark = pytest.mark.browser


def type_into(page, label: str, text: str) -> None:
    tab_to(page, label)
    page.keyboard.type(text)


def test_journey_with_the_keyboard_alone(visitor):
    page = visitor.page
    keyboard = page.keyboard
    person = new_person("clavier")

    page.goto("/")
    # The first Tab reaches the skip link, which leads to the content.
    keyboard.press("Tab")
    assert focused(page)["name"] == "Aller au contenu"
    keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    tab_to(page, "Créer un compte")
    keyboard.press("Enter")
    visitor.expect_step(PERSONAL_INFO)
    expect_focus(page, PERSONAL_INFO, tag="h1")

    type_into(page, "Adresse e-mail", person.email)
    type_into(page, "Confirmez votre adresse e-mail", person.email)
    # Back to the first field: it kept what was typed.
    tab_to(page, "Adresse e-mail", backwards=True)
    expect(visitor.field("Adresse e-mail")).to_have_value(person.email)
    type_into(page, "Prénom", person.first_name)
    type_into(page, "Nom", person.last_name)
    type_into(page, "Téléphone", person.phone)
    tab_to(page, "J'accepte les conditions")
    keyboard.press("Space")
    expect(visitor.field("J'accepte les conditions")).to_be_checked()
    tab_to(page, "Continuer")
    keyboard.press("Enter")

    visitor.expect_step(CAPTCHA)
    expect_focus(page, CAPTCHA, tag="h1")
    image = page.get_by_role("img", name=re.compile("^Image contenant"))
    first_image = image.get_attribute("src")
    entries = page.evaluate("history.length")
    tab_to(page, "Nouvelle image")
    keyboard.press("Space")
    expect(image).not_to_have_attribute("src", first_image)
    expect_focus(page, "Nouvelle image", tag="button")  # the focus stays where it was
    assert page.evaluate("history.length") == entries  # a new image is no step to go Back through
    assert page.url.endswith("/inscription/captcha")
    visitor.expect_announced("Nouvelle image affichée.")
    visitor.expect_ready()  # the new image read first
    type_into(page, "Reproduire la suite de caractères", CAPTCHA_ANSWER.lower())
    keyboard.press("Enter")  # Enter in the answer validates (not « Nouvelle image »)

    visitor.expect_step(MAIL_SENT)
    expect_focus(page, MAIL_SENT, tag="h1")

    page.goto(visitor.activation_link(person))  # the link from the mail
    visitor.expect_step(SET_PASSWORD)
    type_into(page, "Nouveau mot de passe", person.password)
    type_into(page, "Confirmation du nouveau mot de passe", person.password)
    keyboard.press("Enter")
    visitor.expect_structure_step()
    visitor.expect_signed_in(person)
    expect_focus(page, visitor.heading.inner_text(), tag="h1")

    # Signing out and in again, still with the keyboard.
    tab_to(page, "Se déconnecter", backwards=True)
    keyboard.press("Enter")
    visitor.expect_step(HOME)
    visitor.expect_signed_out()
    tab_to(page, "Se connecter")
    keyboard.press("Enter")
    visitor.expect_step(SIGN_IN)
    type_into(page, "Adresse e-mail", person.email)
    type_into(page, "Mot de passe", person.password)
    keyboard.press("Enter")
    visitor.expect_structure_step()
    visitor.expect_signed_in(person)

    # Step 6: the structure form, its select, its checkbox, its submit.
    company = new_company("Clavier")
    tab_to(page, "Créer une nouvelle structure")
    keyboard.press("Enter")
    visitor.expect_step(STRUCTURE_FORM)
    expect_focus(page, STRUCTURE_FORM, tag="h1")
    tab_to(page, "Type d'identifiant")
    keyboard.press("ArrowDown")  # the next type: the identifier's label follows
    expect(visitor.field("Type d'identifiant")).to_have_value("ue")
    expect(visitor.field("Numéro de TVA intracommunautaire")).to_be_visible()
    expect_focus(page, "Type d'identifiant", tag="select")  # the swap left the focus there
    keyboard.press("ArrowUp")
    expect(visitor.field("Identifiant Siret")).to_be_visible()
    type_into(page, "Identifiant Siret", company.siret)
    type_into(page, "Raison sociale", company.name)
    type_into(page, "Adresse", company.address)
    type_into(page, "Ville", company.city)
    type_into(page, "Code postal", company.postal_code)
    tab_to(page, "Non diffusible")
    keyboard.press("Space")
    expect(visitor.field("Non diffusible")).to_be_checked()
    tab_to(page, "Soumettre")
    keyboard.press("Enter")
    visitor.expect_step(SPACE)
    expect_focus(page, SPACE, tag="h1")
    expect(visitor.main).to_contain_text(CREATED)
    # Its structure is one Tab away, and opens with Enter.
    tab_to(page, company.name)
    keyboard.press("Enter")
    expect(visitor.heading).to_have_text(company.name)
    expect(visitor.main).to_contain_text("Non diffusible")


SUMMARY = re.compile(r"^Le formulaire contient (une erreur|des erreurs)")


def test_without_javascript_a_refused_form_opens_on_its_errors(nojs_visitor):
    """A page loaded whole after a refused form (JavaScript off) starts on
    its error summary, not at the top of the page: a screen reader reads the
    errors, and Tab goes from there to the first field to mend."""
    visitor, page = nojs_visitor, nojs_visitor.page
    page.goto("/inscription/")
    with page.expect_navigation():
        visitor.submit_personal_info()  # empty: 422, the page again with its errors
    visitor.expect_step(PERSONAL_INFO)
    expect_focus(page, SUMMARY, tag="div")
    expect(visitor.error_summary).to_be_in_viewport()
    page.keyboard.press("Tab")
    expect_focus(page, re.compile("^Adresse e-mail"), tag="a")
    page.keyboard.press("Enter")
    expect_focus(page, "Adresse e-mail", tag="input")
