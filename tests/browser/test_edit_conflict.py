"""Two tabs of one structure's edit, and of « Mon compte »'s personal
information, in a real browser, with JavaScript on and again disabled: the
tab sent last does not write over what the other saved unseen. A field both
changed refuses it once, the person's value kept and the stored one named
under it; a field only the other tab changed takes its value, named too;
sent again, it is saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_page
from tests.browser.support.http import http_create_structure
from tests.browser.support.pages import ACCOUNT, ACCOUNT_PATH, SPACE, SPACE_PATH
from tests.browser.support.people import new_company, new_person
from tests.browser.support.visitor import Visitor

pytestmark = pytest.mark.browser

SAVED = "Les informations de la structure ont été mises à jour."
CHANGED = "Ces informations ont été modifiées pendant que vous les modifiiez."


def open_edit(tab, company) -> str:
    tab.page.goto(SPACE_PATH)
    tab.expect_step(SPACE)
    tab.row_of(company.name).get_by_role("link", name=company.name).click()
    tab.expect_step(company.name)
    tab.link("Modifier les informations").click()
    tab.expect_step("Modifier la structure")
    return tab.page.url


def two_tabs(open_visitor, javascript: bool, person, open_first, heading: str):
    """``person``, signed up, with the page ``open_first(tab)`` opens (and
    returns the address of) open in two pages of one browser (one session):
    (earlier, later)."""
    earlier = open_visitor(javascript=javascript)
    earlier.sign_up_quickly(person)
    url = open_first(earlier)
    later = Visitor(earlier.page.context.new_page(), earlier.inbox, javascript=javascript)
    later.page.goto(url)
    later.expect_step(heading)
    return earlier, later


def two_edit_tabs(open_visitor, javascript: bool, person, company):
    """A new manager of ``company``, with its edit open in two tabs. Each
    test has its own manager: an account creates 3 structures a day at most."""

    def open_first(tab) -> str:
        http_create_structure(tab.page.request, company)
        return open_edit(tab, company)

    return two_tabs(open_visitor, javascript, person, open_first, "Modifier la structure")


def open_account(tab) -> str:
    tab.page.goto(ACCOUNT_PATH)
    tab.expect_step(ACCOUNT)
    return tab.page.url


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_tab_sent_last_names_what_the_other_saved_then_saves_when_sent_again(
    javascript, request, open_visitor
):
    shots = request.getfixturevalue("shots") if javascript else None
    person = new_person("gestionnaire", first_name="Paul", last_name="Martin")
    earlier, later = two_edit_tabs(open_visitor, javascript, person, new_company("Forges Martin"))

    later.field("Ville").fill("Lyon")
    later.field("Adresse électronique").fill("accueil@forges-martin.fr")
    later.button("Soumettre").click()
    expect(later.page.locator("#flashes")).to_contain_text(SAVED)

    earlier.field("Ville").fill("Marseille")
    earlier.field("Libellé de la structure").fill("Atelier du Sud")
    earlier.button("Soumettre").click()
    earlier.expect_errors(CHANGED)
    expect(earlier.page.locator("#city-hint")).to_have_text(
        "Enregistré entre-temps : Lyon. Votre saisie est conservée."
    )
    expect(earlier.field("Ville")).to_have_value("Marseille")
    expect(earlier.field("Libellé de la structure")).to_have_value("Atelier du Sud")
    expect(earlier.field("Adresse électronique")).to_have_value("accueil@forges-martin.fr")
    expect(earlier.page.locator("#email-hint")).to_contain_text(
        "Enregistré entre-temps : accueil@forges-martin.fr."
    )
    check_page(earlier.page, shots, "modification concurrente")

    earlier.button("Soumettre").click()
    expect(earlier.page.locator("#flashes")).to_contain_text(SAVED)
    main = earlier.page.locator("main")
    for shown in ("Marseille", "Atelier du Sud", "accueil@forges-martin.fr"):
        expect(main).to_contain_text(shown)


def test_the_language_switch_keeps_what_the_page_showed_so_a_change_meanwhile_is_not_written_over(
    open_visitor,
):
    """JavaScript carries the fields over the switch, those left as shown
    too: the page must come back with what it showed, or its earlier values
    would be written over the other tab's change as if typed."""
    person = new_person("gestionnaire", first_name="Lise", last_name="Meitner")
    earlier, later = two_edit_tabs(open_visitor, True, person, new_company("Verreries Meitner"))
    later.field("Ville").fill("Lyon")
    later.button("Soumettre").click()
    expect(later.page.locator("#flashes")).to_contain_text(SAVED)

    earlier.field("Libellé de la structure").fill("Atelier du Sud")
    earlier.page.get_by_role("button", name="English").click()
    expect(earlier.page.locator("html")).to_have_attribute("lang", "en")
    expect(earlier.field("Trading name")).to_have_value("Atelier du Sud")
    earlier.button("Submit").click()
    expect(earlier.page.locator("#flashes")).to_contain_text("The structure's information has been updated.")
    main = earlier.page.locator("main")
    expect(main).to_contain_text("Atelier du Sud")
    expect(main).to_contain_text("Lyon")


