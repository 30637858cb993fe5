"""The header's language switch in Chromium: the page comes back in the
other language with what was typed in it, and the English page passes the
same accessibility checks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import pages
from tests.browser.support.checks import check_axe
from tests.browser.support.people import new_person
from tests.support.second_factor import FACTORS

pytestmark = pytest.mark.browser


def test_switching_language_on_a_half_typed_step_keeps_what_was_typed(any_visitor):
    """With JavaScript the switch saves the step's draft first; without it,
    its button is the step's form's and sends what was typed."""
    visitor = any_visitor
    person = new_person(first_name="Irène", last_name="Joliot")
    visitor.start_signup()
    visitor.expect_step(pages.PERSONAL_INFO)
    visitor.field("Adresse e-mail").fill(person.email)
    visitor.field("Prénom").fill(person.first_name)
    visitor.field("Nom").fill(person.last_name)
    # No pause, no change event: the switch saves the draft before leaving.
    visitor.page.get_by_role("button", name="English").click()
    expect(visitor.page.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.page).to_have_url(visitor.page.url.split("/inscription")[0] + "/inscription/")
    expect(visitor.page.locator("#email")).to_have_value(person.email)
    expect(visitor.page.locator("#first_name")).to_have_value(person.first_name)
    expect(visitor.page.locator("#last_name")).to_have_value(person.last_name)
    check_axe(visitor.page, "step two in English, refilled")
    visitor.page.get_by_role("button", name="Français").click()
    expect(visitor.page.locator("html")).to_have_attribute("lang", "fr")
    expect(visitor.field("Prénom")).to_have_value(person.first_name)


def test_switching_language_on_step_four_keeps_the_corrections_but_never_the_password(any_visitor):
    """Step 4 keeps no draft (its link names the account): with JavaScript
    what was typed is carried over the reload in the tab, passwords
    excepted, and forgotten; without it, the switch's button is step 4's
    form's, and the server carries it (its page named by a digest)."""
    visitor = any_visitor
    person = visitor.create_account(new_person(first_name="Jean"))
    visitor.open_activation_link(person)
    page = visitor.page
    visitor.field("Prénom").fill("Jeanne")
    visitor.field("Téléphone").fill("06 12 34 56 78")
    visitor.field("Nouveau mot de passe").fill("Velo-Rouge-Matin-42")
    consent = page.locator("#survey_consent")
    if visitor.javascript:
        # A box that confirms something (required, as the deletion's) is never ticked again for the person.
        consent.check()
        consent.evaluate("box => { box.required = true; }")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#first_name")).to_have_value("Jeanne")
    expect(page.locator("#phone")).to_have_value("06 12 34 56 78")
    expect(page.locator("#password")).to_have_value("")
    expect(consent).not_to_be_checked()
    if visitor.javascript:
        # Nothing typed stays in the tab.
        assert page.evaluate("sessionStorage.getItem('portail:typed')") is None
    else:
        check_axe(page, "step four in English, carried without JavaScript")
    page.reload()  # carried once: a later visit shows the page as the server has it
    expect(page.locator("#first_name")).to_have_value(person.first_name)


def test_switching_language_on_the_captcha_does_not_put_the_old_answer_under_the_new_image(visitor):
    """The page comes back with a new image: what was typed for the old one
    would be wrong for it, and a submit would spend the new challenge."""
    visitor.start_signup()
    visitor.fill_personal_info(new_person())
    visitor.submit_personal_info()
    visitor.expect_step(pages.CAPTCHA)
    page = visitor.page
    old_image = page.locator(".captcha__image").get_attribute("src")
    visitor.field("Reproduire la suite de caractères").fill("ABC123")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".captcha__image")).not_to_have_attribute("src", old_image)
    expect(page.locator("#answer")).to_have_value("")


