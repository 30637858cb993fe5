"""Structures in English: the choice (step 5), the attachment search, step 6
and its errors (a country named in English), « Mon espace », a structure's
page and its edit, « Approbations », cancelling a request, the SIRENE
directory's notices; each as a full page and as an htmx fragment, with no
French left but what people typed. Country lists follow the language."""

from __future__ import annotations

import re

import pytest

from models import Structure, db
from rules.places import country_names
from sirene import load
from tests.support.app import Client, HtmxClient, query
from tests.support.i18n import ACCENTED, assert_english, speak
from tests.support.responses import error_of, is_fragment, text_of
from tests.support.signup import PERSON
from tests.support.sirene_files import (
    ESTABLISHMENT_HEADER,
    HAUSSMANN,
    LEGAL_UNIT_HEADER,
    establishment,
    legal_unit,
    write,
)
from tests.support.structures import (
    PIERRE,
    SIRET,
    SIRET_NORMALISED,
    STRUCTURE,
    create_structure,
    new_client,
    sign_up,
    structures,
)

# What people typed (names, the structure's name and address), INSEE's data,
# and the portal's name (a setting): not the portal's French.
TYPED = (
    PERSON["first_name"], PERSON["last_name"], PERSON["email"], PIERRE["first_name"], PIERRE["last_name"],
    PIERRE["email"], STRUCTURE["company_name"], STRUCTURE["label"], STRUCTURE["address"],
    STRUCTURE["address_2"], STRUCTURE["city"], STRUCTURE["email"], "Portail Structures",
    "CURIE ET FILLES", "ATELIER CURIE", "PARIS 9", "12 Boulevard HAUSSMANN",
)  # fmt: skip
# English country names that keep their accents (« Côte d'Ivoire », « Réunion »):
# proper names, not French left behind.
COUNTRIES = tuple(name for name in country_names("en").values() if ACCENTED.search(name))
CLOSED = "55203253400562"
SEARCH = "/structure/rattachement?identifier_type=siret&identifier="


def english(text: str) -> str:
    assert_english(text, data=TYPED + COUNTRIES)
    return text


def page(client, url: str, status: int = 200) -> str:
    """A GET, as a fragment under htmx and a full page without; all English."""
    response = client.get(url)
    assert response.status_code == status, text_of(response)
    assert is_fragment(response) == client.htmx
    return english(text_of(response))


def answered(client, response, status: int) -> str:
    """A failed submit: the same page with its errors, in English."""
    assert response.status_code == status, text_of(response)
    assert is_fragment(response) == client.htmx
    return english(text_of(response))


def after(client, response) -> str:
    """The page a success leads to (htmx fragment or the redirect's target), in English."""
    if client.htmx:
        assert response.status_code == 200, text_of(response)
        return english(text_of(response))
    assert response.status_code == 303, text_of(response)
    return page(client, response.headers["Location"])


@pytest.fixture
def marie(any_client, mailbox):
    """Marie, signed in on a full-page or htmx client, who chose English, no structure yet."""
    sign_up(any_client, mailbox)
    speak(any_client, "en")
    return any_client


CONFIRMED = "Your account is now active and you are attached to a structure."


@pytest.fixture
def manager(app, mailbox, marie):
    """Marie, who created « Ateliers Curie » (in English)."""
    assert create_structure(marie).status_code in (200, 303)
    return marie


@pytest.fixture
def pierre(app, mailbox, manager):
    """Pierre, on his own full-page browser, in English, who asked to join Marie's structure."""
    client = new_client(app, mailbox, PIERRE)
    speak(client, "en")
    response = client.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    )
    assert response.status_code == 303
    return client


def structure_id(app) -> int:
    [structure] = structures(app)
    return structure.id


# -- step 5 and the search ------------------------------------------------------------------


def test_the_choice_in_english(marie):
    text = page(marie, "/structure/")
    assert "Create a new structure" in text and "Your company is already on the portal" in text
    assert "Search for the structure" in text and ">EU outside France<" in text and ">Outside the EU<" in text


def test_the_search_and_its_error_in_english(marie):
    text = page(marie, "/structure/rattachement")
    assert "Ask to be attached" in text
    response = marie.get(SEARCH + "732829320000")
    text = answered(marie, response, 422)
    assert "The SIRET must have 14 digits." in error_of(response, "identifier")
    response = marie.get(SEARCH + SIRET.replace(" ", "+"))
    text = answered(marie, response, 422)
    assert "No structure is registered on the portal with this identifier" in error_of(response, "identifier")
    assert "Create a new structure" in text


