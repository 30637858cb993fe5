"""With JavaScript on, htmx enhances the steps: each one swaps in place with its
own address, back/forward and reload show the right step, focus moves to the
new heading (or the error summary) and #announcer says it; fields are checked
when they lose focus, and the password checklist follows what is typed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.checks import check_axe
from tests.browser.support.keyboard import expect_focus, focused
from tests.browser.support.pages import (
    CAPTCHA,
    CREATED,
    HOME,
    MAIL_SENT,
    PERSONAL_INFO,
    SEARCH,
    SEARCH_PATH,
    SET_PASSWORD,
    SPACE,
    SPACE_PATH,
    STRUCTURE_CHOICE,
    STRUCTURE_FORM,
    STRUCTURE_FORM_PATH,
    STRUCTURE_PATH,
)
from tests.browser.support.people import new_company, new_person

pytestmark = pytest.mark.browser

SUMMARY = re.compile(r"^Le formulaire contient (une erreur|des erreurs)")


def expect_new_step(visitor, title: str, path: str, message: str | None = None) -> None:
    """The step arrived in place: same document, its URL pushed, the focus on
    its heading, and announced (with the ``message`` shown above it)."""
    visitor.expect_step(title)
    visitor.expect_path(path)
    visitor.expect_same_document()
    expect_focus(visitor.page, title, tag="h1")
    visitor.expect_announced(f"{title}. {message}" if message else title)
    expect(visitor.page).to_have_title(re.compile(r" – Portail Structures$"))


def expect_error_summary_focused(visitor) -> None:
    expect(visitor.error_summary).to_be_visible()
    expect_focus(visitor.page, SUMMARY, tag="div")
    visitor.expect_announced(SUMMARY)
    visitor.expect_same_document()
    expect(visitor.page).to_have_title(re.compile(r"^Erreur – "))


def test_each_step_swaps_in_place_with_focus_and_announcement(visitor):
    page = visitor.page
    person = new_person()
    page.goto("/")
    visitor.mark_document()

    visitor.link("Créer un compte").click()
    expect_new_step(visitor, PERSONAL_INFO, "/inscription/")

    visitor.submit_personal_info()  # empty: 422, the errors swap in place
    expect_error_summary_focused(visitor)
    expect(visitor.error_for("Adresse e-mail")).to_contain_text("Ce champ est obligatoire.")
    visitor.expect_path("/inscription/")

    # A link of the summary takes the focus to its field.
    visitor.error_summary.get_by_role("link", name=re.compile("^Prénom")).click()
    expect_focus(page, "Prénom", tag="input")

    visitor.fill_personal_info(person)
    visitor.submit_personal_info()
    expect_new_step(visitor, CAPTCHA, "/inscription/captcha")

    visitor.solve_captcha("AAAAAA")  # wrong: 422 with a new image
    expect_error_summary_focused(visitor)
    expect(visitor.error_for("Reproduire la suite de caractères")).to_contain_text("ne correspondent pas")
    visitor.solve_captcha()
    expect_new_step(visitor, MAIL_SENT, "/inscription/envoye")

    page.goto(visitor.activation_link(person))
    visitor.mark_document()
    visitor.set_password("court")
    expect_error_summary_focused(visitor)
    visitor.set_password(person.password)
    visitor.expect_structure_step()
    visitor.expect_same_document()
    heading = visitor.heading.inner_text()
    expect_focus(page, heading, tag="h1")
    visitor.expect_announced(heading)
    visitor.expect_signed_in(person)  # the header changed with the step


def test_a_new_captcha_image_comes_with_an_empty_answer(any_visitor):
    """The answer typed was the old image's: « Nouvelle image » empties it,
    and the error about it goes, with JavaScript (the widget swapped in
    place, the focus where it was) as without (the step again)."""
    visitor = any_visitor
    visitor.start_signup()
    visitor.fill_personal_info(new_person())
    visitor.submit_personal_info()
    visitor.expect_step(CAPTCHA)
    visitor.solve_captcha("AAAAAA")  # wrong: its error, a new image
    answer = visitor.field("Reproduire la suite de caractères")
    expect(visitor.error_for("Reproduire la suite de caractères")).to_contain_text("ne correspondent pas")
    visitor.expect_ready()  # the new image read first
    answer.fill("ZZZZZZ")
    visitor.button("Nouvelle image").click()
    expect(answer).to_have_value("")
    expect(visitor.page.locator(".error-summary, .field--error")).to_have_count(0)
    if visitor.javascript:
        visitor.expect_announced("Nouvelle image affichée.")
        expect_focus(visitor.page, "Nouvelle image", tag="button")
    visitor.solve_captcha()
    visitor.expect_step(MAIL_SENT)


def test_back_forward_and_reload_show_the_right_step(visitor):
    page = visitor.page
    person = new_person()
    page.goto("/")
    visitor.mark_document()
    visitor.link("Créer un compte").click()
    visitor.expect_step(PERSONAL_INFO)
    visitor.fill_personal_info(person)
    visitor.submit_personal_info()
    visitor.expect_step(CAPTCHA)

    page.go_back()
    visitor.expect_path("/inscription/")
    visitor.expect_step(PERSONAL_INFO)
    visitor.expect_same_document()
    expect_focus(page, PERSONAL_INFO, tag="h1")
    visitor.expect_announced(PERSONAL_INFO)
    # What was typed is still there.
    expect(visitor.field("Adresse e-mail")).to_have_value(person.email)
    expect(visitor.field("Prénom")).to_have_value(person.first_name)

    page.go_back()
    visitor.expect_path("/")
    visitor.expect_step(HOME)

    page.go_forward()
    visitor.expect_step(PERSONAL_INFO)
    page.go_forward()
    visitor.expect_path("/inscription/captcha")
    visitor.expect_step(CAPTCHA)
    visitor.expect_same_document()
    check_axe(page, "after back and forward")

    page.reload()
    visitor.expect_step(CAPTCHA)
    expect(page.locator("main")).to_contain_text(person.email)
    visitor.solve_captcha()
    visitor.expect_step(MAIL_SENT)
    page.reload()
    visitor.expect_step(MAIL_SENT)
    visitor.expect_path("/inscription/envoye")


def test_back_to_a_step_already_done_shows_where_the_server_sends_under_its_address(visitor):
    """Back from « Vérifiez votre messagerie » to the captcha's address: the
    captcha is done, the server sends to the mail-sent page, and the address
    bar says that page too."""
    page = visitor.page
    visitor.create_account()
    visitor.mark_document()
    page.go_back()
    visitor.expect_step(MAIL_SENT)
    visitor.expect_path("/inscription/envoye")
    visitor.expect_same_document()
    page.reload()  # the address shown is the page shown
    visitor.expect_step(MAIL_SENT)


def test_back_to_an_address_that_now_answers_an_error_shows_the_error_page(visitor, console_allows):
    """Back to the activation link once it is used and its account signed
    out: the server answers 410, and the page shown is its « lien n'est plus
    valable », not the page before under the link's address."""
    console_allows += [r"status of 410", r"htmx:historyCacheMissLoadError"]
    page = visitor.page
    visitor.create_account()
    link = visitor.activation_link()
    visitor.open_activation_link()
    visitor.set_password(visitor.person.password)
    visitor.expect_structure_step()
    visitor.sign_out()
    page.go_back()  # step 5, which now asks to sign in
    page.go_back()  # the link
    visitor.expect_step("Ce lien n'est plus valable")
    assert page.url == link