def test_after_htmx_moved_on_the_switch_comes_back_to_the_current_step(visitor):
    """htmx changed the address without redrawing the header: the switch
    goes back to the address bar's page, not the one the header was drawn on."""
    visitor.page.goto("/")
    visitor.link("Créer un compte").click()
    visitor.expect_step(pages.PERSONAL_INFO)
    visitor.page.get_by_role("button", name="English").click()
    expect(visitor.page.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.page).to_have_url(visitor.page.url.split("/inscription")[0] + "/inscription/")


def test_an_english_browser_gets_english_pages(english_page):
    english_page.goto("/")
    expect(english_page.locator("html")).to_have_attribute("lang", "en")
    expect(english_page.get_by_role("button", name="Français")).to_have_attribute("lang", "fr")
    check_axe(english_page, "home in English")


def test_after_signing_in_in_place_the_header_and_htmx_carry_the_new_token(visitor):
    """Activation signs the person in on a new session, with a new CSRF
    token, and step 5 swaps in place: the header's switch and htmx's later
    requests send the new token."""
    page = visitor.page
    person = visitor.create_account()
    visitor.open_activation_link(person)
    visitor.mark_document()
    visitor.set_password(person.password)
    visitor.expect_structure_step()
    visitor.expect_same_document()  # in place: the page kept what it held
    visitor.link(pages.STRUCTURE_CHOICE).click()
    visitor.expect_step(pages.STRUCTURE_FORM)
    visitor.field("Raison sociale").fill("Ateliers Curie")
    visitor.button("Enregistrer le brouillon").click()
    expect(page.locator("#draft-status")).to_contain_text("Brouillon enregistré")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.field("Company name")).to_have_value("Ateliers Curie")


def test_switching_language_on_mon_compte_keeps_the_survey_box_not_yet_saved(visitor):
    """« Mon compte » saves its personal information's draft before the
    switch; the survey box beside it, ticked and not yet saved, is carried
    over the reload too (once), and the page still says what is stored."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto("/mon-compte/")
    visitor.field("Prénom").fill("Jeanne")
    page.locator("#survey_consent").check()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#first_name")).to_have_value("Jeanne")
    expect(page.locator("#survey_consent")).to_be_checked()
    expect(page.locator("main")).to_contain_text("You are currently not signed up")  # nothing saved by it
    assert page.evaluate("sessionStorage.getItem('portail:typed')") is None
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#survey_consent")).to_be_checked()
    page.get_by_role("button", name="Enregistrer mon choix").click()
    expect(page.locator("main")).to_contain_text("Vous recevrez l'enquête de satisfaction.")
    expect(page.locator("#survey_consent")).to_be_checked()


def held_in_the_tab(page) -> str:
    """What app.js keeps in sessionStorage for the reload, read on a stand-in
    for the switch's answer (same tab, same origin, no app.js to take it)."""
    page.route(
        "**/langue",
        lambda route: route.fulfill(
            # An icon of its own: without one Chromium may ask for /favicon.ico, a 404 in the console.
            content_type="text/html",
            body='<link rel="icon" href="data:,"><p id=stand-in>stand-in</p>',
        ),
    )
    page.get_by_role("button", name="English").click()
    expect(page.locator("#stand-in")).to_be_visible()
    page.unroute("**/langue")
    return page.evaluate("sessionStorage.getItem('portail:typed')") or ""


