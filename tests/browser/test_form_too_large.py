"""A form past the size limit (64 KB), in a real browser: a long paste into
the new password (the one field without a maxlength: nothing is cut from a
pasted password). With JavaScript, the page stays with what was typed and
the notice (role="alert") shows above it; without JavaScript, the error
page, and Back finds the form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import pages

pytestmark = pytest.mark.browser

TOO_LARGE = "Les données envoyées sont trop volumineuses : raccourcissez votre saisie puis réessayez."


def test_a_paste_past_the_form_size_keeps_the_page_or_tells_why(any_visitor, console_allows):
    visitor, page = any_visitor, any_visitor.page
    console_allows += [r"status of 413", r"Response Status Error Code 413"]
    visitor.create_account()
    visitor.open_activation_link()
    visitor.expect_ready()
    pasted = "Velo-Rouge-" * 6_500  # 71,500 characters
    visitor.field("Nouveau mot de passe").fill(pasted)
    visitor.field("Confirmation du nouveau mot de passe").fill("Velo-Rouge-Matin-2048")
    visitor.button("Soumettre").click()
    if visitor.javascript:
        expect(page.locator("#flashes [role=alert]")).to_contain_text(TOO_LARGE)
        visitor.expect_step(pages.SET_PASSWORD)  # the page stays
        expect(visitor.field("Confirmation du nouveau mot de passe")).to_have_value("Velo-Rouge-Matin-2048")
        assert page.evaluate("() => !document.querySelector('[aria-busy], [data-sending]')")
    else:
        visitor.expect_step("Envoi trop volumineux")
        expect(visitor.main).to_contain_text(
            "Les données envoyées sont trop volumineuses. Revenez en arrière, raccourcissez votre saisie"
        )
        expect(visitor.main.get_by_role("link", name="Revenir au formulaire")).to_be_visible()
        page.go_back()
        visitor.expect_step(pages.SET_PASSWORD)