def test_back_to_the_used_activation_link_of_the_signed_in_account_goes_on_to_step_5(visitor):
    """Back to the link just used, still signed in: step 5 again, saying the
    account is active already, under step 5's address."""
    page = visitor.page
    visitor.create_account()
    visitor.open_activation_link()
    visitor.set_password(visitor.person.password)
    visitor.expect_structure_step()
    page.go_back()
    visitor.expect_structure_step()
    expect(page.locator("main")).to_contain_text("Votre compte est déjà activé.")


def test_a_live_check_left_waiting_is_not_sent_once_the_form_is(visitor):
    """The password's checklist is asked 150 ms after the last key. Sent
    after « Soumettre » while the answer is on its way, it would carry the
    token that signing in renews (a 400), for a page about to be replaced."""
    page = visitor.page
    visitor.create_account()
    visitor.open_activation_link()
    sent_at = {}
    checks_after_submit = []

    def watch(request):
        if request.method == "POST" and request.url.endswith("/mot-de-passe/regles") and "form" in sent_at:
            checks_after_submit.append(request.url)

    def slow_submit(route):
        sent_at["form"] = True
        page.wait_for_timeout(600)  # the answer takes longer than the check's delay
        route.continue_()

    page.on("request", watch)
    page.route(
        re.compile(r"/activation/[^/]+$"),
        lambda route: slow_submit(route) if route.request.method == "POST" else route.continue_(),
    )
    visitor.field("Nouveau mot de passe").fill(visitor.person.password)
    visitor.field("Confirmation du nouveau mot de passe").fill(visitor.person.password)
    visitor.button("Soumettre").click()
    visitor.expect_structure_step()
    page.wait_for_timeout(300)
    assert checks_after_submit == []


