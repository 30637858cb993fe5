"""Handing over the gestionnaire principal role in a real browser, with
JavaScript on and again disabled: nobody is chosen until the manager
chooses, « Je confirme… » must be ticked, and the answer is the structure's
page again; under htmx that page keeps one history entry, so Back leaves it.
A second hand-over from a page opened before the first says what happened."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_page
from tests.browser.support.http import http_approve, http_create_structure, http_request_attachment
from tests.browser.support.pages import SPACE, SPACE_PATH
from tests.browser.support.people import new_company, new_person

pytestmark = pytest.mark.browser

CONFIRM = (
    "Je confirme transmettre le rôle de gestionnaire principal au membre choisi : "
    "je ne pourrai pas le reprendre moi-même."
)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_role_goes_to_the_member_chosen_once_confirmed(javascript, request, open_visitor):
    shots = request.getfixturevalue("shots") if javascript else None
    manager = open_visitor(javascript=javascript)
    manager.sign_up_quickly(new_person("gestionnaire", first_name="Irène", last_name="Joliot"))
    company = new_company("Radium")
    http_create_structure(manager.page.request, company)
    colleague = open_visitor(javascript=True)
    other = colleague.sign_up_quickly(new_person("collegue", first_name="Pierre", last_name="Martin"))
    http_request_attachment(colleague.page.request, company)
    http_approve(manager.page.request, other)
    page = manager.page

    page.goto(SPACE_PATH)
    manager.expect_step(SPACE)
    manager.row_of(company.name).get_by_role("link", name=company.name).click()
    manager.expect_step(company.name)
    structure_url = page.url
    entries = page.evaluate("history.length")
    member = manager.field("Nouveau gestionnaire principal")
    expect(member).to_have_value("")  # « Sélectionner un membre »
    check_page(page, shots, "transfert du role")

    # Chosen but not confirmed: refused next to the box, the choice kept.
    member.select_option(label=f"{other.full_name} ({other.email})")
    manager.button("Transférer le rôle").click()
    manager.expect_errors("Cochez la case pour confirmer le transfert du rôle.")
    expect(manager.error_for(CONFIRM)).to_contain_text("Cochez la case")
    expect(member).to_have_value(re.compile(r"^\d+$"))
    check_page(page, shots, "transfert du role non confirme")

    manager.field(CONFIRM).check()
    manager.button("Transférer le rôle").click()
    done = f"{other.full_name} est désormais gestionnaire principal de la structure."
    expect(page.locator(".notice--success")).to_contain_text(done)
    expect(manager.main).to_contain_text("Votre rôle : Utilisateur.")
    expect(manager.field("Nouveau gestionnaire principal")).to_have_count(0)
    check_page(page, shots, "role transfere")
    assert page.url == structure_url
    if javascript:
        # The same page again is no new step: Back goes to « Mon espace ».
        assert page.evaluate("history.length") == entries
        page.go_back()
        manager.expect_step(SPACE)
        manager.expect_path(SPACE_PATH)


def test_a_second_handover_from_a_page_opened_before_says_what_happened(open_visitor):
    """Two tabs on the structure's page, JavaScript on: the role goes to
    Pierre in the first; the second tab's form is answered in words, in
    place of the page, not by a generic error."""
    manager = open_visitor(javascript=True)
    manager.sign_up_quickly(new_person("gestionnaire", first_name="Irène", last_name="Joliot"))
    company = new_company("Polonium")
    http_create_structure(manager.page.request, company)
    people = []
    for first_name in ("Pierre", "Lucie"):
        colleague = open_visitor(javascript=True)
        people.append(
            colleague.sign_up_quickly(new_person("collegue", first_name=first_name, last_name="Martin"))
        )
        http_request_attachment(colleague.page.request, company)
        http_approve(manager.page.request, people[-1])
    page = manager.page
    page.goto(SPACE_PATH)
    manager.row_of(company.name).get_by_role("link", name=company.name).click()
    manager.expect_step(company.name)
    second_tab = page.context.new_page()
    second_tab.goto(page.url)

    manager.field("Nouveau gestionnaire principal").select_option(label=f"Pierre Martin ({people[0].email})")
    manager.field(CONFIRM).check()
    manager.button("Transférer le rôle").click()
    expect(page.locator(".notice--success")).to_contain_text(
        "Pierre Martin est désormais gestionnaire principal"
    )

    second_tab.get_by_label(re.compile("Nouveau gestionnaire principal")).select_option(
        label=f"Lucie Martin ({people[1].email})"
    )
    second_tab.get_by_label(re.compile("Je confirme transmettre")).check()
    second_tab.get_by_role("button", name="Transférer le rôle", exact=True).click()
    said = f"Vous n'êtes pas gestionnaire principal de la structure {company.name} : rien n'a été modifié."
    expect(second_tab.locator(".notice--error")).to_have_text(said)
    expect(second_tab.locator("main")).to_contain_text("Votre rôle : Utilisateur.")
    expect(second_tab.get_by_role("link", name="Retour à Mon espace")).to_be_visible()
    check_page(second_tab, None, "transfert perime")
