"""axe-core finds no WCAG 2.1 A/AA violation on the structure pages nor in
their error states, with JavaScript on and with JavaScript disabled: the
structure form, the search and the attachment request, « Mon espace »,
« Approbations » before and after a decision, a structure's page and its edit,
the 403 page. Each state is also photographed at desktop and phone width.

The structure's manager is the worker's shared owner (``open_owner``); the
one who asks to be attached is a new account of each test."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_page
from tests.browser.support.keyboard import expect_focus
from tests.browser.support.pages import (
    APPROVALS_PATH,
    CREATED,
    EXISTS,
    SPACE,
    SPACE_PATH,
    STRUCTURE_CHOICE,
    STRUCTURE_FORM,
    STRUCTURE_PATH,
)
from tests.browser.support.people import new_company, new_person, new_siret

pytestmark = pytest.mark.browser

SEARCH = "Demander un rattachement"


def test_structure_form_detail_and_edit(any_owner, request):
    """The form of a new structure and each of its errors, then the page of
    the structure created and its edit, errors included."""
    owner, page = any_owner, any_owner.page
    shots = request.getfixturevalue("shots") if owner.javascript else None

    page.goto(SPACE_PATH)
    owner.expect_step(SPACE)
    owner.expect_current_nav(SPACE)
    expect(owner.row_of(owner.company.name)).to_contain_text("Gestionnaire principal")
    check_page(page, shots, "mon espace gestionnaire")

    owner.link(STRUCTURE_CHOICE).click()
    owner.expect_step(STRUCTURE_FORM)
    owner.expect_current_nav(None)
    check_page(page, shots, "nouvelle structure")
    owner.submit_structure()
    owner.expect_errors(*(f"{label} : Ce champ est obligatoire." for label in ("Raison sociale", "Ville")))
    check_page(page, shots, "nouvelle structure vide")

    # The identifier's label and hint follow its type: at once with
    # JavaScript, in the answer to the form without it.
    owner.field("Type d'identifiant").select_option(label="UE hors France")
    if not owner.javascript:
        owner.submit_structure()
    expect(owner.field("Numéro de TVA intracommunautaire")).to_be_visible()
    expect(page.locator("#identifier-hint")).to_contain_text("DE136695976")
    check_page(page, shots, "type ue hors france")
    owner.field("Type d'identifiant").select_option(label="SIRET")
    if owner.javascript:
        expect(owner.field("Identifiant Siret")).to_be_visible()

    company = new_company("Filiale")
    owner.fill_structure(company)
    owner.identifier.fill("732 829 320 00075")  # its key is wrong
    owner.submit_structure()
    expect(owner.error_for("Identifiant Siret")).to_contain_text("clé de contrôle")
    expect(owner.field("Raison sociale")).to_have_value(company.name)
    check_page(page, shots, "siret faux")

    owner.identifier.fill(company.siret)
    owner.field("Code postal").fill("7500")
    owner.submit_structure()
    expect(owner.error_for("Code postal")).to_contain_text("5 chiffres")
    check_page(page, shots, "code postal faux")

    owner.identifier.fill(owner.company.siret)  # its own structure
    owner.field("Code postal").fill(company.postal_code)
    owner.submit_structure()
    expect(page.get_by_role("region", name=EXISTS)).to_be_visible()
    expect(owner.error_for("Identifiant Siret")).to_contain_text(EXISTS)
    check_page(page, shots, "structure existante")

    # « En cours d'immatriculation »: the portal numbers the structure.
    owner.field("Type d'identifiant").select_option(label="En cours d'immatriculation")
    if owner.javascript:
        expect(page.locator("#identifier-assigned")).to_contain_text("Pas d'identifiant à saisir")
    owner.submit_structure()
    owner.expect_step(SPACE)
    expect(owner.main).to_contain_text(CREATED)
    expect(owner.main).to_contain_text(re.compile(r"Identifiant attribué à la structure : EC\d{10}\."))
    check_page(page, shots, "structure en cours creee")

    # Its page, then its edit.
    owner.row_of(company.name).get_by_role("link", name=company.name).click()
    expect(owner.heading).to_have_text(company.name)
    expect(owner.row_of(owner.person.email)).to_contain_text("Gestionnaire principal")
    check_page(page, shots, "structure")
    owner.link("Modifier les informations").click()
    owner.expect_step("Modifier la structure")
    check_page(page, shots, "modifier la structure")
    owner.field("Raison sociale").fill("")
    owner.field("Code postal").fill("ABC")
    owner.field("Téléphone").fill("12")
    owner.button("Soumettre").click()
    owner.expect_errors("Raison sociale", "Téléphone", "Code postal")
    expect(owner.field("Code postal")).to_have_value("ABC")
    check_page(page, shots, "modifier la structure erreurs")
    owner.field("Raison sociale").fill(company.name)
    owner.field("Code postal").fill(company.postal_code)
    owner.field("Téléphone").fill("01 23 45 67 89")
    owner.button("Soumettre").click()
    expect(owner.heading).to_have_text(company.name)
    expect(page.locator(".notice--success")).to_contain_text("mises à jour")
    check_page(page, shots, "structure modifiee")

    # Once registered, the structure receives its SIRET.
    owner.link("Modifier les informations").click()
    owner.field("Identifiant Siret").fill("1234")
    owner.button("Enregistrer le SIRET").click()
    owner.expect_errors("14 chiffres")
    check_page(page, shots, "siret a renseigner faux")
    siret = new_siret()
    owner.field("Identifiant Siret").fill(siret)
    owner.button("Enregistrer le SIRET").click()
    expect(owner.heading).to_have_text(company.name)
    expect(page.locator(".notice--success")).to_contain_text(siret)
    check_page(page, shots, "siret renseigne")


def test_attachment_search_request_and_refusal(any_visitor, open_owner, inbox, request, console_allows):
    """Someone finds the structure and asks to be attached; « Approbations »
    is refused to them (403); its manager refuses the request."""
    requester, page = any_visitor, any_visitor.page
    shots = request.getfixturevalue("shots") if requester.javascript else None
    console_allows.append(r"status of 403 \(FORBIDDEN\)")
    person = requester.sign_up_quickly(new_person("paul", first_name="Paul", last_name="Langevin"))
    owner = open_owner(javascript=requester.javascript)

    page.goto(APPROVALS_PATH)  # not a manager of any structure
    expect(requester.heading).to_have_text("Accès refusé")
    check_page(page, shots, "acces refuse")

    page.goto(STRUCTURE_PATH)
    requester.expect_structure_step()
    check_page(page, shots, "structure")
    requester.button("Rechercher la structure").click()  # nothing typed
    requester.expect_step(SEARCH)
    requester.expect_errors("Identifiant Siret")
    check_page(page, shots, "recherche vide")
    requester.field("Identifiant Siret").fill(new_siret())
    requester.button("Rechercher la structure").click()
    expect(requester.error_for("Identifiant Siret")).to_contain_text("Aucune structure")
    check_page(page, shots, "recherche sans resultat")
    requester.field("Identifiant Siret").fill(owner.company.siret)
    requester.button("Rechercher la structure").click()
    found = page.get_by_role("region", name="Structure trouvée")
    expect(found).to_contain_text(owner.company.name)
    requester.expect_path("/structure/rattachement")
    check_page(page, shots, "structure trouvee")
    found.get_by_role("button", name="Demander le rattachement").click()
    requester.expect_step(SPACE)
    expect(requester.row_of(owner.company.name)).to_contain_text("En attente")
    check_page(page, shots, "demande en attente")
    page.goto(STRUCTURE_PATH)
    expect(requester.main).to_contain_text("Vous avez une demande de rattachement en attente")
    check_page(page, shots, "structure avec une demande en attente")

    owner.page.goto(APPROVALS_PATH)
    request_row = owner.row_of(person.email)
    expect(request_row).to_contain_text(person.full_name)
    check_page(owner.page, shots, "approbations demande en attente")
    request_row.get_by_role("button", name=f"Refuser la demande de {person.full_name}").click()
    refused = f"La demande de {person.full_name} est refusée."
    if owner.javascript:
        expect(request_row).to_contain_text("Refusée le")
        expect(owner.page.locator(".notice--flash")).to_have_text([refused])
        expect_focus(owner.page, re.compile(r"^Refusée le "), tag="td")
        owner.expect_announced(refused)
    else:
        expect(owner.page.locator(".notice--success")).to_have_text(refused)
        expect(request_row).to_have_count(0)
    check_page(owner.page, shots, "approbations demande refusee")

    inbox.wait_for(person.email, "Votre demande de rattachement est refusée")
    page.goto(SPACE_PATH)
    expect(requester.main).to_contain_text("n'est rattaché à aucune structure")
    expect(requester.main).to_contain_text("Aucune demande en attente.")
    expect(requester.row_of(owner.company.name)).to_contain_text("Refusée le")  # the decision stays in view
    check_page(page, shots, "demande refusee")