def test_fields_are_checked_when_they_lose_focus(visitor):
    page = visitor.page
    visitor.start_signup()
    email = visitor.field("Adresse e-mail")
    email.fill("marie.curie@")
    page.keyboard.press("Tab")

    error = page.locator("#email-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("adresse e-mail")
    expect(page.locator("#field-email #email-error")).to_have_count(1)  # next to the field
    email = visitor.field("Adresse e-mail")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", re.compile(r"\bemail-error\b"))
    expect(email).to_have_value("marie.curie@")  # nothing typed is lost
    # The check did not take the focus away from where the person went.
    assert focused(page)["name"] == "Confirmez votre adresse e-mail"
    check_axe(page, "inline error")

    visitor.field("Confirmez votre adresse e-mail").fill("autre@exemple.fr")
    page.keyboard.press("Tab")
    expect(page.locator("#email_confirm-error")).to_be_visible()

    email.fill("marie.curie@exemple.fr")
    email.blur()
    expect(page.locator("#email-error")).to_have_count(0)
    expect(visitor.field("Adresse e-mail")).not_to_have_attribute("aria-invalid", "true")

    visitor.field("Téléphone").fill("12")
    page.keyboard.press("Tab")
    expect(page.locator("#phone-error")).to_be_visible()
    check_axe(page, "inline errors")


def test_the_error_summary_lists_only_what_is_still_wrong(visitor):
    """« Continuer » refused the empty step: each field put right, and
    checked as the person leaves it (the required box, as it is ticked),
    takes its error and its line out of the summary; a field still wrong
    keeps its line, and the summary goes with its last."""
    page = visitor.page
    visitor.start_signup()
    visitor.button("Continuer").click()
    summary = page.locator(".error-summary")
    expect(summary.locator("a[href='#email']")).to_have_count(1)
    expect(summary.locator("a[href='#first_name']")).to_have_count(1)
    visitor.field("Prénom").fill("Marie")
    page.keyboard.press("Tab")
    expect(page.locator("#first_name-error")).to_have_count(0)
    expect(summary.locator("a[href='#first_name']")).to_have_count(0)
    visitor.field("Adresse e-mail").fill("marie.curie@")  # still wrong, another way
    page.keyboard.press("Tab")
    expect(page.locator("#email-error")).to_contain_text("adresse e-mail")
    expect(summary.locator("a[href='#email']")).to_have_count(1)
    person = new_person()
    visitor.fill_personal_info(person)
    page.keyboard.press("Tab")
    expect(page.locator("#terms-error")).to_have_count(0)
    expect(visitor.field("J'accepte les conditions")).not_to_have_attribute("aria-invalid", "true")
    expect(summary).to_have_count(0)
    visitor.submit_personal_info()
    visitor.expect_step(CAPTCHA)


def test_a_changed_address_is_checked_again_against_the_confirmation(visitor):
    """« Confirmez » was right; the address changes: the mismatch shows at
    once, whether the person went to « Confirmez » (what they type there
    stays) or elsewhere."""
    page = visitor.page
    visitor.start_signup()
    email, confirm = visitor.field("Adresse e-mail"), visitor.field("Confirmez votre adresse e-mail")
    email.fill("marie.curie@exemple.fr")
    confirm.fill("marie.curie@exemple.fr")
    visitor.field("Prénom").focus()
    expect(page.locator("#email_confirm-error")).to_have_count(0)

    email.fill("marie.sklodowska@exemple.fr")
    page.keyboard.press("Tab")  # into « Confirmez », and typing there at once
    page.keyboard.type("x")
    visitor.expect_answered()  # the address's check answered while in « Confirmez »
    expect(confirm).to_have_value("x")  # Tab selected the old text; what was typed replaced it, and stays
    assert focused(page)["name"] == "Confirmez votre adresse e-mail"
    page.keyboard.press("Tab")  # leaving it: checked
    expect(page.locator("#email_confirm-error")).to_contain_text("ne sont pas identiques")
    expect(confirm).to_have_value("x")
    check_axe(page, "confirmation checked again")

    confirm.fill("marie.curie@exemple.fr")
    visitor.field("Prénom").focus()
    email.fill("marie.sklodowska@exemple.fr")
    page.keyboard.press("Tab")  # into « Confirmez », out again without a change: checked all the same
    visitor.expect_answered()
    page.keyboard.press("Tab")
    expect(page.locator("#email_confirm-error")).to_contain_text("ne sont pas identiques")
    expect(confirm).to_have_value("marie.curie@exemple.fr")

    confirm.fill("marie.sklodowska@exemple.fr")
    visitor.field("Prénom").focus()
    expect(page.locator("#email_confirm-error")).to_have_count(0)
    email.fill("marie.curie@exemple.fr")
    visitor.field("Nom").focus()  # elsewhere: the mismatch shows all the same
    expect(page.locator("#email_confirm-error")).to_contain_text("ne sont pas identiques")
    expect(confirm).to_have_value("marie.sklodowska@exemple.fr")


def test_the_password_checklist_follows_what_is_typed(visitor):
    page = visitor.page
    person = visitor.create_account()
    visitor.open_activation_link(person)
    rules = page.locator("#password-rules")
    met = rules.locator(".checklist__item--ok")
    expect(met).to_have_count(0)

    visitor.field("Nouveau mot de passe").focus()
    page.keyboard.type("abcdefgh", delay=15)
    expect(met).to_have_count(1)
    expect(met).to_have_text([re.compile("Une minuscule")])

    page.keyboard.type("jkmn", delay=15)  # 12 characters
    expect(met.filter(has_text="12 caractères minimum")).to_have_count(1)

    page.keyboard.type("7Q", delay=15)  # digits and upper case: 3 kinds
    expect(rules.locator(":scope > li").nth(1)).to_have_class(re.compile("checklist__item--ok"))
    check_axe(page, "checklist met")

    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    expect(met).to_have_count(0)
    visitor.expect_step(SET_PASSWORD)


def test_the_password_s_error_stays_while_its_rules_follow_what_is_typed(visitor):
    """« Soumettre » refused the password: its error and its summary line
    stay as the person types again (the rules' checklist is no verdict on
    it), until the next « Soumettre »."""
    page = visitor.page
    person = visitor.create_account()
    visitor.open_activation_link(person)
    visitor.field("Nouveau mot de passe").fill("court")
    visitor.field("Confirmation du nouveau mot de passe").fill("court")
    visitor.button("Soumettre").click()
    expect(page.locator("#password-error")).to_be_visible()
    visitor.field("Nouveau mot de passe").focus()
    page.keyboard.press("End")
    page.keyboard.type("ABCDEFGHIJ1", delay=15)
    expect(page.locator("#password-rules .checklist__item--ok")).not_to_have_count(0)
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.locator(".error-summary a[href='#password']")).to_have_count(1)


