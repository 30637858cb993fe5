"""Drafts in Chromium: what was typed in step 2 or step 6 comes back after a
reload, back/forward, a new tab, a failed submit without JavaScript, and
(step 6) signing out and in again, and from the attachment search's
« Créer cette structure » for the draft's SIRET; what was typed just before
the page is left (a link, « Se déconnecter », the language switch, the
browser's Back, an address typed, the tab closed or hidden) is in it too."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from tests.browser.support import pages
from tests.browser.support.checks import check_axe
from tests.browser.support.people import new_company, new_person
from tests.browser.support.visitor import Visitor

pytestmark = pytest.mark.browser

SAVED = re.compile(r"^Brouillon enregistré à \d\d:\d\d$")


def draft_saves(page) -> list[str]:
    """The addresses of the draft saves (and discards) the page sends from now on."""
    saves = []
    page.on("request", lambda request: saves.append(request.url) if "/brouillon" in request.url else None)
    return saves


def held(page, address: str, first_only: bool = False) -> None:
    """Requests to ``address`` (a regular expression) answered 900 ms late, as
    on a slow network: an autosave's delay (500 ms) runs out meanwhile."""
    seen = []

    def hold(route):
        if not (first_only and seen):
            seen.append(route.request.url)
            page.wait_for_timeout(900)
        route.continue_()

    page.route(re.compile(address), hold)


