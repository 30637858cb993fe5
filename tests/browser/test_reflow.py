"""Every page of the flow reflows at 320 CSS px and holds text at 200 %
(RGAA 10.4, 10.11) and wider text spacing (10.12), and its focus indicators
are measured (RGAA 10.7); the accessibility statement goes through the engines."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_axe
from tests.browser.support.factors import enrol_app
from tests.browser.support.layout import NARROW, check_focus_indicators, check_reflow, no_overflow
from tests.browser.support.pages import CAPTCHA, MAIL_SENT, SET_PASSWORD, SIGN_IN
from tests.browser.support.people import new_person

pytestmark = pytest.mark.browser


def _check(page, step: str, lowest: list) -> None:
    check_reflow(page, step)
    lowest.append(check_focus_indicators(page, step))


def test_every_page_reflows_and_shows_its_focus(visitor):
    page, lowest = visitor.page, []
    person = new_person("zoom")
    page.goto("/")
    _check(page, "accueil", lowest)
    page.goto("/connexion")
    visitor.expect_step(SIGN_IN)
    visitor.button("Se connecter").click()
    visitor.expect_errors("Ce champ est obligatoire.")
    _check(page, "connexion en erreur", lowest)
    visitor.start_signup()
    visitor.submit_personal_info()
    visitor.expect_errors("Ce champ est obligatoire.")
    _check(page, "informations personnelles en erreur", lowest)
    visitor.fill_personal_info(person)
    visitor.submit_personal_info()
    visitor.expect_step(CAPTCHA)
    _check(page, "captcha", lowest)
    visitor.solve_captcha()
    visitor.expect_step(MAIL_SENT)
    _check(page, "courriel envoyé", lowest)
    page.goto(visitor.activation_link(person))
    visitor.expect_step(SET_PASSWORD)
    _check(page, "mot de passe", lowest)
    visitor.set_password(person.password)
    visitor.expect_structure_step()
    _check(page, "structure", lowest)
    visitor.link("Créer une nouvelle structure").click()
    visitor.expect_step("Renseignez les informations générales")
    _check(page, "nouvelle structure", lowest)
    page.goto("/declaration-accessibilite")
    expect(visitor.heading).to_have_text("Déclaration d'accessibilité")
    check_axe(page, "déclaration d'accessibilité")  # axe, HTML_CodeSniffer, Nu checker
    _check(page, "déclaration d'accessibilité", lowest)
    page.get_by_role("contentinfo").get_by_role("link", name="Plan du site").click()
    expect(visitor.heading).to_have_text("Plan du site")
    check_axe(page, "plan du site")
    _check(page, "plan du site", lowest)
    print(f"lowest focus indicator contrast: {min(lowest)}:1")


def test_a_name_of_one_long_word_wraps_in_the_header(visitor):
    """A surname of one long word (there are such names, and up to 100
    characters are accepted) wraps in the header's white-on-blue session
    line on a phone with its text enlarged, instead of pushing every page
    sideways past the blue band."""
    person = new_person("long", first_name="Hubert", last_name="Wolfeschlegelsteinhausenbergerdorff")
    visitor.sign_up_quickly(person)
    page = visitor.page
    page.set_viewport_size(NARROW)
    page.goto("/espace/")
    visitor.expect_signed_in(person)
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    no_overflow(page, "mon espace à 320 px, texte à 200 %, nom en un long mot")


def _a_failed_mail(live_server) -> None:
    """A mail the SMTP server refused, straight into the server's database
    (the test's server delivers everything), its next attempt far off."""
    path = live_server.env["FLASK_DATABASE_URL"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as database, database:
        database.execute(
            "INSERT INTO outbox_mail (recipient, subject, language, body_text, created_at, attempts,"
            " next_attempt_at, last_error) VALUES (?, ?, 'fr', 'Bonjour', ?, 3, ?, ?)",
            (
                "destinataire.refuse@exemple.fr",
                "Votre demande de rattachement est acceptée",
                "2026-01-02 03:04:05",
                "2099-01-01 00:00:00",
                "(550, b'5.1.1 Mailbox unavailable')",
            ),
        )


def test_the_outbox_reflows_with_mail_to_retry(visitor, live_server):
    """« Réessayer » on each failed or pending mail, and « Tout réessayer
    maintenant », stay within a phone's width, the text enlarged too, and
    within a desktop's with the text enlarged (the stacked table's column
    names, hidden there, are not measured)."""
    operator = visitor.sign_up_quickly(new_person("courriels"))
    live_server.flask("operator", "grant", operator.email)
    enrol_app(visitor)
    _a_failed_mail(live_server)
    page = visitor.page
    page.goto("/administration/courriels")
    visitor.expect_step("Courriels")
    expect(page.get_by_role("button", name="Réessayer – Votre demande").first).to_be_visible()
    page.set_viewport_size(NARROW)
    no_overflow(page, "courriels à 320 px")
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    no_overflow(page, "courriels à 320 px, texte à 200 %")
    # Six columns need 1,396 px with the text at 200 %: wider than a desktop's window.
    page.set_viewport_size({"width": 1280, "height": 800})
    no_overflow(page, "courriels à 1280 px, texte à 200 %")
    page.evaluate("() => { document.documentElement.style.fontSize = ''; }")
    expect(page.locator("table thead").first).to_have_css("position", "static")  # a table again


def test_the_console_holds_a_name_of_one_long_word(visitor, open_visitor, live_server):
    """A surname of one long word (up to 100 characters are accepted) wraps
    in the console's lists and pages instead of pushing them sideways."""
    operator = visitor.sign_up_quickly(new_person("console-long"))
    live_server.flask("operator", "grant", operator.email)
    enrol_app(visitor)
    long_name = "Wolfeschlegelsteinhausenbergerdorff" * 2 + "Vorschriftsmaessigkeit"
    target = open_visitor(javascript=False).sign_up_quickly(new_person("nom-long", last_name=long_name))
    page = visitor.page
    page.goto(f"/administration/comptes?q={target.email.partition('@')[0]}")
    visitor.expect_step("Comptes")
    for where in ("comptes", "compte"):
        if where == "compte":
            visitor.link(target.full_name).click()
            visitor.expect_step(target.full_name)
        no_overflow(page, f"{where}, nom en un long mot")
        viewport = page.viewport_size
        page.set_viewport_size(NARROW)
        no_overflow(page, f"{where} à 320 px, nom en un long mot")
        page.set_viewport_size(viewport)


WIDE = {"width": 1280, "height": 800}


def _holds_at_every_size(page, where: str) -> None:
    """No sideways scroll nor cut-off text at 320 px, at 1280 px, and at
    1280 px with the text at 200 % (the stacked tables' hidden column
    names are not measured)."""
    page.set_viewport_size(NARROW)
    no_overflow(page, f"{where} à 320 px")
    page.set_viewport_size(WIDE)
    no_overflow(page, f"{where} à 1280 px")
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    no_overflow(page, f"{where} à 1280 px, texte à 200 %")
    page.evaluate("() => { document.documentElement.style.fontSize = ''; }")


def test_every_console_page_and_my_data_hold_at_every_size(visitor, live_server):
    """Each page of « Administration » (wider than the flow's) and « Mes
    données » stay within the window on a phone, on a desktop, and on a
    desktop with the text enlarged; the flow's pages keep their width."""
    person = visitor.sign_up_quickly(new_person("console-tailles"))
    live_server.flask("operator", "grant", person.email)
    enrol_app(visitor)
    page = visitor.page
    page.set_viewport_size(WIDE)
    _a_failed_mail(live_server)
    for path, heading in (
        ("/administration/", "Administration"),
        (f"/administration/comptes?q={person.email.partition('@')[0]}", "Comptes"),
        ("/administration/structures?q=a", "Structures"),
        ("/administration/courriels", "Courriels"),
        ("/administration/journal", "Journal"),
        ("/mon-compte/donnees", None),
    ):
        page.goto(path)
        if heading:
            visitor.expect_step(heading)
        _holds_at_every_size(page, path)
    page.goto(f"/administration/comptes?q={person.email.partition('@')[0]}")
    visitor.link(person.full_name).click()
    visitor.expect_step(person.full_name)
    _holds_at_every_size(page, "compte")
    # The flow keeps its 46rem; the console takes 64rem.
    page.set_viewport_size(WIDE)
    page.goto("/mon-compte/")
    assert page.locator("main").evaluate("main => main.getBoundingClientRect().width") == 46 * 16
    page.goto("/administration/courriels")
    assert page.locator("main").evaluate("main => main.getBoundingClientRect().width") == 64 * 16
