"""A form sent after its session ended elsewhere (« Se déconnecter
partout » in another browser), in Chromium, with JavaScript and without:
« Se connecter », then the page it was sent from, filled as it was sent.
Without JavaScript, switching the sign-in page to English on the way loses
nothing either."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support.pages import ACCOUNT, ACCOUNT_PATH, SIGN_IN
from tests.browser.support.people import new_person

pytestmark = pytest.mark.browser

KEPT = "ce que vous avez saisi vous attend sur la page."


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_form_sent_after_its_session_ended_comes_back_filled_once_signed_in(javascript, open_visitor):
    here = open_visitor(javascript=javascript)
    person = here.sign_up_quickly(new_person("jeanne"))
    here.page.goto(ACCOUNT_PATH)
    here.expect_step(ACCOUNT)

    elsewhere = open_visitor(javascript=True)
    elsewhere.page.goto("/")
    elsewhere.sign_in(person)
    elsewhere.expect_signed_in(person)
    elsewhere.page.goto(ACCOUNT_PATH)
    elsewhere.button("Se déconnecter partout").click()
    elsewhere.expect_signed_out()

    here.field("Prénom").fill("Jeanne-Marie")
    if not javascript or here.page.url.endswith(ACCOUNT_PATH):  # the autosave may have left already
        here.button("Enregistrer mes informations").click()
    here.expect_step(SIGN_IN)
    expect(here.page.locator("#flashes")).to_contain_text(KEPT)

    email, password, sign_in = "Adresse e-mail", "Mot de passe", "Se connecter"
    if not javascript:
        here.field(email).fill(person.email)
        here.button("English").click()
        here.expect_step("Sign in")
        expect(here.field("Email address")).to_have_value(person.email)
        email, password, sign_in = "Email address", "Password", "Sign in"
    here.field(email).fill(person.email)
    here.field(password).fill(person.password)
    here.button(sign_in).click()
    here.expect_step(ACCOUNT if javascript else "My account")
    expect(here.field("Prénom" if javascript else "First name")).to_have_value("Jeanne-Marie")