def hide(page) -> None:
    """The page hidden as a phone's browser hides it for the next app (which
    may then close it unseen): headless Chromium's pages never hide."""
    page.evaluate("""() => {
        Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")


def another_tab(visitor) -> Visitor:
    """A second tab of the same browser (its cookies), opened beforehand."""
    return Visitor(visitor.page.context.new_page(), visitor.inbox)


def expect_draft_holds(other: Visitor, path: str, label: str, typed: str) -> None:
    """The save a page sent as it went may still be on its way when the other
    tab opens ``path``: it opens it again until the field shows ``typed``."""
    for _ in range(20):
        other.page.goto(path)
        if other.field(label).input_value() == typed:
            break
        other.page.wait_for_timeout(250)
    expect(other.field(label)).to_have_value(typed)


def type_half_of_step_two(visitor, person) -> None:
    visitor.start_signup()
    visitor.field("Adresse e-mail").fill(person.email)
    visitor.field("Prénom").fill(person.first_name)
    visitor.field("Nom").fill(person.last_name)
    visitor.field("Nom").blur()  # a change event: the autosave follows


def expect_step_two_refilled(visitor, person) -> None:
    visitor.expect_step(pages.PERSONAL_INFO)
    expect(visitor.field("Adresse e-mail")).to_have_value(person.email)
    expect(visitor.field("Prénom")).to_have_value(person.first_name)
    expect(visitor.field("Nom")).to_have_value(person.last_name)
    expect(visitor.page.locator("#draft-status")).to_have_text(SAVED)


def test_half_typed_step_two_is_refilled_after_a_reload_and_in_a_new_tab(visitor):
    person = new_person(first_name="Irène", last_name="Joliot")
    type_half_of_step_two(visitor, person)
    status = visitor.page.locator("#draft-status")
    expect(status).to_have_text(SAVED)  # saved as typed, no button pressed
    expect(status).to_have_attribute("aria-live", "polite")
    visitor.page.reload()
    expect_step_two_refilled(visitor, person)
    check_axe(visitor.page, "brouillon rechargé")
    tab = visitor.page.context.new_page()
    tab.goto("/inscription/")
    expect(tab.locator("#first_name")).to_have_value("Irène")
    expect(tab.locator("#draft-status")).to_have_text(SAVED)
    tab.close()


def test_the_autosaves_line_never_moves_the_buttons_under_the_pointer(visitor):
    """« Brouillon enregistré » appears half a second after a change, as the
    person goes for « Continuer »: the buttons stay where they were (a click
    aimed before it appeared must land on the button, not beside it)."""
    visitor.start_signup()
    button = visitor.button("Continuer")
    before = button.bounding_box()
    visitor.field("Prénom").fill("Irène")
    visitor.field("Prénom").blur()
    expect(visitor.page.locator("#draft-status")).to_have_text(SAVED)
    assert button.bounding_box() == before


def test_half_typed_step_two_is_refilled_after_back_and_forward(visitor):
    person = new_person(first_name="Ève")
    type_half_of_step_two(visitor, person)
    expect(visitor.page.locator("#draft-status")).to_have_text(SAVED)
    visitor.page.goto("/")
    visitor.page.go_back()
    expect_step_two_refilled(visitor, person)
    visitor.page.go_forward()
    visitor.expect_step(pages.HOME)
    visitor.page.go_back()
    expect_step_two_refilled(visitor, person)


def test_without_javascript_a_failed_submit_keeps_step_two(nojs_visitor):
    visitor = nojs_visitor
    person = new_person(first_name="Marguerite")
    visitor.start_signup()
    visitor.fill_personal_info(person, terms=False)
    visitor.submit_personal_info()
    visitor.expect_errors("Vous devez accepter les conditions")
    expect(visitor.page.locator("#draft-status")).to_have_text(SAVED)
    visitor.page.goto("/inscription/")  # later, from the address bar
    expect_step_two_refilled(visitor, person)
    expect(visitor.field("Téléphone")).to_have_value(person.phone)
    check_axe(visitor.page, "brouillon sans JavaScript")


def test_without_javascript_the_draft_button_keeps_step_two(nojs_visitor):
    visitor = nojs_visitor
    person = new_person(first_name="Lise")
    type_half_of_step_two(visitor, person)
    visitor.button("Enregistrer le brouillon").click()
    expect_step_two_refilled(visitor, person)
    expect(visitor.error_summary).to_have_count(0)


def test_step_six_draft_survives_signing_out_and_in(visitor):
    person = visitor.sign_up_quickly()
    company = new_company("Ateliers Joliot")
    visitor.page.goto(pages.STRUCTURE_FORM_PATH)
    visitor.expect_step(pages.STRUCTURE_FORM)
    visitor.field("Raison sociale").fill(company.name)
    visitor.field("Ville").fill(company.city)
    visitor.field("Ville").blur()
    expect(visitor.page.locator("#draft-status")).to_have_text(SAVED)
    check_axe(visitor.page, "brouillon étape 6")
    visitor.sign_out()
    visitor.sign_in(person)
    visitor.expect_signed_in(person)
    visitor.page.goto(pages.STRUCTURE_FORM_PATH)
    expect(visitor.field("Raison sociale")).to_have_value(company.name)
    expect(visitor.field("Ville")).to_have_value(company.city)
    expect(visitor.page.locator("#draft-status")).to_have_text(SAVED)


def test_an_autosave_after_the_session_ended_sends_the_whole_page_to_sign_in(signed_in):
    """The session ends while « Mon compte » is open (« Se déconnecter
    partout », elsewhere): the next autosave takes the whole page to « Se
    connecter », never the sign-in form swapped into the draft's status
    line, and signing in comes back to « Mon compte »."""
    page = signed_in.page
    page.goto("/mon-compte/")
    token = page.locator("input[name='csrf_token']").first.input_value()
    ended = page.request.post("/mon-compte/deconnexion-partout", form={"csrf_token": token})
    assert ended.ok
    signed_in.field("Prénom").fill("Jeanne")
    signed_in.field("Prénom").blur()  # a change event: the autosave follows
    expect(page).to_have_url(re.compile(r"/connexion\?next=/mon-compte/$"))
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("form form")).to_have_count(0)
    signed_in.expect_step(pages.SIGN_IN)
    expect(signed_in.notice("Connectez-vous pour accéder à cette page.")).to_be_visible()
    signed_in.field("Adresse e-mail").fill(signed_in.person.email)
    signed_in.field("Mot de passe").fill(signed_in.person.password)
    signed_in.button("Se connecter").click()
    signed_in.expect_path(pages.ACCOUNT_PATH)  # the page itself, not « ?next=/mon-compte/ »
    signed_in.expect_step(pages.ACCOUNT)


def test_a_page_hidden_after_the_session_ended_keeps_its_line_and_then_goes_to_sign_in(signed_in):
    """The session ends elsewhere; « Prénom » is typed and the page hidden:
    the save sent as it hides is answered « sign in » (204, HX-Redirect),
    which leaves the draft's line as it was (never emptied); the autosave
    then takes the whole page to « Se connecter », as above."""
    page = signed_in.page
    page.goto("/mon-compte/")
    signed_in.field("Prénom").fill("Jeanne")
    signed_in.button("Enregistrer le brouillon").click()
    status = page.locator("#draft-status")
    expect(status).to_have_text(SAVED)
    token = page.locator("input[name='csrf_token']").first.input_value()
    assert page.request.post("/mon-compte/deconnexion-partout", form={"csrf_token": token}).ok
    signed_in.field("Prénom").fill("Josette")
    with page.expect_response(re.compile(r"/informations/brouillon$")) as answered:
        hide(page)
    assert answered.value.status == 204
    page.wait_for_timeout(100)  # the answer read
    expect(status).to_have_text(SAVED)
    expect(page).to_have_url(re.compile(r"/connexion\?next=/mon-compte/$"))


def test_another_form_of_mon_compte_sent_keeps_the_profile_typed_and_not_saved_yet(signed_in):
    """« Prénom » changed, then « Enregistrer mon choix » at once: the page
    comes back as stored, before the profile's autosave (500 ms after the
    field is left) has gone. What was typed is still in the field, and saved
    as the draft."""
    page = signed_in.page
    page.goto(pages.ACCOUNT_PATH)
    signed_in.field("Prénom").fill("Jeanne")
    signed_in.button("Enregistrer mon choix").click()
    expect(signed_in.notice("Votre consentement est retiré")).to_be_visible()
    expect(signed_in.field("Prénom")).to_have_value("Jeanne")
    expect(page.locator("#draft-status")).to_have_text(SAVED)
    page.reload()
    expect(signed_in.field("Prénom")).to_have_value("Jeanne")
    expect(page.locator("#profile-draft")).to_be_visible()


def test_the_profile_draft_thrown_away_stays_away_when_its_answer_is_slow(signed_in):
    """« Abandonner le brouillon » straight from a field changed: the field's
    autosave would go while a slow answer is on its way and bring the draft
    back. It is not sent, nor put back into the page drawn."""
    page = signed_in.page
    page.goto(pages.ACCOUNT_PATH)
    stored = signed_in.field("Prénom").input_value()
    signed_in.field("Prénom").fill("Jeanne")
    signed_in.button("Enregistrer le brouillon").click()
    expect(page.locator("#draft-status")).to_have_text(SAVED)
    page.reload()
    expect(page.locator("#profile-draft")).to_be_visible()
    saves = draft_saves(page)
    held(page, r"/abandonner")
    signed_in.field("Prénom").fill("Josette")
    page.get_by_role("button", name="Abandonner le brouillon").click()
    hide(page)  # meanwhile, as a phone's next app hides it: nothing is saved on the way out either
    expect(page.locator("#profile-draft")).to_have_count(0)
    expect(signed_in.field("Prénom")).to_have_value(stored)
    assert [url for url in saves if "abandonner" not in url] == []
    page.reload()
    expect(page.locator("#profile-draft")).to_have_count(0)
    expect(signed_in.field("Prénom")).to_have_value(stored)


def test_the_switch_sent_while_an_autosave_is_on_its_way_saves_what_it_carried(visitor):
    """« Raison sociale » saved by its autosave, still on its way when « Ville »
    is typed and « English » clicked: the switch's own save, queued behind it,
    never went (the page was left). What the switch carried is saved on the
    English page, so the draft holds it."""
    visitor.sign_up_quickly()
    company = new_company("Ateliers Joliot")
    page = visitor.page
    page.goto(pages.STRUCTURE_FORM_PATH)
    stuck = []
    page.route(re.compile(r"/brouillon$"), lambda route: route.continue_() if stuck else stuck.append(route))
    visitor.field("Raison sociale").fill(company.name)
    page.keyboard.press("Tab")  # its autosave, 500 ms later, held on its way
    for _ in range(100):
        if stuck:
            break
        page.wait_for_timeout(50)
    visitor.field("Ville").fill(company.city)
    saved = []  # what the saves that were answered held
    page.on("requestfinished", lambda request: "brouillon" in request.url and saved.append(request.post_data))
    page.get_by_role("button", name="English").click(no_wait_after=True)
    stuck[0].continue_()  # answered, or aborted as the page is left (net::ERR_ABORTED): not counted
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.field("City")).to_have_value(company.city)

    # Saved on the English page (500 ms after it is read): the only save
    # holding « Ville », typed after the held one left.
    def holds_the_city() -> bool:
        return any(parse_qs(held).get("city") == [company.city] for held in saved)

    for _ in range(100):
        if holds_the_city():
            break
        page.wait_for_timeout(50)
    assert holds_the_city(), saved
    page.goto(pages.STRUCTURE_FORM_PATH)  # the draft alone (nothing carried)
    expect(visitor.field("City")).to_have_value(company.city)
    expect(visitor.field("Company name")).to_have_value(company.name)


def test_the_search_link_takes_up_the_draft_for_its_siret_and_keeps_it_over_the_switch(visitor):
    """« Créer cette structure » (the attachment search's link) for the SIRET
    the step-6 draft was begun for: what was typed comes back, and stays
    over the language switch on that address."""
    visitor.sign_up_quickly()
    company = new_company("Ateliers Joliot")
    page = visitor.page
    page.goto(pages.STRUCTURE_FORM_PATH)
    visitor.field("Raison sociale").fill(company.name)
    visitor.field("Ville").fill(company.city)
    visitor.field("Ville").blur()
    expect(page.locator("#draft-status")).to_have_text(SAVED)
    page.goto(f"{pages.STRUCTURE_FORM_PATH}?siret={company.siret}")  # a draft with no identifier yet
    expect(visitor.identifier).to_have_value(company.siret)
    expect(visitor.field("Raison sociale")).to_have_value(company.name)
    expect(visitor.field("Ville")).to_have_value(company.city)
    expect(page.locator("#draft-set-aside")).to_have_count(0)
    visitor.field("Code postal").fill(company.postal_code)  # no pause: the switch saves the draft
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(re.escape(f"?siret={company.siret}") + "$"))
    expect(visitor.field("Company name")).to_have_value(company.name)
    expect(visitor.field("Postcode")).to_have_value(company.postal_code)
    expect(visitor.identifier).to_have_value(company.siret)


def draft_then_link(visitor):
    """A step-6 draft saved for one company, then the search's link for
    another opened: (the draft's company, the link's)."""
    drafted, linked = new_company("Ateliers Joliot"), new_company("Ateliers Curie")
    visitor.page.goto(pages.STRUCTURE_FORM_PATH)
    visitor.identifier.fill(drafted.siret)
    visitor.field("Raison sociale").fill(drafted.name)
    visitor.button("Enregistrer le brouillon").click()
    expect(visitor.page.locator("#draft-status")).to_have_text(SAVED)
    visitor.page.goto(f"{pages.STRUCTURE_FORM_PATH}?siret={linked.siret}")
    return drafted, linked


def test_the_search_link_for_another_siret_names_the_draft_it_leaves(any_visitor):
    """The draft was begun for one SIRET, the link names another: the form is
    the link's; the draft is named, and « Reprendre ce brouillon » brings it
    back as long as nothing was typed on the link's form."""
    visitor = any_visitor
    visitor.sign_up_quickly()
    drafted, linked = draft_then_link(visitor)
    page = visitor.page
    expect(visitor.identifier).to_have_value(linked.siret)
    expect(visitor.field("Raison sociale")).to_have_value("")
    notice = page.locator("#draft-set-aside")
    expect(notice).to_contain_text(f"pour l'identifiant {drafted.siret} n'est pas repris")
    expect(page.locator("#draft-status")).to_have_text("")
    check_axe(page, "brouillon laissé de côté")
    notice.get_by_role("link", name="Reprendre ce brouillon").click()
    expect(visitor.identifier).to_have_value(drafted.siret)
    expect(visitor.field("Raison sociale")).to_have_value(drafted.name)


def test_once_the_search_link_s_form_is_autosaved_the_notice_says_the_draft_is_replaced(visitor):
    visitor.sign_up_quickly()
    drafted, linked = draft_then_link(visitor)
    page = visitor.page
    expect(page.locator("#draft-set-aside")).to_contain_text(drafted.siret)
    visitor.field("Raison sociale").fill(linked.name)
    visitor.field("Raison sociale").blur()  # a change: the autosave
    expect(page.locator("#draft-status")).to_have_text(SAVED)
    expect(page.locator("#draft-set-aside")).to_have_text(
        "Ce formulaire remplace désormais le brouillon que vous aviez enregistré pour un autre identifiant."
    )
    expect(page.locator("#draft-set-aside").get_by_role("link")).to_have_count(0)


@pytest.mark.parametrize("network", ["fast", "slow"])
def test_the_language_switch_keeps_the_draft_the_search_link_set_aside(visitor, network):
    """On the link's form for another SIRET, the switch does not save that
    form over the draft the page says it leaves: the page comes back in
    English with the same notice, what was typed carried, and « Go back to
    that draft » brings the draft back.

    Leaving « Raison sociale » for « English » starts its autosave's delay
    (500 ms). A switch slower than that (a slow network) once let the
    autosave go while it was on its way, saving the link's form over the
    draft: the English page no longer named it, and the draft was lost.
    Nothing is sent from a page the switch is leaving."""
    visitor.sign_up_quickly()
    drafted, linked = draft_then_link(visitor)
    page = visitor.page
    expect(page.locator("#draft-set-aside")).to_contain_text(drafted.siret)
    saves = draft_saves(page)
    if network == "slow":
        held(page, r"/langue")
    visitor.field("Raison sociale").fill(linked.name)  # no pause: no autosave before the switch
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert saves == []
    expect(page.locator("#draft-set-aside")).to_contain_text(drafted.siret)
    expect(visitor.field("Company name")).to_have_value(linked.name)
    page.locator("#draft-set-aside").get_by_role("link").click()
    expect(visitor.identifier).to_have_value(drafted.siret)
    expect(visitor.field("Company name")).to_have_value(drafted.name)


def test_a_language_switch_that_did_not_leave_leaves_the_page_saving(visitor):
    """The switch sent, but the page not left (the browser's Stop; here its
    navigation cancelled): the person is still on the page, and what they
    type next is checked and saved as before."""
    visitor.sign_up_quickly()
    visitor.page.goto(pages.STRUCTURE_FORM_PATH)
    page = visitor.page
    company = new_company("Ateliers Perrin")
    page.evaluate("() => window.addEventListener('submit', event => event.preventDefault())")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#draft-status")).to_have_text(SAVED)  # the switch's own save, then no navigation
    saves = draft_saves(page)
    visitor.field("Raison sociale").fill(company.name)
    page.keyboard.press("Tab")
    for _ in range(100):  # the autosave's delay (500 ms), then its answer
        if saves:
            break
        page.wait_for_timeout(50)
    assert len(saves) == 1
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_a_step_sent_after_a_language_switch_that_did_not_leave_is_sent(visitor):
    """The same page, « Soumettre » clicked with nothing typed since: the step
    is sent (its errors show), and the form is not left busy."""
    visitor.sign_up_quickly()
    visitor.page.goto(pages.STRUCTURE_FORM_PATH)
    page = visitor.page
    page.evaluate("() => window.addEventListener('submit', event => event.preventDefault())")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#draft-status")).to_have_text(SAVED)
    visitor.button("Soumettre").click()
    expect(visitor.error_summary).to_be_visible()
    expect(page.locator("main form[aria-busy]")).to_have_count(0)


def test_back_to_the_draft_set_aside_sends_no_autosave_over_it(visitor):
    """« Reprendre ce brouillon » clicked straight from a field typed in: the
    field's autosave (500 ms after leaving it) would go while a slow page is
    on its way and save the link's form over the draft asked for. It is not
    sent: the draft comes back, and stays the draft."""
    visitor.sign_up_quickly()
    drafted, linked = draft_then_link(visitor)
    page = visitor.page
    saves = draft_saves(page)
    held(page, r"/structure/nouvelle$")
    visitor.field("Raison sociale").fill(linked.name)
    page.locator("#draft-set-aside").get_by_role("link").click()
    expect(visitor.identifier).to_have_value(drafted.siret)
    expect(visitor.field("Raison sociale")).to_have_value(drafted.name)
    assert saves == []
    page.unroute(re.compile(r"/structure/nouvelle$"))
    page.reload()
    expect(visitor.identifier).to_have_value(drafted.siret)
    expect(visitor.field("Raison sociale")).to_have_value(drafted.name)


def test_once_the_draft_set_aside_is_replaced_the_switch_saves_the_draft_first(visitor):
    """What was typed on the link's form has replaced the draft set aside (the
    notice says so): from then on the switch saves the draft first again, so
    the last field typed is in it, not only carried to the next page."""
    visitor.sign_up_quickly()
    drafted, linked = draft_then_link(visitor)
    page = visitor.page
    visitor.field("Raison sociale").fill(linked.name)
    page.keyboard.press("Tab")
    expect(page.locator("#draft-set-aside")).to_contain_text("remplace désormais")
    page.locator("#label").fill("Atelier du port")
    page.get_by_role("button", name="English").click()  # no pause: saved by the switch
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(pages.STRUCTURE_FORM_PATH)  # the draft alone (nothing carried)
    expect(page.locator("#label")).to_have_value("Atelier du port")
    expect(visitor.identifier).to_have_value(linked.siret)


def test_back_to_the_captcha_once_passed_shows_the_mail_sent_page(any_visitor):
    """Back from « Vérifiez votre messagerie »: the captcha step, asked for
    again, answers with the mail-sent page (an empty step 2 saying
    « Complétez d'abord vos informations personnelles » read as a failure)."""
    visitor = any_visitor
    person = visitor.create_account()
    visitor.expect_step(pages.MAIL_SENT)
    visitor.page.go_back()
    visitor.expect_path("/inscription/envoye")
    visitor.expect_step(pages.MAIL_SENT)
    expect(visitor.page.locator("main")).to_contain_text(person.email)
    expect(visitor.page.locator("main")).not_to_contain_text("Complétez d'abord")
    check_axe(visitor.page, "courriel envoyé après retour")
    visitor.page.go_back()
    visitor.expect_step(pages.PERSONAL_INFO)


def leave_step_two(visitor):
    visitor.start_signup()
    visitor.field("Prénom").fill("Irène")
    return "/inscription/", "Prénom", "Irène", visitor.page.locator("header .site-name")


def leave_step_six(visitor):
    visitor.sign_up_quickly()
    visitor.page.goto(pages.STRUCTURE_FORM_PATH)
    visitor.field("Raison sociale").fill("Ateliers Joliot")
    visitor.field("Ville").fill("Rennes")
    return pages.STRUCTURE_FORM_PATH, "Ville", "Rennes", visitor.nav_link(pages.ACCOUNT)


def leave_mon_compte(visitor):
    visitor.sign_up_quickly()
    visitor.page.goto(pages.ACCOUNT_PATH)
    visitor.field("Prénom").fill("Jeanne")
    return pages.ACCOUNT_PATH, "Prénom", "Jeanne", visitor.page.get_by_role("link", name="Plan du site")


@pytest.mark.parametrize("leave", [leave_step_two, leave_step_six, leave_mon_compte])
def test_a_link_followed_before_the_autosave_went_saves_the_draft_first(visitor, leave):
    """A field typed in, then a link of the header or the footer at once: the
    autosave still waited out its delay (2 s after typing, 500 ms after the
    field is left) when the page was left, and the field was missing from
    the draft the page came back to. The draft is saved first."""
    path, label, typed, link = leave(visitor)
    page = visitor.page
    link.click()
    expect(page).not_to_have_url(re.compile(re.escape(path) + "$"))
    visitor.expect_ready()
    page.goto(path)
    expect(visitor.field(label)).to_have_value(typed)
    expect(page.locator("#draft-status")).to_have_text(SAVED)


def test_a_link_followed_while_an_autosave_is_on_its_way_saves_what_was_typed_since(visitor):
    """« Raison sociale » left: its autosave is on its way (a slow network)
    when « Ville » is typed and « Mon compte » clicked. The link's save waits
    for it (htmx would queue it and answer at once, and the page be left
    before it went), then goes, then the link is followed."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(pages.STRUCTURE_FORM_PATH)
    held(page, r"/nouvelle/brouillon$", first_only=True)
    visitor.field("Raison sociale").fill("Ateliers Joliot")
    page.keyboard.press("Tab")
    expect(page.locator("#draft-status")).to_have_class(re.compile(r"\bhtmx-request\b"))
    visitor.field("Ville").fill("Rennes")
    visitor.nav_link(pages.ACCOUNT).click()
    expect(page).to_have_url(re.compile(re.escape(pages.ACCOUNT_PATH) + "$"))
    page.unroute(re.compile(r"/nouvelle/brouillon$"))
    page.goto(pages.STRUCTURE_FORM_PATH)
    expect(visitor.field("Raison sociale")).to_have_value("Ateliers Joliot")
    expect(visitor.field("Ville")).to_have_value("Rennes")


def test_a_link_is_followed_when_the_draft_cannot_be_saved(visitor, console_allows):
    """The network fails as the link saves the draft: the link is followed
    all the same, never left waiting."""
    console_allows += [r"net::ERR_", r"htmx:(afterRequest|sendError)"]
    visitor.start_signup()
    page = visitor.page
    page.route(re.compile(r"/inscription/brouillon$"), lambda route: route.abort())
    visitor.field("Prénom").fill("Irène")
    page.get_by_role("link", name="Plan du site").click()
    expect(page).to_have_url(re.compile(r"/plan-du-site$"))


def test_a_link_opened_in_a_new_tab_leaves_the_page_and_its_autosave_as_they_were(visitor):
    """Ctrl+click opens « Plan du site » in a new tab: this page stays, sends
    no save of its own for the link, and its autosave goes as it would."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(pages.STRUCTURE_FORM_PATH)
    saves = draft_saves(page)
    visitor.field("Raison sociale").fill("Ateliers Joliot")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Plan du site").click(modifiers=["Control"])
    opened.value.close()
    expect(page).to_have_url(re.compile(r"/structure/nouvelle$"))
    assert saves == []  # 2 s after typing, not at the click
    expect(page.locator("#draft-status")).to_have_text(SAVED)
    assert len(saves) == 1


def test_signing_out_before_the_autosave_went_saves_the_draft_first(visitor):
    """« Ville » typed, then « Se déconnecter » at once (a form sent without
    htmx): the draft is saved before signing out, and step 6 comes back
    with it once signed in again."""
    person = visitor.sign_up_quickly()
    page = visitor.page
    page.goto(pages.STRUCTURE_FORM_PATH)
    visitor.field("Raison sociale").fill("Ateliers Joliot")
    visitor.field("Ville").fill("Rennes")
    visitor.sign_out()
    visitor.sign_in(person)
    visitor.expect_signed_in(person)
    page.goto(pages.STRUCTURE_FORM_PATH)
    expect(visitor.field("Raison sociale")).to_have_value("Ateliers Joliot")
    expect(visitor.field("Ville")).to_have_value("Rennes")


def back(page) -> None:
    page.go_back()


def address_typed(page) -> None:
    page.goto("/plan-du-site")


def tab_closed(page) -> None:
    with page.expect_event("close"):
        page.close(run_before_unload=True)  # as a person closes it: the page's own handlers run


@pytest.mark.parametrize("way_out", [back, address_typed, tab_closed])
@pytest.mark.parametrize("leave", [leave_step_two, leave_step_six, leave_mon_compte])
def test_a_page_the_browser_leaves_before_the_autosave_went_keeps_what_was_typed(visitor, leave, way_out):
    """A field typed in, the cursor still in it, then the browser's Back, an
    address typed or the tab closed at once: the autosave (2 s after typing)
    had not gone. The page sends what was typed as it goes (after the page,
    where Playwright no longer reports its requests), and another tab finds
    it in the draft."""
    path, label, typed, _link = leave(visitor)
    other = another_tab(visitor)
    way_out(visitor.page)
    expect_draft_holds(other, path, label, typed)
    expect(other.page.locator("#draft-status")).to_have_text(SAVED)


def test_a_page_hidden_before_the_autosave_went_saves_the_draft_and_says_so(visitor):
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(pages.STRUCTURE_FORM_PATH)
    saves = draft_saves(page)
    visitor.field("Ville").fill("Rennes")
    hide(page)
    # At once, not as the autosave would 2 s after typing; the page, shown again, says so
    expect(page.locator("#draft-status")).to_have_text(SAVED, timeout=1500)
    assert len(saves) == 1
    expect_draft_holds(another_tab(visitor), pages.STRUCTURE_FORM_PATH, "Ville", "Rennes")


def test_a_page_hidden_with_nothing_typed_since_its_last_save_sends_nothing(visitor):
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(pages.STRUCTURE_FORM_PATH)
    visitor.field("Ville").fill("Rennes")
    visitor.button("Enregistrer le brouillon").click()
    expect(page.locator("#draft-status")).to_have_text(SAVED)
    saves = draft_saves(page)
    hide(page)
    page.wait_for_timeout(300)  # what the page would send goes at once
    assert saves == []


def test_attack_closing_the_search_link_s_page_leaves_the_draft_it_set_aside(visitor):
    """The search's « Créer cette structure » for another SIRET, only looked
    at, then closed: nothing was typed there, so nothing is saved over the
    draft it set aside (a save on the way out would replace it with the
    link's form)."""
    visitor.sign_up_quickly()
    drafted, _linked = draft_then_link(visitor)
    page = visitor.page
    saves = draft_saves(page)
    other = another_tab(visitor)
    visitor.identifier.focus()
    hide(page)
    page.wait_for_timeout(300)  # what the page would send goes at once
    assert saves == []
    tab_closed(page)
    other.page.goto(pages.STRUCTURE_FORM_PATH)
    expect(other.identifier).to_have_value(drafted.siret)
    expect(other.field("Raison sociale")).to_have_value(drafted.name)


def test_a_step_sent_then_its_page_hidden_sends_no_draft_after_it(visitor):
    """« Continuer » clicked, then the page hidden while the step is on its
    way: the step keeps what it holds; no save of the draft follows it (it
    would take back the step's « sent » mark)."""
    person = new_person()
    visitor.start_signup()
    page = visitor.page
    visitor.fill_personal_info(person)
    expect(page.locator("#draft-status")).to_have_text(SAVED)
    visitor.field("Nom").press("End")
    visitor.field("Nom").type("e")  # typed since the last save
    saves = draft_saves(page)
    held(page, r"/inscription/$")
    visitor.button("Continuer").click()
    expect(page.locator("main form[aria-busy]")).to_have_count(1)
    hide(page)
    visitor.expect_step(pages.CAPTCHA)
    assert saves == []


# -- saves answered out of order ----------------------------------------------------------


def draft_orders(page) -> list[tuple[str, str]]:
    """(address, « draft_order ») of each request the page sends from now on
    (none for a request without one)."""
    sent = []

    def record(request):
        if request.method == "POST":
            order = parse_qs(request.post_data or "").get("draft_order", [""])[0]
            sent.append((request.url.split("/", 3)[3], order))

    page.on("request", record)
    return sent


def test_each_save_of_a_page_is_numbered_after_the_one_before(visitor):
    """The autosave, « Enregistrer le brouillon », the save sent as the page
    hides and the step sent each carry the page's id and the next number; a
    field's live check carries none."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(pages.STRUCTURE_FORM_PATH)
    sent = draft_orders(page)
    visitor.field("Ville").fill("Rennes")
    visitor.field("Code postal").focus()
    expect(page.locator("#draft-status")).to_have_text(SAVED)
    visitor.field("Code postal").fill("35000")
    visitor.button("Enregistrer le brouillon").click()
    page.wait_for_function("() => !document.querySelector('#draft-status.htmx-request')")
    visitor.field("Ville").fill("Rennes 2e")
    hide(page)
    page.wait_for_timeout(300)
    visitor.button("Soumettre").click()
    expect(page.locator(".error-summary")).to_be_visible()
    saves = [(path, order) for path, order in sent if order]
    assert [path for path, _ in saves][-1] == "structure/nouvelle" and len(saves) >= 4
    pages_ids = {order.split(".")[0] for _, order in saves}
    assert len(pages_ids) == 1 and re.fullmatch(r"[A-Za-z0-9]{9}", pages_ids.pop())
    numbers = [int(order.split(".")[1]) for _, order in saves]
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(not order for path, order in sent if "/champ/" in path or "identifiant" in path)


def test_an_autosave_answered_after_the_save_sent_as_the_page_hid_never_replaces_it(visitor):
    """A slow network: the autosave of « Rennes » is on its way when « Rennes
    2e » is typed and the page hidden; the save sent then is answered first,
    the autosave after it. The draft keeps « Rennes 2e »."""
    visitor.sign_up_quickly()
    page = visitor.page
    page.goto(pages.STRUCTURE_FORM_PATH)
    held(page, r"/structure/nouvelle/brouillon$", first_only=True)
    visitor.field("Ville").fill("Rennes")
    with page.expect_request(re.compile(r"/brouillon$")):
        visitor.field("Code postal").focus()  # the autosave goes 500 ms after the field is left
    visitor.field("Ville").fill("Rennes 2e")
    with page.expect_response(lambda answer: "Rennes&" in (answer.request.post_data or "")):
        hide(page)  # the save sent as the page hides goes at once, and is answered first
    other = another_tab(visitor)
    other.page.goto(pages.STRUCTURE_FORM_PATH)  # before the next autosave (2 s after typing)
    expect(other.field("Ville")).to_have_value("Rennes 2e")