def test_structure_steps_swap_in_place_with_focus_and_announcement(visitor):
    page = visitor.page
    visitor.sign_up_quickly()
    company = new_company()
    page.goto(STRUCTURE_PATH)
    visitor.expect_structure_step()
    visitor.mark_document()

    visitor.link(STRUCTURE_CHOICE).click()
    expect_new_step(visitor, STRUCTURE_FORM, STRUCTURE_FORM_PATH)

    # The identifier's label and hint follow the type, swapped in place; the
    # focus stays on the select and the new label is announced (aria-live).
    identifier_type = visitor.field("Type d'identifiant")
    identifier_type.focus()
    identifier_type.select_option(label="RIDET")
    expect(visitor.field("Numéro RIDET")).to_be_visible()
    expect(page.locator("#identifier-hint")).to_contain_text("1234567.001")
    expect(page.locator("#identifier-block")).to_have_attribute("aria-live", "polite")
    expect_focus(page, "Type d'identifiant", tag="select")
    identifier_type.select_option(label="En cours d'immatriculation")
    expect(page.locator("#identifier-assigned")).to_contain_text("Pas d'identifiant à saisir")
    expect(visitor.identifier).to_be_hidden()
    identifier_type.select_option(label="SIRET")
    expect(visitor.field("Identifiant Siret")).to_be_visible()
    visitor.expect_same_document()

    visitor.submit_structure()  # empty: 422, the errors swap in place
    expect_error_summary_focused(visitor)
    expect(visitor.error_for("Raison sociale")).to_contain_text("Ce champ est obligatoire.")
    visitor.expect_path(STRUCTURE_FORM_PATH)
    visitor.error_summary.get_by_role("link", name=re.compile("^Code postal")).click()
    expect_focus(page, "Code postal", tag="input")

    visitor.fill_structure(company)
    visitor.identifier.fill("732 829 320 00075")  # one digit wrong
    visitor.submit_structure()
    expect_error_summary_focused(visitor)
    expect(visitor.error_for("Identifiant Siret")).to_contain_text("clé de contrôle")
    expect(visitor.field("Raison sociale")).to_have_value(company.name)  # nothing typed is lost

    visitor.identifier.fill(company.siret)
    visitor.submit_structure()
    expect_new_step(visitor, SPACE, SPACE_PATH, message=CREATED)
    visitor.expect_current_nav(SPACE)  # the header changed with the step

    page.go_back()
    visitor.expect_path(STRUCTURE_FORM_PATH)
    visitor.expect_step(STRUCTURE_FORM)
    visitor.expect_same_document()
    expect_focus(page, STRUCTURE_FORM, tag="h1")
    visitor.expect_announced(STRUCTURE_FORM)
    visitor.expect_current_nav(None)
    page.go_forward()
    visitor.expect_path(SPACE_PATH)
    visitor.expect_step(SPACE)
    expect(visitor.row_of(company.name)).to_contain_text("Gestionnaire principal")
    page.reload()
    visitor.expect_step(SPACE)
    visitor.expect_current_nav(SPACE)


