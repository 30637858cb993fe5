"""A search sent (a GET: its query is in the address) comes back over the
language switch as it was sent, in Chromium, with JavaScript and without:
the console's and the attachment's (tests/test_language_carry_search.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.factors import enrol_app
from tests.browser.support.people import new_person, new_siret

pytestmark = pytest.mark.browser


def test_a_search_sent_comes_back_over_the_switch_with_its_query(any_visitor, live_server):
    visitor, page = any_visitor, any_visitor.page
    operator = visitor.sign_up_quickly(new_person("chercheuse"))
    live_server.flask("operator", "grant", operator.email)
    enrol_app(visitor)

    page.goto("/administration/")
    visitor.field("Rechercher").first.fill(operator.email)
    visitor.button("Rechercher").first.click()
    visitor.expect_step("Comptes")
    expect(visitor.row_of(operator.email)).to_have_count(1)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/administration/comptes\?q="))
    expect(page.locator("#q")).to_have_value(operator.email)
    expect(visitor.row_of(operator.email)).to_have_count(1)

    siret = new_siret()
    page.goto(f"/structure/rattachement?identifier_type=siret&identifier={siret}")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(
        re.compile(rf"/structure/rattachement\?identifier_type=siret&identifier={siret}$")
    )
    expect(page.locator("#identifier_type")).to_have_value("siret")
    expect(page.locator("#identifier")).to_have_value(siret)