def test_a_structure_found_in_english(app, mailbox, marie):
    other = new_client(app, mailbox, PIERRE)
    assert create_structure(other).status_code == 303
    text = page(marie, SEARCH + SIRET.replace(" ", "+"))
    assert "Structure found" in text and "Company name" in text and "Ask to be attached" in text
    assert "France" in text  # the country, named in English


def test_the_identifier_block_in_english(marie):
    response = marie.submit(
        "/structure/nouvelle/identifiant", {"identifier_type": "en_cours"}, headers={"HX-Request": "true"}
    )
    assert "No identifier to enter" in english(text_of(response))
    response = marie.submit(
        "/structure/nouvelle/identifiant?recherche=1",
        {"identifier_type": "ue"},
        headers={"HX-Request": "true"},
    )
    text = english(text_of(response))
    assert "EU VAT number" in text and "Starting with the country code" in text


# -- step 6 ----------------------------------------------------------------------------------


def test_the_structure_form_in_english(marie):
    text = page(marie, "/structure/nouvelle")
    assert "Enter the general information" in text and "Company name" in text and "Postal address" in text
    assert "INSEE's SIRENE directory is not loaded on this portal" in text
    assert '<option selected value="FR">France</option>' in text
    assert text.index(">France<") < text.index(">French Guiana<") < text.index(">Saint Pierre and Miquelon<")
    # A type that accepts any country offers them all, in English's order (no
    # raison sociale: the form comes back).
    any_country = {**STRUCTURE, "identifier_type": "en_cours", "company_name": ""}
    text = english(text_of(marie.submit("/structure/nouvelle", any_country)))
    assert '<option value="DE">Germany</option>' in text
    assert '<option selected value="FR">France</option>' in text
    assert (
        text.index(">France<")
        < text.index(">Afghanistan<")
        < text.index(">Germany<")
        < text.index(">Zimbabwe<")
    )


def test_a_failed_submit_gives_english_errors_naming_the_country_in_english(marie):
    response = marie.submit(
        "/structure/nouvelle",
        {
            **STRUCTURE,
            "identifier_type": "ue",
            "identifier": "DE136695976",
            "country": "BE",
            "postal_code": "1000",
            "phone": "",
        },
    )
    answered(marie, response, 422)
    assert (
        error_of(response, "country")
        .strip()
        .endswith("The VAT number starts with DE: choose the matching country (Germany).")
    )
    response = marie.submit(
        "/structure/nouvelle", {**STRUCTURE, "identifier": "73282932000075", "postal_code": "9700"}
    )
    answered(marie, response, 422)
    assert "wrong check digit" in error_of(response, "identifier")
    assert "The postcode must have 5 digits" in error_of(response, "postal_code")
    response = marie.submit(
        "/structure/nouvelle", {**STRUCTURE, "country": "GP", "postal_code": "75002", "phone": ""}
    )
    answered(marie, response, 422)
    assert "(Guadeloupe): it must start with 971." in error_of(response, "postal_code")


def test_the_country_list_follows_the_language(client, mailbox):
    sign_up(client, mailbox)
    # A type that takes any country; no raison sociale: the form comes back.
    every = {**STRUCTURE, "identifier_type": "en_cours", "company_name": ""}
    french = text_of(client.submit("/structure/nouvelle", every))
    assert '<option value="DE">Allemagne</option>' in french and ">Germany<" not in french
    assert '<option value="GF">Guyane française</option>' in text_of(client.get("/structure/nouvelle"))
    speak(client, "en")
    english_page = text_of(client.submit("/structure/nouvelle", every))
    assert '<option value="DE">Germany</option>' in english_page and ">Allemagne<" not in english_page
    assert '<option value="KR">South Korea</option>' in english_page
    english_page = text_of(client.get("/structure/nouvelle"))
    assert '<option value="GF">French Guiana</option>' in english_page and "Guyane" not in english_page
    speak(client, "fr")
    assert '<option value="DE">Allemagne</option>' in text_of(client.submit("/structure/nouvelle", every))
    assert '<option value="GF">Guyane française</option>' in text_of(client.get("/structure/nouvelle"))


