"""A console form sent while the session owes its second factor, in
Chromium, with JavaScript and without: the operator removed their last
factor in another tab, then sent the structure's correction typed before;
the enrolment says that what was typed waits, and once it is done the
console's page comes back filled (tests/test_second_factor_resume.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_axe
from tests.browser.support.factors import enrol_app
from tests.browser.support.http import http_create_structure
from tests.browser.support.people import new_company, new_person
from tests.support.second_factor import FACTORS

pytestmark = pytest.mark.browser

KEPT = "il vous attend sur la page une fois la vérification en deux étapes faite."


def test_a_console_form_sent_after_the_last_factor_went_comes_back_filled_after_enrolment(
    any_visitor, live_server
):
    visitor, page = any_visitor, any_visitor.page
    operator = visitor.sign_up_quickly(new_person("operatrice"))
    live_server.flask("operator", "grant", operator.email)
    enrol_app(visitor)
    company = new_company("Verrerie")
    http_create_structure(page.request, company)

    page.goto("/administration/structures?q=" + company.siret)
    visitor.link(company.name).click()
    visitor.link("Corriger les informations").click()
    expect(visitor.heading).to_contain_text("Corriger la structure")
    edit_url = page.url
    visitor.field("Libellé de la structure").fill("Verrerie du port")
    visitor.field("Ville").fill("Lyon")
    visitor.field("Code postal").fill("69002")

    elsewhere = page.context.new_page()  # another tab of the same browser
    elsewhere.goto(FACTORS)
    elsewhere.get_by_role("button", name=re.compile("^Retirer")).click()
    elsewhere.get_by_role("button", name="Retirer et désactiver la vérification en deux étapes").click()
    expect(elsewhere.locator("main")).to_contain_text("La méthode a été retirée.")
    elsewhere.close()

    visitor.button("Soumettre").click()
    visitor.expect_step("Vérification en deux étapes")
    expect(page.locator("#flashes")).to_contain_text(KEPT)
    check_axe(page, "enrolment asked by the console, what was typed kept")
    enrol_app(visitor, from_page=True)
    visitor.button("J'ai conservé mes codes").click()

    expect(page).to_have_url(edit_url)
    expect(visitor.field("Libellé de la structure")).to_have_value("Verrerie du port")
    expect(visitor.field("Ville")).to_have_value("Lyon")
    expect(visitor.field("Code postal")).to_have_value("69002")
    visitor.button("Soumettre").click()
    expect(page.locator(".notice--success")).to_contain_text("corrigées")
