"""In Chromium: enrolling an authenticator app from « Mon compte » and
signing in with its code, with JavaScript on (htmx swaps in place) and off;
axe on every new page and its error states."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.support import pages
from tests.browser.support.checks import check_page
from tests.browser.support.chromium import add_virtual_authenticator
from tests.browser.support.factors import enrol_app
from tests.browser.support.visitor import Visitor
from tests.support.second_factor import code_at

pytestmark = pytest.mark.browser

FACTORS_PATH = "/mon-compte/verification-en-deux-etapes/"
TITLE = "Vérification en deux étapes"
SHAPE = "Code à 6 chiffres de votre application : Le code compte 6 chiffres, par exemple 123 456."
WRONG = (
    "Code à 6 chiffres de votre application : Ce code est incorrect ou a expiré. Vérifiez-le et réessayez."
)


def test_enrolling_an_app_and_signing_in_with_it(any_visitor, shots):
    visitor = any_visitor
    page = visitor.page
    person = visitor.sign_up_quickly()
    page.goto(FACTORS_PATH)
    visitor.expect_step(TITLE)
    check_page(page, shots, "factors")

    # The password was just given (sign-up): no need to confirm it again.
    visitor.button("Ajouter une application d'authentification").click()
    visitor.expect_step("Ajouter une application d'authentification")
    expect(page.locator(".qr-code svg")).to_be_visible()
    check_page(page, shots, "totp")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert pyotp.TOTP(secret).now()

    visitor.field("Code à 6 chiffres de votre application").fill(
        "000000" if code_at(secret) != "000000" else "111111"
    )
    visitor.button("Activer").click()
    visitor.expect_errors(WRONG)
    check_page(page, shots, "totp-error")
    visitor.field("Code à 6 chiffres de votre application").fill(code_at(secret, -1))
    visitor.button("Activer").click()
    visitor.expect_step("Vos codes de secours")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    check_page(page, shots, "codes")
    with page.expect_download() as download:
        visitor.link("Télécharger les codes (fichier texte)").click()
    assert download.value.suggested_filename == "codes-de-secours.txt"
    visitor.button("J'ai conservé mes codes").click()
    visitor.expect_step(TITLE)
    expect(page.get_by_text("Application d'authentification", exact=True)).to_be_visible()

    visitor.sign_out()
    visitor.sign_in(person)
    visitor.expect_step(TITLE)
    visitor.expect_path("/connexion/verification/")
    check_page(page, shots, "second-step")
    visitor.field("Code à 6 chiffres de votre application").fill("123")
    visitor.button("Valider").click()
    visitor.expect_errors(SHAPE)
    check_page(page, shots, "second-step-error")
    visitor.link("Utiliser un code de secours").click()
    expect(visitor.field("Code de secours")).to_be_visible()
    check_page(page, shots, "second-step-recovery")
    visitor.link("Utiliser mon application d'authentification").click()
    visitor.field("Code à 6 chiffres de votre application").fill(code_at(secret))
    visitor.button("Valider").click()
    visitor.expect_signed_in(person)


def test_the_recovery_codes_survive_a_switch_of_language(any_visitor):
    """The header's switch on « Vos codes de secours » (a plain form, or
    the address bar's page under htmx) shows the same codes in English."""
    visitor = any_visitor
    page = visitor.page
    visitor.sign_up_quickly()
    enrol_app(visitor)
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    visitor.button("English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    visitor.expect_step("Your recovery codes")
    visitor.expect_path(FACTORS_PATH + "codes-de-secours")
    assert page.locator(".recovery-codes li").all_inner_texts() == codes
    visitor.button("I have kept my codes").click()
    visitor.expect_step("Two-step verification")
    expect(page.locator(".recovery-codes")).to_have_count(0)


@pytest.fixture
def passkey_visitor(localhost_page, inbox) -> Visitor:
    """On http://localhost:PORT, with Chromium's virtual authenticator
    (``visitor.passkeys()``: how many it holds)."""
    visitor = Visitor(localhost_page, inbox, javascript=True)
    visitor.passkeys = add_virtual_authenticator(localhost_page)
    return visitor


def test_the_passkeys_script_comes_with_the_first_page_showing_a_passkey(passkey_visitor):
    """A page without a passkey fetches no passkeys script (a first visit's
    bytes). « Se connecter » fetches it and shows the button it reveals; so
    does « Ajouter une clé d'accès », drawn in place (htmx) in a page that
    had none."""
    visitor = passkey_visitor
    page = visitor.page
    fetched = []
    page.on("request", lambda request: "/passkeys." in request.url and fetched.append(request.url))
    page.goto("/")
    visitor.expect_step(pages.HOME)
    assert fetched == []
    page.locator("main").get_by_role("link", name="Se connecter").click()
    visitor.expect_step(pages.SIGN_IN)
    expect(page.get_by_role("button", name="Se connecter avec une clé d'accès")).to_be_visible()
    assert len(fetched) == 1

    visitor.sign_up_quickly()
    fetched.clear()
    page.goto(FACTORS_PATH)
    visitor.expect_step(TITLE)
    assert fetched == []
    visitor.link("Ajouter une clé d'accès").click()
    visitor.expect_step("Ajouter une clé d'accès")
    expect(visitor.button("Créer la clé d'accès")).to_be_visible()
    assert len(fetched) == 1


def test_registering_a_passkey_and_signing_in_with_it(passkey_visitor, shots):
    visitor = passkey_visitor
    page = visitor.page
    person = visitor.sign_up_quickly()
    page.goto(FACTORS_PATH)
    visitor.link("Ajouter une clé d'accès").click()
    visitor.expect_step("Ajouter une clé d'accès")
    check_page(page, shots, "passkey")
    visitor.button("Créer la clé d'accès").click()
    visitor.expect_errors("Nom de la clé d'accès : Ce champ est obligatoire.")
    # The name is asked before the fingerprint: no key made on the device for nothing.
    assert visitor.passkeys() == 0
    check_page(page, shots, "passkey-error")
    visitor.field("Nom de la clé d'accès").fill("Ordinateur du bureau")
    visitor.button("Créer la clé d'accès").click()
    visitor.expect_step("Vos codes de secours")
    assert visitor.passkeys() == 1
    visitor.button("J'ai conservé mes codes").click()
    expect(page.get_by_text("Ordinateur du bureau", exact=True)).to_be_visible()

    visitor.sign_out()
    visitor.sign_in(person)
    visitor.expect_step(TITLE)
    expect(visitor.button("Utiliser ma clé d'accès")).to_be_visible()
    check_page(page, shots, "second-step-passkey")
    visitor.button("Utiliser ma clé d'accès").click()
    visitor.expect_signed_in(person)

    # FLASK_PASSKEY_SIGN_IN (on in the browser tests' server): the passkey alone.
    visitor.sign_out()
    visitor.account_nav.get_by_role("link", name="Se connecter").click()
    check_page(page, shots, "sign-in-with-passkey")
    visitor.button("Se connecter avec une clé d'accès").click()
    visitor.expect_signed_in(person)

    # Sent to « Se connecter » by a page that needs an account (a mail's
    # link to « Approbations »): the passkey alone leads back there.
    visitor.sign_out()
    page.goto("/mon-compte/")
    visitor.expect_step("Se connecter")
    visitor.button("Se connecter avec une clé d'accès").click()
    visitor.expect_signed_in(person)
    visitor.expect_path("/mon-compte/")


SPENT = (
    "Code à 6 chiffres reçu par e-mail : Ce code n'est plus valable : il a été saisi trop de fois "
    "sans succès. Demandez un nouveau code."
)


def test_a_mailed_code_dies_after_five_wrong_tries_and_a_new_one_is_asked_beside_it(any_visitor, shots):
    """The button next to the field that says the code is dead sends a new
    one (a button of the code's form, sent elsewhere: with and without htmx)."""
    visitor = any_visitor
    page = visitor.page
    person = visitor.sign_up_quickly()
    page.goto(FACTORS_PATH)
    visitor.button("Recevoir les codes par e-mail").click()
    visitor.expect_step("Recevoir les codes par e-mail")
    code = mailed_code(visitor, person, 1)
    visitor.field("Code à 6 chiffres reçu par e-mail").fill(code)
    visitor.button("Activer").click()
    visitor.expect_step("Vos codes de secours")
    visitor.sign_out()

    visitor.sign_in(person)
    visitor.expect_step(TITLE)
    visitor.button("Recevoir un code par e-mail").click()
    code = mailed_code(visitor, person, 2)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        visitor.field("Code à 6 chiffres reçu par e-mail").fill(wrong)
        visitor.send("Valider")  # each try answered before the next
        expect(visitor.error_summary).to_be_visible()
    visitor.expect_errors(SPENT)
    check_page(page, shots, "second-step-code-spent")
    visitor.button("Demander un nouveau code").click()
    expect(visitor.notice("Un code vous a été envoyé à")).to_be_visible()
    visitor.field("Code à 6 chiffres reçu par e-mail").fill(mailed_code(visitor, person, 3))
    visitor.button("Valider").click()
    visitor.expect_signed_in(person)


def mailed_code(visitor: Visitor, person, count: int) -> str:
    message = visitor.inbox.wait_for(person.email, "Votre code de connexion", count=count)
    return re.search(r"\b(\d{6})\b", visitor.inbox.text(message)).group(1)


def test_without_javascript_no_passkey_button_is_offered(nojs_visitor):
    """A passkey needs JavaScript: its button, which could only fail with a
    wrong reason, is not shown; the page says what to use instead."""
    page = nojs_visitor.page
    page.goto("/connexion")
    expect(page.get_by_role("button", name="Se connecter avec une clé d'accès")).to_be_hidden()
    # (Its <noscript> word is not tested here: Chromium with scripts turned off by
    # the DevTools protocol still parses <noscript> as a scripting browser does.)
    expect(page.get_by_text("Ce navigateur ne permet pas de se connecter par clé d'accès")).to_be_hidden()


def test_removing_the_last_method_is_confirmed_first(any_visitor, shots):
    """« Retirer » on the only method says what it turns off and asks; the
    confirmation's button removes it, « Annuler et garder cette méthode »
    keeps it. With JavaScript, in place; without, as pages."""
    visitor = any_visitor
    page = visitor.page
    visitor.sign_up_quickly()
    enrol_app(visitor)
    visitor.button("J'ai conservé mes codes").click()
    visitor.expect_step(TITLE)
    remove = visitor.button("Retirer : Application d'authentification")
    remove.click()
    asked = page.locator("main [role=alert]")
    expect(asked).to_contain_text("est votre dernière méthode : si vous la retirez")
    check_page(page, shots, "factors-remove-last")
    visitor.link("Annuler et garder cette méthode").click()
    visitor.expect_step(TITLE)
    expect(asked).to_have_count(0)
    remove.click()
    visitor.button("Retirer et désactiver la vérification en deux étapes").click()
    expect(visitor.notice("La méthode a été retirée.")).to_be_visible()
    expect(page.locator("main").get_by_text("Aucune méthode n'est activée")).to_be_visible()