def test_a_password_is_never_carried_over_the_switch_attack_password_in_the_tab(visitor):
    """What the tab holds for the one reload is read before the new page
    asks for it: no password, no one-time code. And a forged entry naming a
    password field is not put back into it."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto("/mon-compte/")
    secret = "Velo-Rouge-Matin-42"
    page.locator("#current_password").fill(secret)
    page.locator("#password").fill(secret + "!")
    page.locator("#password_confirm").fill(secret + "!")
    page.locator("#survey_consent").check()
    held = held_in_the_tab(page)
    assert secret not in held and "password" not in held and '"survey_consent","checkbox",true' in held
    page.goto("/mon-compte/")  # the page again: what the tab held is put back, and forgotten
    forged = {"page": "/mon-compte/", "fields": [
        ["current_password", "password", secret, secret], ["password", "password", secret, secret],
        ["csrf_token", "hidden", "forged", "forged"], ["survey_consent", "checkbox", True, "y"]]}  # fmt: skip
    page.evaluate("value => sessionStorage.setItem('portail:typed', JSON.stringify(value))", forged)
    page.reload()
    expect(page.locator("#survey_consent")).to_be_checked()  # a field the page carries: put back
    expect(page.locator("#current_password")).to_have_value("")
    expect(page.locator("#password")).to_have_value("")
    assert page.locator("input[name='csrf_token']").first.input_value() != "forged"


def test_a_one_time_code_is_never_carried_over_the_switch_attack_code_in_the_tab(visitor):
    """A code typed (here the one that confirms an authenticator app) is a
    secret, like a password: the tab never holds it for the reload."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(FACTORS)
    visitor.button("Ajouter une application d'authentification").click()
    visitor.expect_step("Ajouter une application d'authentification")
    visitor.field("Code à 6 chiffres de votre application").fill("123456")
    held = held_in_the_tab(page)
    assert "123456" not in held and '"code"' not in held


def test_switching_language_keeps_a_search_not_yet_sent(visitor):
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto("/structure/rattachement")
    page.locator("#identifier_type").select_option("hors_ue")
    # The type's field comes back under htmx: typed before it lands, a value is lost with the old one.
    expect(page.locator("label[for=identifier]")).to_contain_text("Numéro d'identification hors UE")
    page.locator("#identifier").fill("CH-123")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#identifier_type")).to_have_value("hors_ue")
    expect(page.locator("#identifier")).to_have_value("CH-123")


def test_without_javascript_the_switch_keeps_what_the_server_holds_on_mon_compte(nojs_visitor):
    """Without JavaScript the header's switch is the personal information's
    form's button: what is typed there comes back, saved or not. The page's
    other forms bring back what the server holds: the survey choice once
    « Enregistrer mon choix » is pressed (README, « Languages »)."""
    visitor = nojs_visitor
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto("/mon-compte/")
    page.locator("#survey_consent").check()
    visitor.button("Enregistrer mon choix").click()
    expect(page.locator("main")).to_contain_text("Vous recevrez l'enquête de satisfaction.")
    visitor.field("Prénom").fill("Jeanne")  # not saved
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"^[^?]*/mon-compte/$"))
    expect(page.locator("#first_name")).to_have_value("Jeanne")
    expect(page.locator("#survey_consent")).to_be_checked()
    page.locator("#current_password").fill("Velo-Rouge-Matin-42")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#current_password")).to_have_value("")


def test_without_javascript_sign_in_carries_the_address_never_the_password(nojs_visitor):
    visitor = nojs_visitor
    person = new_person()
    visitor.page.goto("/connexion")
    visitor.page.locator("#email").fill(person.email)
    visitor.page.locator("#password").fill("Velo-Rouge-Matin-42")
    visitor.page.get_by_role("button", name="English").click()
    expect(visitor.page.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.page.locator("#email")).to_have_value(person.email)
    expect(visitor.page.locator("#password")).to_have_value("")


def test_without_javascript_enter_in_a_field_sends_its_form_not_the_language_switch(any_visitor):
    """The switch's buttons, in the header, come before the form's own in
    the document: Enter in a field must still send the form, not switch."""
    visitor = any_visitor
    page = visitor.page
    page.goto("/mot-de-passe-oublie/")
    page.locator("#email").fill("marie.curie@exemple.fr")
    page.locator("#email").press("Enter")
    expect(page.locator("h1")).to_have_text("Vérifiez votre messagerie")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    visitor.sign_up_quickly()
    page.goto("/mon-compte/")
    visitor.field("Prénom").fill("Jeanne")
    visitor.field("Prénom").press("Enter")
    expect(page.locator("main")).to_contain_text("Vos informations ont été enregistrées.")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("button", name="English")).to_have_count(1)
