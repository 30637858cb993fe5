"""The journey in English, in a browser whose language is English, with
JavaScript on and off: « Create an account » to « … you are attached to a
structure », every page checked with axe (and photographed), the mails in
English, no French on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rules.places import country_names
from tests.browser.support.checks import check_page
from tests.browser.support.mail import Inbox
from tests.browser.support.people import new_company, new_person
from tests.browser.support.visitor import Visitor
from tests.support.i18n import french_in

pytestmark = pytest.mark.browser


# Not the portal's words: countries' names written with accents (Réunion)
# and the address given as an example of a French one.
NAMES = (*country_names("en").values(), "12 rue de la Paix")


def english_step(visitor: Visitor, heading: str, shots, name: str, typed: tuple[str, ...] = ()) -> None:
    visitor.expect_step(heading)
    expect(visitor.page.locator("html")).to_have_attribute("lang", "en")
    assert not french_in(visitor.page.content(), typed + NAMES), name
    check_page(visitor.page, shots, name)


def test_complete_journey_in_english(english_page, request, inbox, shots):
    javascript = request.node.callspec.params["english_page"] == "js"
    shots = shots if javascript else None
    visitor = Visitor(english_page, inbox, javascript=javascript)
    person = visitor.person = new_person(first_name="Grace", last_name="Hopper")
    typed = (person.first_name, person.last_name, person.email, person.full_name)
    page = english_page

    page.goto("/")
    english_step(visitor, "Create an account and a structure in a few clicks", shots, "home")
    visitor.link("Create an account").click()
    english_step(visitor, "Personal information", shots, "personal information")

    visitor.button("Continue").click()  # nothing typed: the errors, in English
    visitor.expect_errors("This field is required.")
    english_step(visitor, "Personal information", shots, "personal information errors")

    visitor.field("Email address").fill(person.email)
    visitor.field("Confirm your email address").fill(person.email)
    visitor.field("First name").fill(person.first_name)
    visitor.field("Last name").fill(person.last_name)
    visitor.field("Phone").fill(person.phone)
    visitor.field("I accept the terms").check()
    visitor.button("Continue").click()
    english_step(visitor, "Complete the captcha", shots, "captcha", typed)
    expect(page.get_by_role("img", name=re.compile("^Image showing the characters"))).to_be_visible()

    visitor.field("Type the characters").fill("K7MX3P")
    visitor.button("Submit the captcha").click()
    english_step(visitor, "Check your inbox", shots, "mail sent", typed)

    mail = inbox.wait_for(person.email, "Activate your account")
    assert not french_in(f"<p>{Inbox.text(mail)}</p>", typed + (Inbox.link_in(mail),))
    page.goto(Inbox.link_in(mail))
    english_step(visitor, "Set your password", shots, "password", typed)
    visitor.field("New password").fill(person.password)
    visitor.field("Confirm the new password").fill(person.password)
    visitor.button("Submit").click()
    visitor.expect_path("/structure/")
    expect(page.locator("main .stepper")).to_contain_text("Step 5 of 6")
    english_step(visitor, page.locator("main h1").inner_text(), shots, "structure step", typed)

    company = new_company()
    visitor.link("Create a new structure").click()
    english_step(visitor, "Enter the general information", shots, "general information", typed)
    visitor.identifier.fill(company.siret)
    visitor.field("Company name").fill(company.name)
    visitor.field("Address").fill(company.address)
    visitor.field("City").fill(company.city)
    visitor.field("Postcode").fill(company.postal_code)
    visitor.button("Submit").click()
    visitor.expect_step("My space")
    expect(visitor.main).to_contain_text("Your account is now active and you are attached to a structure.")
    typed += (company.name, company.address, company.city)
    english_step(visitor, "My space", shots, "attached", typed)
    created = inbox.wait_for(person.email, "Your structure has been created")
    assert company.name in Inbox.text(created)
