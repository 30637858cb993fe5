"""axe-core finds no WCAG 2.1 A/AA violation in « Administration » (its
pages, actions and error states), on the account holder's rights pages and
on the operator's texts, with JavaScript on and disabled; the console is a
404 for anyone who is not an operator."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_page
from tests.browser.support.factors import enrol_app
from tests.browser.support.mail import UNKNOWN_LOCAL_PART
from tests.browser.support.people import new_person

pytestmark = pytest.mark.browser


def test_console_pages_actions_and_error_states(
    any_visitor, open_visitor, live_server, owner_account, request
):
    """The actions act on an account of the test's own (the shared owner's
    sessions must live on); the shared structure is only looked at."""
    visitor, page = any_visitor, any_visitor.page
    shots = request.getfixturevalue("shots") if visitor.javascript else None
    operator = visitor.sign_up_quickly(new_person("operateur"))
    live_server.flask("operator", "grant", operator.email)
    enrol_app(visitor)  # operators reach « Administration » with a second factor only
    target = open_visitor(javascript=False).sign_up_quickly(new_person("cible", first_name="Irène"))
    company = owner_account.company

    page.goto("/administration/")
    visitor.expect_step("Administration")
    check_page(page, shots, "administration")

    visitor.field("Rechercher").first.fill(target.email)
    visitor.button("Rechercher").first.click()
    visitor.expect_step("Comptes")
    check_page(page, shots, "administration comptes")
    visitor.link(target.full_name).click()
    visitor.expect_step(target.full_name)
    expect(visitor.main).to_contain_text(target.email)
    check_page(page, shots, "administration compte")
    visitor.button("Fermer toutes les sessions").click()
    expect(page.locator("main .notice").first).to_contain_text("Toutes les sessions du compte sont fermées.")
    check_page(page, shots, "administration compte sessions fermees")

    page.goto("/administration/structures")
    visitor.field("Rechercher").fill(company.name)
    visitor.button("Rechercher").click()
    visitor.link(company.name).click()
    visitor.expect_step(company.name)
    check_page(page, shots, "administration structure")
    expect(visitor.main).to_contain_text("Aucun autre membre actif ne peut recevoir ce rôle.")
    visitor.link("Corriger les informations").click()
    visitor.expect_step(f"Corriger la structure {company.name}")
    visitor.field("Raison sociale").fill("")
    visitor.button("Soumettre").click()
    visitor.expect_errors("Raison sociale : Ce champ est obligatoire.")
    check_page(page, shots, "administration structure erreurs")

    # A sign-up to a mailbox that does not exist: its activation mail is given up.
    open_visitor(javascript=False).create_account(new_person(UNKNOWN_LOCAL_PART))
    for _ in range(100):  # delivered (refused) within seconds, after the sign-up's commit
        page.goto("/administration/courriels")
        if page.locator("h2", has_text=re.compile(r"Abandonnés \([1-9]")).count():
            break
        page.wait_for_timeout(100)
    visitor.expect_step("Courriels")
    given_up = page.locator("h2", has_text="Abandonnés").locator("xpath=following-sibling::table[1]")
    expect(given_up).to_contain_text("SMTPRecipientsRefused: 550 5.1.1 User unknown")
    expect(given_up.get_by_role("button", name=re.compile("^Réessayer"))).not_to_have_count(0)
    check_page(page, shots, "administration courriels")
    page.goto("/administration/journal")
    visitor.expect_step("Journal")
    visitor.field("Depuis le (AAAA-MM-JJ)").fill("hier")
    visitor.button("Filtrer").click()
    visitor.expect_errors("Date attendue au format AAAA-MM-JJ")
    expect(visitor.field("Depuis le (AAAA-MM-JJ)")).to_have_value("hier")
    check_page(page, shots, "administration journal erreur")


def test_the_console_is_not_found_for_an_ordinary_account(open_owner, console_allows):
    console_allows.append(r"status of 404")
    owner = open_owner(javascript=True)
    owner.page.goto("/administration/")
    owner.expect_step("Page introuvable")


def test_rights_pages_and_operator_texts(any_visitor, request):
    visitor, page = any_visitor, any_visitor.page
    shots = request.getfixturevalue("shots") if visitor.javascript else None
    person = visitor.sign_up_quickly(new_person("droits"))

    page.goto("/mon-compte/")
    visitor.link("Consulter mes données").click()
    visitor.expect_step("Mes données")
    expect(visitor.main).to_contain_text(person.email)
    check_page(page, shots, "mes donnees")

    page.goto("/mon-compte/")
    visitor.link("Supprimer mon compte").click()
    visitor.expect_step("Supprimer mon compte")
    check_page(page, shots, "supprimer mon compte")
    visitor.field("Mot de passe").fill("pas le bon mot de passe")
    visitor.button("Supprimer mon compte").click()
    expect(visitor.error_for("Mot de passe")).to_contain_text("incorrect")
    check_page(page, shots, "supprimer mon compte mot de passe faux")
    visitor.field("Mot de passe").fill(person.password)
    visitor.button("Supprimer mon compte").click()
    expect(page.locator("main .notice").first).to_contain_text("Votre compte est supprimé")
    visitor.expect_signed_out()
    check_page(page, shots, "compte supprime")

    for path, title in (
        ("/conditions", "Conditions d'utilisation"),
        ("/mentions-legales", "Mentions légales et données personnelles"),
    ):
        page.goto(path)
        visitor.expect_step(title)
        check_page(page, shots, title)
