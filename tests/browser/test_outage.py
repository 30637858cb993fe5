"""The database unavailable while a person sends a form without JavaScript:
the 503 page keeps what was typed and sends it again once the database is
back. The outage is SQLite's write lock held past busy_timeout by another
connection, as a backup or a SIRENE import holds it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_page
from tests.browser.support.pages import CAPTCHA, PERSONAL_INFO
from tests.browser.support.people import new_person
from tests.support.sqlite_lock import write_lock

pytestmark = pytest.mark.browser


def test_a_step_sent_during_an_outage_is_sent_again_from_the_503_page(
    nojs_outage_visitor, outage_server, console_allows, shots
):
    visitor, page = nojs_outage_visitor, nojs_outage_visitor.page
    console_allows.append(r"status of 503")
    person = new_person("panne")
    page.goto("/inscription/")
    visitor.expect_step(PERSONAL_INFO)
    visitor.fill_personal_info(person)
    with write_lock(outage_server.env["FLASK_DATABASE_URL"]):
        with page.expect_navigation():
            visitor.submit_personal_info()
        visitor.expect_step("Service indisponible")
        expect(visitor.main).to_contain_text("Ce que vous avez saisi est gardé sur cette page")
        check_page(page, shots, "panne renvoyer")
    with page.expect_navigation():
        visitor.button("Renvoyer le formulaire").click()
    visitor.expect_step(CAPTCHA)  # step 2 taken as typed: the captcha comes next
