"""The activation page shows the details a sign-up left (anyone may have
typed them, the victim's address included) so that the owner of the address
corrects them before « Soumettre », with JavaScript on and off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support.people import new_person
from tests.browser.support.visitor import Visitor

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_activation_page_shows_an_earlier_sign_ups_details_to_correct(javascript, request, inbox):
    page = request.getfixturevalue("page" if javascript else "nojs_page")
    visitor = Visitor(page, inbox, javascript=javascript)
    # Someone else signed the address up with their own names.
    person = new_person("victime", first_name="Mallory", last_name="Pirate")
    visitor.create_account(person)

    visitor.open_activation_link(person)
    expect(page.locator("main")).to_contain_text("Vérifiez-les et corrigez-les si besoin avant de soumettre")
    expect(visitor.field("Prénom")).to_have_value("Mallory")
    expect(visitor.field("Nom")).to_have_value("Pirate")
    expect(visitor.field("Téléphone")).to_have_value("01 23 45 67 89")
    expect(visitor.field("Adresse email de contact")).to_have_value(person.email)

    visitor.field("Prénom").fill("Alice")
    visitor.field("Nom").fill("Martin")
    visitor.field("Téléphone").fill("")
    visitor.set_password(person.password)
    visitor.expect_structure_step()

    page.goto("/mon-compte/")
    expect(visitor.field("Prénom")).to_have_value("Alice")
    expect(visitor.field("Nom")).to_have_value("Martin")
    expect(visitor.field("Téléphone")).to_have_value("")