def test_a_structure_already_there_is_offered_in_english(app, mailbox, marie):
    other = new_client(app, mailbox, PIERRE)
    assert create_structure(other).status_code == 303
    response = create_structure(marie)
    text = answered(marie, response, 422)
    assert "This structure already exists" in text and "Nothing was created" in text


def test_creating_a_structure_in_english(marie):
    text = after(marie, create_structure(marie))
    assert "Your account is now active and you are attached to a structure." in text
    assert "My space" in text


def test_an_assigned_identifier_is_announced_in_english(marie):
    response = create_structure(marie, identifier_type="en_cours", identifier="")
    text = after(marie, response)
    assert "Identifier given to the structure: EC" in text


# -- « Mon espace », the structure, its edit ------------------------------------------------


def test_my_space_in_english(manager):
    text = page(manager, "/espace/")
    assert "My structures" in text and "Main manager" in text
    if CONFIRMED in text:  # the full-page browser sees step 6's confirmation here, said once
        assert text.count("you are attached to") == 1
        text = page(manager, "/espace/")
    assert "Your account is active and you are attached to 1 structure." in text
    assert "No attachment requests pending." in text


def test_the_structure_page_in_english(app, manager):
    text = page(manager, f"/structure/{structure_id(app)}/")
    assert "Your role: Main manager." in text and "Members" in text and "Postal address" in text
    assert "No other active member can take on this role" in text


def test_the_edit_page_and_its_errors_in_english(app, manager):
    url = f"/structure/{structure_id(app)}/modifier"
    text = page(manager, url)
    assert "Edit the structure" in text and "(the identifier cannot be changed)" in text
    response = manager.submit(url, {**STRUCTURE, "country": "BE", "postal_code": "1000", "phone": ""})
    answered(manager, response, 422)
    assert "A structure identified by a SIRET must be in France" in error_of(response, "country")
    text = after(manager, manager.submit(url, {**STRUCTURE, "label": "Atelier"}))
    assert "The structure's information has been updated." in text


def test_a_disabled_structure_refuses_its_edit_in_english(app, manager):
    query(app, lambda: Structure.update(status=Structure.DISABLED).execute())
    text = page(manager, f"/structure/{structure_id(app)}/")
    assert "Its information cannot be changed while it is not active." in text and "/modifier" not in text
    text = after(manager, manager.get(f"/structure/{structure_id(app)}/modifier"))
    assert "This structure is disabled: its information cannot be changed." in text


def test_an_assigned_structure_takes_its_siret_in_english(app, marie):
    create_structure(
        marie, identifier_type="en_cours", identifier="", country="BE", postal_code="1000", phone=""
    )
    url = f"/structure/{structure_id(app)}/modifier"
    text = page(marie, url)
    assert "Enter the SIRET" in text and "SIRET number" in text
    response = marie.submit(f"/structure/{structure_id(app)}/siret", {"identifier": SIRET})
    answered(marie, response, 422)
    assert (
        error_of(response, "identifier")
        .strip()
        .endswith("If the structure is in France, change its country first.")
    )


# -- requests: « Approbations », cancelling ---------------------------------------------------


def test_approvals_in_english(app, manager, pierre):
    text = page(manager, "/approbations/")
    assert "Approvals" in text and "Date of request" in text
    assert 'Approve<span class="visually-hidden"> the request from Pierre Durand</span>' in text
    [request] = re.findall(r'action="(/approbations/\d+/approuver)"', text)
    text = after(manager, manager.submit(request))
    assert "Pierre Durand is now attached to the structure Ateliers Curie." in text
    text = page(pierre, "/espace/")
    assert "Your account is active and you are attached to 1 structure." in text


def test_the_handover_and_its_errors_in_english(app, manager, pierre):
    [request] = re.findall(r'action="(/approbations/\d+/approuver)"', text_of(manager.get("/approbations/")))
    manager.submit(request)
    url = f"/structure/{structure_id(app)}/"
    text = page(manager, url)
    assert "Hand over the main manager role" in text
    assert '<option selected value="">Select a member</option>' in text
    response = manager.submit(f"{url}gestionnaire", {"member": ""})
    answered(manager, response, 422)
    assert error_of(response, "member").endswith("Choose a member of the structure.")
    member = re.search(r'<option value="(\d+)">Pierre Durand', text).group(1)
    response = manager.submit(f"{url}gestionnaire", {"member": member})
    answered(manager, response, 422)
    assert error_of(response, "confirm").endswith("Tick the box to confirm the handover of the role.")
    text = after(manager, manager.submit(f"{url}gestionnaire", {"member": member, "confirm": "y"}))
    assert "Pierre Durand is now the main manager of the structure. You remain one of its users." in text
    # The same form sent again (another tab): said in English, nothing changed.
    text = after(manager, manager.submit(f"{url}gestionnaire", {"member": member, "confirm": "y"}))
    said = "You are not the main manager of the structure Ateliers Curie: nothing has been changed."
    assert said in text