def test_cancelling_a_request_in_place_replaces_the_message_above_it(visitor, owner_account):
    """« Mon espace » arrives with « Votre demande … transmise » above the
    requests; cancelling the request in place puts its own message there
    (not a second one, nor the first left stale), in the same document; the
    row's status takes the focus and the message is announced."""
    page, company = visitor.page, owner_account.company
    visitor.sign_up_quickly()
    page.goto(f"{SEARCH_PATH}?identifier_type=siret&identifier={company.siret}")
    visitor.mark_document()
    page.get_by_role("button", name="Demander le rattachement").click()
    sent = (
        "Votre demande de rattachement a été transmise au gestionnaire principal de la structure "
        f"{company.name}. Vous recevrez un courriel dès qu'il l'aura traitée."
    )
    expect_new_step(visitor, SPACE, SPACE_PATH, message=sent)
    expect(page.locator(".notice--flash")).to_have_text([sent])

    row = visitor.row_of(company.name)
    row.get_by_role("button", name=f"Annuler la demande de rattachement à {company.name}").click()
    cancelled = "Votre demande de rattachement est annulée."
    expect(page.locator(".notice--flash")).to_have_text([cancelled])
    expect(row).to_contain_text("Annulée le")
    again = row.get_by_role("link", name=f"Demander à nouveau le rattachement à {company.name}")
    expect(again).to_be_visible()
    expect_focus(page, re.compile(r"^Annulée le "), tag="td")
    visitor.expect_announced(cancelled)
    visitor.expect_same_document()
    visitor.expect_path(SPACE_PATH)
    check_axe(page)


def test_the_search_keeps_its_address_when_the_identifier_type_changes(visitor):
    """The type's swap of the identifier field is no step: the address stays
    the search's, so a reload or a bookmark shows the search again."""
    page = visitor.page
    visitor.sign_up_quickly()
    page.goto(SEARCH_PATH)
    visitor.expect_step(SEARCH)
    visitor.mark_document()
    visitor.field("Type d'identifiant").select_option(label="RIDET")
    expect(visitor.field("Numéro RIDET")).to_be_visible()
    visitor.expect_path(SEARCH_PATH)
    visitor.expect_same_document()
    page.reload()
    visitor.expect_step(SEARCH)


