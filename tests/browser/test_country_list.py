"""Step 6's country list follows the identifier type: with JavaScript the
country field is swapped with the identifier's block when the type changes
(the country chosen kept, the focus left on the type); without it the list
is that of the type sent, and a country of another list is answered next to
the field after « Soumettre », kept, with the right list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support.keyboard import expect_focus
from tests.browser.support.pages import STRUCTURE_FORM_PATH
from tests.browser.support.people import new_company

pytestmark = pytest.mark.browser

SIRET_COUNTRIES = ["", "FR", "GP", "GF", "MQ", "YT", "RE", "BL", "MF", "PM"]


def values(select) -> list[str]:
    return select.locator("option").evaluate_all("options => options.map(o => o.value)")


def test_the_country_list_follows_the_type_under_htmx(visitor):
    page = visitor.page
    visitor.sign_up_quickly()
    page.goto(STRUCTURE_FORM_PATH)
    visitor.mark_document()
    country = visitor.field("Pays")
    assert values(country) == SIRET_COUNTRIES
    expect(country).to_have_value("FR")
    country.select_option("RE")

    identifier_type = visitor.field("Type d'identifiant")
    identifier_type.focus()
    identifier_type.select_option(label="RIDET")
    expect(visitor.field("Numéro RIDET")).to_be_visible()
    expect(visitor.field("Pays").locator("option")).to_have_count(
        3
    )  # placeholder, New Caledonia, La Réunion kept
    assert values(visitor.field("Pays")) == ["", "NC", "RE"]
    expect(visitor.field("Pays")).to_have_value("RE")
    expect_focus(page, "Type d'identifiant", tag="select")

    identifier_type.select_option(label="En cours d'immatriculation")
    expect(visitor.field("Pays").locator("option")).to_have_count(250)
    expect(visitor.field("Pays")).to_have_value("RE")
    visitor.field("Pays").select_option("DE")

    identifier_type.select_option(label="SIRET")
    expect(visitor.field("Pays").locator("option")).to_have_count(11)  # Germany kept, selected
    expect(visitor.field("Pays")).to_have_value("DE")
    visitor.field("Pays").select_option("FR")
    visitor.expect_same_document()

    company = new_company()
    visitor.fill_structure(company)
    visitor.submit_structure()
    visitor.expect_step("Mon espace")


def test_without_javascript_a_country_of_another_list_is_answered_and_kept(nojs_visitor):
    visitor = nojs_visitor
    page = visitor.page
    visitor.sign_up_quickly()
    page.goto(STRUCTURE_FORM_PATH)
    assert values(visitor.field("Pays")) == SIRET_COUNTRIES

    company = new_company()
    visitor.fill_structure(company)
    visitor.field("Type d'identifiant").select_option(label="Hors UE")  # no swap without JavaScript
    visitor.identifier.fill("AB1234")
    visitor.submit_structure()
    expect(visitor.error_for("Pays")).to_contain_text("hors de l'Union européenne")
    country = visitor.field("Pays")
    expect(country).to_have_value("FR")  # kept
    assert "US" in values(country) and "DE" not in values(country)
    expect(visitor.field("Raison sociale")).to_have_value(company.name)
    expect(visitor.field("Type d'identifiant")).to_have_value("hors_ue")


def test_without_javascript_the_update_button_brings_the_type_s_countries(nojs_visitor):
    """No failed « Soumettre » needed: the button next to the type keeps what
    was typed and comes back with the identifier and countries of the type."""
    page = nojs_visitor.page
    nojs_visitor.sign_up_quickly()
    page.goto(STRUCTURE_FORM_PATH)
    assert values(nojs_visitor.field("Pays")) == SIRET_COUNTRIES
    page.locator("#identifier_type").select_option("hors_ue")
    nojs_visitor.field("Raison sociale").fill("Curie International")
    nojs_visitor.button("Mettre à jour l'identifiant et la liste des pays pour ce type").click()
    # The new page is there once the identifier is relabelled; reading the
    # list before that can catch the old page while it is being unloaded.
    expect(page.locator("label[for=identifier]")).to_contain_text("Numéro d'identification hors UE")
    country = nojs_visitor.field("Pays")
    expect(country.locator("option[value=US]")).to_have_count(1)
    assert "US" in values(country) and "DE" not in values(country)
    expect(nojs_visitor.field("Raison sociale")).to_have_value("Curie International")
    expect(page.locator(".error-summary")).to_have_count(0)
