"""Past a rate limit, in a real browser: with JavaScript, the form sent in
place stays with what was typed and the notice (role="alert") shows above
it; without JavaScript, the form comes back with what was typed (never the
password) and the notice above it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import pages

pytestmark = pytest.mark.browser

WAIT = "Vous avez fait trop de demandes en peu de temps. Patientez"


def test_past_the_sign_in_limit_the_form_keeps_what_was_typed(any_limited_visitor, console_allows):
    visitor, page = any_limited_visitor, any_limited_visitor.page
    console_allows += [r"status of 429", r"Response Status Error Code 429"]
    email = "quelqu.un@exemple.fr"
    page.goto(pages.SIGN_IN_PATH)
    for _ in range(2):  # the limit's two attempts, each refused next to its field
        visitor.field("Adresse e-mail").fill(email)
        visitor.field("Mot de passe").fill("Pas-le-bon-1234")
        visitor.send(pages.SIGN_IN)  # the first one's error summary is still shown meanwhile
        expect(visitor.error_summary).to_be_visible()
    visitor.field("Adresse e-mail").fill(email)
    visitor.field("Mot de passe").fill("Pas-le-bon-1234")
    visitor.button(pages.SIGN_IN).click()
    if visitor.javascript:
        notice = page.locator("#flashes [role=alert]")
        expect(notice).to_contain_text(WAIT)
        visitor.expect_step(pages.SIGN_IN)  # the page stays
        expect(visitor.field("Adresse e-mail")).to_have_value(email)
        assert page.evaluate("() => !document.querySelector('[aria-busy], [data-sending]')")
    else:  # back to the form, the notice above it, the address typed again but not the password
        visitor.expect_step(pages.SIGN_IN)
        expect(page.locator("#flashes")).to_contain_text(WAIT)
        expect(visitor.field("Adresse e-mail")).to_have_value(email)
        expect(visitor.field("Mot de passe")).to_have_value("")