def test_a_refusal_in_english(app, manager, pierre):
    text = page(manager, "/espace/")
    assert "1 attachment request awaiting your decision." in text
    [request] = re.findall(r'action="(/approbations/\d+/refuser)"', text_of(manager.get("/approbations/")))
    text = after(manager, manager.submit(request))
    assert "The request from Pierre Durand has been refused." in text
    response = manager.submit(request)
    if manager.htmx:
        assert response.status_code == 409
        text = english(text_of(response))
    else:
        text = page(manager, response.headers["Location"])
    assert "This request has already been dealt with or cancelled." in text
    text = page(pierre, "/espace/")  # the requester sees the refusal in « Mon espace »
    assert re.search(r"Refused on \S+", text) and "Ask again" in text
    assert "A refused or cancelled request stays here for 30 days." in text


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_request_and_its_cancellation_in_english(app, mailbox, manager, htmx):
    app.test_client_class = HtmxClient if htmx else Client
    client = sign_up(app.test_client(), mailbox, PIERRE)
    speak(client, "en")
    text = page(client, "/structure/")
    assert "Create a new structure" in text
    text = page(client, SEARCH + SIRET.replace(" ", "+"))
    assert "Structure found" in text
    response = client.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    )
    text = after(client, response)
    assert (
        "Your attachment request has been sent to the main manager of the structure Ateliers Curie." in text
    )
    text = page(client, "/espace/")
    assert "My attachment requests" in text and "Pending" in text
    assert 'Cancel the request<span class="visually-hidden"> to be attached to Ateliers Curie</span>' in text
    text = page(client, SEARCH + SIRET.replace(" ", "+"))
    assert "Your request to be attached to this structure has been pending since" in text
    text = page(client, "/structure/")
    assert "You have one pending attachment request." in text
    [cancel] = re.findall(r'action="(/espace/demandes/\d+/annuler)"', text_of(client.get("/espace/")))
    text = after(client, client.submit(cancel))
    assert "Your attachment request has been cancelled." in text


# -- the SIRENE directory ---------------------------------------------------------------------


@pytest.fixture
def directory(app, tmp_path):
    sites = [
        establishment(SIRET_NORMALISED, **HAUSSMANN, enseigne1Etablissement="ATELIER CURIE"),
        establishment(CLOSED, etatAdministratifEtablissement="F", **HAUSSMANN),
    ]
    units = [legal_unit(SIRET_NORMALISED[:9], denominationUniteLegale="CURIE ET FILLES")]
    paths = [
        write(tmp_path / "sites.csv", ESTABLISHMENT_HEADER, sites),
        write(tmp_path / "units.csv", LEGAL_UNIT_HEADER, units),
    ]
    with app.app_context(), db.connection_context():
        load.import_files(paths)


def test_the_directory_speaks_english(app, directory, marie):
    response = marie.submit(
        "/structure/nouvelle/sirene",
        {"identifier_type": "siret", "identifier": SIRET_NORMALISED, "country": "FR"},
        headers={"HX-Request": "true", "HX-Trigger": "identifier"},
    )
    text = english(text_of(response))
    assert "Establishment found in INSEE's SIRENE directory: CURIE ET FILLES, 75009 PARIS 9." in text
    response = marie.submit("/structure/nouvelle", {**STRUCTURE, "identifier": CLOSED})
    answered(marie, response, 422)
    assert "This establishment is closed according to INSEE." in error_of(response, "identifier")
    response = create_structure(marie)  # the first « Submit » fills the form from the directory
    english(text_of(response))
    text = after(
        marie, create_structure(marie, company_name="CURIE ET FILLES", sirene_siret=SIRET_NORMALISED)
    )
    assert "Your account is now active" in text
    text = page(marie, f"/structure/{structure_id(app)}/")
    assert "Checked in INSEE's SIRENE directory imported on" in text