# -- « Mon compte » ------------------------------------------------------------------------

PROFILE_SAVED = "Vos informations ont été enregistrées."


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_mon_compte_sent_last_names_what_the_other_tab_saved_then_saves_when_sent_again(
    javascript, request, open_visitor
):
    shots = request.getfixturevalue("shots") if javascript else None
    person = new_person("profil", first_name="Irène", last_name="Joliot")
    earlier, later = two_tabs(open_visitor, javascript, person, open_account, ACCOUNT)

    later.field("Prénom").fill("Irène Marie")
    later.field("Téléphone").fill("06 12 34 56 78")
    later.button("Enregistrer mes informations").click()
    expect(later.page.locator("#flashes")).to_contain_text(PROFILE_SAVED)

    earlier.field("Prénom").fill("Irena")
    earlier.field("Nom").fill("Joliot-Curie")
    earlier.button("Enregistrer mes informations").click()
    earlier.expect_errors(CHANGED)
    expect(earlier.page.locator("#first_name-hint")).to_have_text(
        "Enregistré entre-temps : Irène Marie. Votre saisie est conservée."
    )
    expect(earlier.field("Prénom")).to_have_value("Irena")
    expect(earlier.field("Nom")).to_have_value("Joliot-Curie")
    expect(earlier.field("Téléphone")).to_have_value("06 12 34 56 78")
    expect(earlier.page.locator("#phone-hint")).to_contain_text("Enregistré entre-temps : 06 12 34 56 78.")
    check_page(earlier.page, shots, "mon compte, modification concurrente")

    earlier.button("Enregistrer mes informations").click()
    expect(earlier.page.locator("#flashes")).to_contain_text(PROFILE_SAVED)
    expect(earlier.field("Prénom")).to_have_value("Irena")
    expect(earlier.field("Nom")).to_have_value("Joliot-Curie")
    expect(earlier.field("Téléphone")).to_have_value("06 12 34 56 78")


def test_mon_compte_s_language_switch_keeps_what_the_page_showed(open_visitor):
    """The switch saves the profile's draft first and carries the fields:
    what the page showed goes with them, or the phone left as shown would
    be written over the other tab's as if typed."""
    person = new_person("profil", first_name="Ève", last_name="Curie")
    earlier, later = two_tabs(open_visitor, True, person, open_account, ACCOUNT)
    later.field("Téléphone").fill("06 12 34 56 78")
    later.button("Enregistrer mes informations").click()
    expect(later.page.locator("#flashes")).to_contain_text(PROFILE_SAVED)

    earlier.field("Prénom").fill("Ève Denise")
    earlier.page.get_by_role("button", name="English").click()
    expect(earlier.page.locator("html")).to_have_attribute("lang", "en")
    expect(earlier.field("First name")).to_have_value("Ève Denise")
    earlier.button("Save my information").click()
    expect(earlier.page.locator("#flashes")).to_contain_text("Your information has been saved.")
    expect(earlier.field("First name")).to_have_value("Ève Denise")
    expect(earlier.field("Phone")).to_have_value("06 12 34 56 78")


def test_a_form_gone_stale_in_a_tab_keeps_what_was_typed_and_is_sent_again(open_visitor, console_allows):
    """Signing out and in again in one tab renews the session's token: the
    other tab's form, sent, used to be replaced by the 400 page, and what was
    typed in it lost. It stays, with a notice; sent again, it is saved."""
    console_allows += [r"status of 400", r"Response Status Error Code 400"]
    person = new_person("jeton", first_name="Ada", last_name="Lovelace")
    earlier, later = two_tabs(open_visitor, True, person, open_account, ACCOUNT)
    later.sign_out()
    later.sign_in(person)
    later.expect_signed_in(person)

    earlier.field("Prénom").fill("Augusta Ada")
    earlier.button("Enregistrer mes informations").click()
    expect(earlier.page.locator("#flashes")).to_contain_text("Cette page n'était plus à jour")
    expect(earlier.field("Prénom")).to_have_value("Augusta Ada")
    earlier.button("Enregistrer mes informations").click()
    expect(earlier.page.locator("#flashes")).to_contain_text("Vos informations ont été enregistrées.")
    expect(earlier.field("Prénom")).to_have_value("Augusta Ada")
