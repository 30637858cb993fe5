"""A form whose session went away while the page stayed open (the browser
dropped its cookies, a sign-in in another tab renewed the token), sent
without JavaScript, in Chromium: the page comes back with what was typed
and says so; sent again, it goes on. Chromium itself says the form came
from the portal's page (``Sec-Fetch-Site``)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support.pages import CAPTCHA, PERSONAL_INFO
from tests.browser.support.people import new_person

pytestmark = pytest.mark.browser

KEPT = "Cette page n'était plus à jour et le formulaire n'a pas été pris en compte."


def test_step_1_sent_after_its_session_went_away_comes_back_filled(nojs_visitor):
    visitor = nojs_visitor
    person = new_person("stale")
    visitor.start_signup()
    visitor.fill_personal_info(person)
    visitor.page.context.clear_cookies()  # the session, and with it the page's token, are gone

    visitor.submit_personal_info()
    visitor.expect_step(PERSONAL_INFO)
    expect(visitor.page.locator("#flashes")).to_contain_text(KEPT)
    expect(visitor.field("Prénom")).to_have_value(person.first_name)
    expect(visitor.field("Nom")).to_have_value(person.last_name)
    expect(visitor.field("Confirmez votre adresse e-mail")).to_have_value(person.email)

    visitor.field("J'accepte les conditions").check()
    visitor.submit_personal_info()
    visitor.expect_step(CAPTCHA)