def test_the_browser_gets_its_pages_and_swaps_compressed_and_posts_its_masked_token(visitor):
    """Chromium marks its own requests (Sec-Fetch-Site): the page it opens and
    the steps htmx fetches come gzipped (breach.py), and the masked token
    htmx sends back passes."""
    page = visitor.page
    encodings: dict[str, str | None] = {}

    def seen(response):
        if "text/html" in (response.headers.get("content-type") or ""):
            encodings[f"{response.request.method} {response.url.split('/', 3)[-1]}"] = response.headers.get(
                "content-encoding"
            )

    page.on("response", seen)
    page.goto("/")
    visitor.mark_document()
    visitor.link("Créer un compte").click()
    expect_new_step(visitor, PERSONAL_INFO, "/inscription/")
    visitor.fill_personal_info(new_person())
    visitor.submit_personal_info()
    expect_new_step(visitor, CAPTCHA, "/inscription/captcha")
    assert encodings["GET "] == "gzip"
    assert encodings["GET inscription/"] == "gzip"
    assert encodings["POST inscription/"] == "gzip", encodings  # the captcha step, in place


def test_the_address_typed_to_sign_in_goes_along_to_the_forgotten_password_and_back(visitor):
    """« Mot de passe oublié ? » takes the address typed on « Se connecter »
    (never the password), and « Retour à la connexion » brings it back."""
    page = visitor.page
    page.goto("/connexion")
    visitor.field("Adresse e-mail").fill("oubli@exemple.fr")
    visitor.field("Mot de passe").fill("Secret-Jamais-Porte-1")
    forgotten = page.get_by_role("link", name="Mot de passe oublié ?")
    forgotten.evaluate(
        "link => link.addEventListener('click', event => event.preventDefault(), {once: true})"
    )
    forgotten.click()  # held back once: what the tab keeps for the next page, read before it goes
    held = page.evaluate("window.sessionStorage.getItem('portail:typed')")
    assert "oubli@exemple.fr" in held and "Secret-Jamais-Porte-1" not in held
    forgotten.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié ?")
    expect(visitor.field("Adresse e-mail")).to_have_value("oubli@exemple.fr")
    visitor.field("Adresse e-mail").fill("corrigee@exemple.fr")
    page.get_by_role("link", name="Retour à la connexion").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    expect(visitor.field("Adresse e-mail")).to_have_value("corrigee@exemple.fr")
    expect(visitor.field("Mot de passe")).to_have_value("")
    page.reload()  # carried once: a reload shows the page as the server has it
    expect(visitor.field("Adresse e-mail")).to_have_value("")


# Set on the home page: the moment step 1 is in #main (a mutation, seen before
# anything else may run), its « Continuer » is clicked, as a quick hand or a
# slow machine would; which way the form went is recorded.
CLICK_AS_IT_SHOWS = """() => {
  window.stillHere = true;
  window.sentInPlace = 0;
  document.addEventListener("htmx:beforeRequest", (e) => {
    if (e.detail.elt.tagName === "FORM") window.sentInPlace++;
  });
  const main = document.getElementById("main");
  const watch = new MutationObserver(() => {
    const buttons = [...main.querySelectorAll("form button")];
    const button = buttons.find((b) => b.textContent.trim() === "Continuer");
    if (!button) return;
    watch.disconnect();
    button.click();
  });
  watch.observe(main, {childList: true, subtree: true});
}"""


def test_a_step_swapped_in_is_live_the_moment_it_shows(visitor):
    """htmx binds what it swaps in only when the swap settles, by default on
    a timer: a click before that sent the form as a plain POST, a page
    reload that lost the step's enhancements. The portal settles at once
    (``defaultSettleDelay`` 0): the step's form is htmx's as soon as it can
    be clicked."""
    page = visitor.page
    page.goto("/")
    visitor.expect_step(HOME)
    page.evaluate(CLICK_AS_IT_SHOWS)
    visitor.link("Créer un compte").click()
    visitor.expect_errors("Adresse e-mail")  # the empty form, refused in place
    assert page.evaluate("window.stillHere === true && window.sentInPlace === 1")
