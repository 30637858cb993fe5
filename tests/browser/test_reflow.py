"""Every page of the flow reflows at 320 CSS px and holds text at 200 %
(RGAA 10.4, 10.11) and wider text spacing (10.12), and its focus indicators
are measured (RGAA 10.7); the accessibility statement goes through the engines."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_axe
from tests.browser.support.layout import check_focus_indicators, check_reflow
from tests.browser.support.pages import CAPTCHA, MAIL_SENT, SET_PASSWORD, SIGN_IN
from tests.browser.support.people import new_person

pytestmark = pytest.mark.browser


def _check(page, step: str, lowest: list) -> None:
    check_reflow(page, step)
    lowest.append(check_focus_indicators(page, step))


def test_every_page_reflows_and_shows_its_focus(visitor):
    page, lowest = visitor.page, []
    person = new_person("zoom")
    page.goto("/")
    _check(page, "accueil", lowest)
    page.goto("/connexion")
    visitor.expect_step(SIGN_IN)
    visitor.button("Se connecter").click()
    visitor.expect_errors("Ce champ est obligatoire.")
    _check(page, "connexion en erreur", lowest)
    visitor.start_signup()
    visitor.submit_personal_info()
    visitor.expect_errors("Ce champ est obligatoire.")
    _check(page, "informations personnelles en erreur", lowest)
    visitor.fill_personal_info(person)
    visitor.submit_personal_info()
    visitor.expect_step(CAPTCHA)
    _check(page, "captcha", lowest)
    visitor.solve_captcha()
    visitor.expect_step(MAIL_SENT)
    _check(page, "courriel envoyé", lowest)
    page.goto(visitor.activation_link(person))
    visitor.expect_step(SET_PASSWORD)
    _check(page, "mot de passe", lowest)
    visitor.set_password(person.password)
    visitor.expect_structure_step()
    _check(page, "structure", lowest)
    visitor.link("Créer une nouvelle structure").click()
    visitor.expect_step("Renseignez les informations générales")
    _check(page, "nouvelle structure", lowest)
    page.goto("/declaration-accessibilite")
    expect(visitor.heading).to_have_text("Déclaration d'accessibilité")
    check_axe(page, "déclaration d'accessibilité")  # axe, HTML_CodeSniffer, Nu checker
    _check(page, "déclaration d'accessibilité", lowest)
    print(f"lowest focus indicator contrast: {min(lowest)}:1")
