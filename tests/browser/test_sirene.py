"""Step 6 from the SIRENE directory in Chromium: with JavaScript the fields
fill in place as the SIRET is typed (announced, focus kept); without it, the
two « Soumettre ». The directory is imported into the running server's
database with the real command, while the server runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_page
from tests.browser.support.pages import CREATED, STRUCTURE_FORM, STRUCTURE_FORM_PATH
from tests.browser.support.people import new_siret
from tests.browser.support.server import REPO
from tests.support.sirene_files import (
    ESTABLISHMENT_HEADER,
    HAUSSMANN,
    LEGAL_UNIT_HEADER,
    establishment,
    legal_unit,
    write,
)

NAME = "CURIE ET FILLES"


@pytest.fixture(scope="module")
def directory(live_server, tmp_path_factory) -> dict[str, str]:
    """Establishments INSEE knows, one per test (a SIRET a test has put on the
    portal is no longer filled in), imported with ``flask sirene import``
    into the live server's database."""
    sirets = {
        "js": new_siret(),
        "nojs": new_siret(),
        "other type": new_siret(),
        "and back": new_siret(),
        "changed": new_siret(),
        "after a refusal": new_siret(),
        "typed meanwhile": new_siret(),
    }
    sites = [establishment(siret, **HAUSSMANN) for siret in sirets.values()]
    units = [legal_unit(siret[:9], denominationUniteLegale=NAME) for siret in sirets.values()]
    tmp = tmp_path_factory.mktemp("sirene")
    paths = [
        write(tmp / "e.csv", ESTABLISHMENT_HEADER, sites),
        write(tmp / "u.zip", LEGAL_UNIT_HEADER, units, True),
    ]
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    env.update(
        FLASK_TESTING="true",
        FLASK_SECRET_KEY="sirene-import",
        FLASK_DATABASE_URL=f"sqlite:///{live_server.log_path.parent / 'portail.db'}",
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "flask", "--app", "app", "sirene", "import", *map(str, paths)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return sirets


def test_step_6_filled_from_the_directory(any_visitor, directory, request):
    visitor = any_visitor
    mode = "js" if visitor.javascript else "nojs"
    siret = directory[mode]
    visitor.sign_up_quickly()
    visitor.page.goto(STRUCTURE_FORM_PATH)
    visitor.expect_step(STRUCTURE_FORM)
    identifier = visitor.field("Identifiant Siret")
    identifier.click()
    if visitor.javascript:
        identifier.press_sequentially(siret, delay=20)
        # No click: the fields fill in place, the status line says so, the focus stays.
        expect(visitor.page.locator("#sirene-status")).to_contain_text("Établissement trouvé")
        expect(visitor.field("Raison sociale")).to_have_value(NAME)
        assert visitor.page.evaluate("() => document.activeElement.id") == "identifier"
    else:
        identifier.fill(siret)
        visitor.button("Soumettre").click()
        visitor.expect_step(STRUCTURE_FORM)
        expect(visitor.page.locator("#sirene-status")).to_contain_text("Établissement trouvé")
        expect(visitor.page.locator(".error-summary")).to_have_count(0)
    expect(visitor.field("Raison sociale")).to_have_value(NAME)
    expect(visitor.field("Raison sociale")).not_to_be_editable()
    expect(visitor.field("Adresse")).to_have_value("12 Boulevard HAUSSMANN")
    expect(visitor.field("Code postal")).to_have_value("75009")
    expect(visitor.field("Ville")).to_have_value("PARIS 9")
    check_page(visitor.page, None, f"sirene filled {mode}")
    visitor.field("Adresse électronique").fill("contact@curie.fr")
    visitor.button("Soumettre").click()
    expect(visitor.page.locator("main")).to_contain_text(CREATED)
    expect(visitor.page.locator("main")).to_contain_text(NAME)


def test_another_type_after_the_directory_filled_the_form_unlocks_the_name(visitor, directory):
    """Filled from a SIRET, then « Hors UE »: the name is editable again, the
    directory's word is gone, and the structure is created with the name typed."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(STRUCTURE_FORM_PATH)
    identifier = visitor.field("Identifiant Siret")
    identifier.click()
    identifier.press_sequentially(directory["other type"], delay=20)  # known to the directory
    expect(visitor.field("Raison sociale")).not_to_be_editable()
    page.locator("#identifier_type").select_option("hors_ue")
    expect(page.locator("#sirene-status")).to_have_text("")
    expect(visitor.field("Raison sociale")).to_be_editable()
    visitor.field("Raison sociale").fill("Curie International")
    page.locator("#identifier").fill("ZZ12345")
    page.locator("#country").select_option("US")
    visitor.field("Code postal").fill("10001")
    visitor.field("Ville").fill("New York")
    visitor.button("Soumettre").click()
    expect(page.locator("main")).to_contain_text(CREATED)
    expect(page.locator("main")).to_contain_text("Curie International")


def test_what_is_typed_while_the_directory_answers_is_kept(visitor, directory):
    """The directory's answer draws the general and address fields again, with
    what they held when the SIRET's look-up left. A slow answer, and the
    person already typing in the next field: what they typed stays (and the
    caret with it); the fields they did not touch are filled, the name locked."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(STRUCTURE_FORM_PATH)
    looked_up = []

    def slow_directory(route):
        looked_up.append(route.request.post_data)
        page.wait_for_timeout(800)  # the person types on meanwhile
        route.continue_()

    page.route(re.compile(r"/structure/nouvelle/sirene$"), slow_directory)
    identifier = visitor.field("Identifiant Siret")
    identifier.click()
    identifier.press_sequentially(directory["typed meanwhile"], delay=20)
    email = visitor.field("Adresse électronique")
    email.click()
    email.press_sequentially("contact@curie.fr", delay=40)
    expect(page.locator("#sirene-status")).to_contain_text("Établissement trouvé")
    # The look-up left before the address was whole.
    assert len(looked_up) == 1 and "contact%40curie.fr" not in looked_up[0]
    expect(visitor.field("Raison sociale")).to_have_value(NAME)
    expect(visitor.field("Raison sociale")).not_to_be_editable()
    expect(visitor.field("Adresse")).to_have_value("12 Boulevard HAUSSMANN")
    expect(email).to_have_value("contact@curie.fr")
    assert page.evaluate("() => document.activeElement.id") == "email"
    page.keyboard.type("x")
    expect(email).to_have_value("contact@curie.frx")


def filled_by_typing(visitor, siret: str):
    """Signed up, step 6 opened, ``siret`` typed into the identifier (with
    JavaScript: the form fills in place); the identifier field."""
    visitor.sign_up_quickly()
    visitor.page.goto(STRUCTURE_FORM_PATH)
    identifier = visitor.field("Identifiant Siret")
    identifier.click()
    identifier.press_sequentially(siret, delay=20)
    expect(visitor.field("Raison sociale")).to_have_value(NAME)
    return identifier


def test_another_type_and_back_to_siret_then_one_submit_creates(visitor, directory):
    """The type changed away and back: the form is filled again at once, and
    the first « Soumettre » creates the structure (it used to bring the form
    back, silently, for a second one)."""
    filled_by_typing(visitor, directory["and back"])
    page = visitor.page
    page.locator("#identifier_type").select_option("hors_ue")
    expect(visitor.field("Raison sociale")).to_be_editable()
    page.locator("#identifier_type").select_option("siret")
    expect(page.locator("#sirene-status")).to_contain_text("Établissement trouvé")
    expect(visitor.field("Raison sociale")).not_to_be_editable()
    visitor.button("Soumettre").click()
    expect(page.locator("main")).to_contain_text(CREATED)


def test_another_siret_after_a_fill_empties_what_it_filled(visitor, directory):
    """One company's name stayed locked, with its address, under a SIRET
    that was not theirs: the fill goes as soon as the SIRET changes."""
    identifier = filled_by_typing(visitor, directory["changed"])
    page = visitor.page
    identifier.press("Backspace")
    expect(visitor.field("Raison sociale")).to_have_value("")
    expect(visitor.field("Raison sociale")).to_be_editable()
    expect(visitor.field("Adresse")).to_have_value("")
    assert page.evaluate("() => document.activeElement.id") == "identifier"


def test_the_identifier_s_error_goes_once_the_directory_speaks_of_another_siret(visitor, directory):
    """« Soumettre » refused an incomplete SIRET; the person types the right
    one and the directory's line speaks of it: the error under the field and
    its line in the summary, about the SIRET sent before, are gone."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(STRUCTURE_FORM_PATH)
    siret = directory["after a refusal"]
    identifier = visitor.field("Identifiant Siret")
    identifier.fill(siret[:13])
    visitor.button("Soumettre").click()
    expect(visitor.error_for("Identifiant Siret")).to_be_visible()
    expect(page.locator(".error-summary a[href='#identifier']")).to_have_count(1)
    identifier.click()
    identifier.press("End")
    identifier.press_sequentially(siret[13:], delay=20)
    expect(page.locator("#sirene-status")).to_contain_text("Établissement trouvé")
    expect(page.locator("#identifier-error")).to_have_count(0)
    expect(identifier).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".error-summary a[href='#identifier']")).to_have_count(0)
    assert page.evaluate("() => document.activeElement.id") == "identifier"
    check_page(page, None, "sirene error gone")
    visitor.field("Adresse électronique").fill("contact@curie.fr")
    visitor.button("Soumettre").click()
    expect(page.locator("main")).to_contain_text(CREATED)
