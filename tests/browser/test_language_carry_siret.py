"""« Modifier la structure » of a structure numbered by the portal, in
Chromium, with JavaScript and without: the SIRET typed in « Renseigner le
SIRET » comes back over the language switch with the details typed, and
Enter in its field records it (tests/test_language_carry_siret.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_axe
from tests.browser.support.http import _post
from tests.browser.support.pages import CREATED, STRUCTURE_FORM_PATH
from tests.browser.support.people import new_company, new_siret

pytestmark = pytest.mark.browser


def internal_structure(visitor) -> str:
    """A structure « en cours d'immatriculation » of the visitor's: its edit page's address."""
    company = new_company()
    fields = {"identifier_type": "en_cours", "identifier": "", "company_name": company.name}
    fields |= {"address": company.address, "city": company.city, "postal_code": company.postal_code}
    page = _post(visitor.page.request, STRUCTURE_FORM_PATH, {**fields, "country": "FR"})
    assert CREATED in page
    structure_id = re.search(r'href="/structure/(\d+)/"', page).group(1)
    return f"/structure/{structure_id}/modifier"


def test_the_switch_keeps_the_siret_and_the_details_typed_and_enter_records_both(any_visitor):
    visitor = any_visitor
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(internal_structure(visitor))
    visitor.expect_step("Modifier la structure")
    siret = new_siret()
    visitor.field("Libellé de la structure").fill("Atelier du quai")
    visitor.field("Identifiant Siret").fill(siret)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#label")).to_have_value("Atelier du quai")
    expect(page.locator("#identifier")).to_have_value(siret)
    check_axe(page, "structure edit in English, its details and its SIRET refilled")

    page.locator("#identifier").press("Enter")
    expect(page.locator(".notice--success").filter(has_text=siret)).to_have_count(1)
    expect(page.locator("main")).to_contain_text("Atelier du quai")
    expect(page.locator("main")).to_contain_text(siret)


def test_the_siret_s_button_keeps_the_details_typed_beside_it(any_visitor):
    """A SIRET refused: the details typed are saved (and said so), the SIRET
    comes back as typed with its error."""
    visitor = any_visitor
    visitor.sign_up_quickly()
    page = visitor.page
    url = internal_structure(visitor)
    page.goto(url)
    visitor.field("Libellé de la structure").fill("Atelier du quai")
    visitor.field("Identifiant Siret").fill("1234")
    visitor.button("Enregistrer le SIRET").click()
    visitor.expect_errors("14 chiffres")
    expect(page.locator(".notice--success")).to_contain_text("mises à jour")
    expect(visitor.field("Identifiant Siret")).to_have_value("1234")
    expect(visitor.field("Libellé de la structure")).to_have_value("Atelier du quai")
    check_axe(page, "structure edit, a SIRET refused beside details saved")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    expect(page.locator("#identifier")).to_have_value("1234")
