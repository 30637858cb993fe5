"""When the network or the server fails under htmx, and while a step loads:
the form and what was typed stay, a notice (role="alert", in #flashes) says
what happened, the form is busy (aria-busy) while it is sent and the button
that sent it shows so; the captcha's audio player says when it is refused or
cannot load.
Route interception fakes the proxy (nginx's maintenance page), the network
failing, a slow answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from challenges import bank
from tests.browser.support import pages
from tests.browser.support.people import new_person

pytestmark = pytest.mark.browser

MAINTENANCE = (Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "maintenance.html").read_text()
UNAVAILABLE = "Le service est momentanément indisponible. Réessayez dans quelques instants."
OFFLINE = "La connexion au service a échoué. Vérifiez votre connexion puis réessayez."
AUDIO_UNLOADED = (
    "Écoute indisponible pour le moment : vérifiez votre connexion, patientez quelques minutes ou "
    "demandez une nouvelle image."
)
SIGNUP = re.compile(r"/inscription/$")
# The form is sent no more: not busy, its button shows nothing.
NOTHING_SENDING = "() => !document.querySelector('[aria-busy], [data-sending]')"
# What Chromium and htmx log of a failed request (htmx logs its error events).
ANSWERED = [r"status of [45]\d\d", r"Response Status Error Code [45]\d\d"]
UNANSWERED = [r"net::ERR_", r"htmx:(afterRequest|sendError|timeout)"]

# The form while it is sent, and its button « Continuer » (its bar, ::after).
SENDING_STATE = """() => {
  const form = document.querySelector("main form");
  const button = [...form.querySelectorAll("button")].find(b => b.textContent.trim() === "Continuer");
  const bar = getComputedStyle(button, "::after");
  const box = button.getBoundingClientRect();
  return {
    busy: form.getAttribute("aria-busy"), sending: button.hasAttribute("data-sending"),
    others: form.querySelectorAll("[data-sending]").length,
    bar: bar.content, animation: bar.animationName,
    cursor: getComputedStyle(button).cursor, width: box.width, height: box.height,
  };
}"""


def on_post(page, url, answer):
    """``answer(route)`` for the POSTs to ``url``; everything else goes through."""
    page.route(url, lambda route: answer(route) if route.request.method == "POST" else route.continue_())


def alert(page):
    return page.locator("#flashes [role=alert]")


def expect_form_kept(visitor, person):
    visitor.expect_step(pages.PERSONAL_INFO)
    expect(visitor.field("Adresse e-mail")).to_have_value(person.email)
    expect(visitor.field("Nom")).to_have_value(person.last_name)
    expect(visitor.field("J'accepte les conditions")).to_be_checked()
    assert visitor.page.evaluate(NOTHING_SENDING)


def test_a_proxy_maintenance_page_keeps_the_form_and_says_the_service_is_unavailable(visitor, console_allows):
    """During a restart nginx answers 503 with its own whole page: it is not
    swapped over the step; the app's own 503 notice is said instead."""
    page = visitor.page
    console_allows += ANSWERED
    person = new_person()
    visitor.start_signup()
    visitor.fill_personal_info(person)
    on_post(
        page,
        SIGNUP,
        lambda route: route.fulfill(
            status=503, body=MAINTENANCE, headers={"Content-Type": "text/html", "Retry-After": "10"}
        ),
    )
    visitor.submit_personal_info()
    expect(alert(page)).to_have_text(UNAVAILABLE)
    expect(alert(page)).to_have_class(re.compile(r"\bnotice--error\b"))
    expect(page.get_by_text("Le service redémarre.")).to_have_count(0)
    expect_form_kept(visitor, person)

    page.unroute(SIGNUP)
    visitor.submit_personal_info()  # the service is back: the same form goes on
    visitor.expect_step(pages.CAPTCHA)


def test_a_proxy_error_on_the_password_step_keeps_the_passwords_typed(visitor, console_allows):
    """The password's step has its #flashes too (the server's own notices,
    a stale form's, land there as well); what answers is a bare 502."""
    page = visitor.page
    console_allows += ANSWERED
    person = visitor.create_account()
    visitor.open_activation_link(person)
    visitor.field("Nouveau mot de passe").fill(person.password)
    visitor.field("Confirmation du nouveau mot de passe").fill(person.password)
    bad_gateway = lambda route: route.fulfill(status=502, body="Bad Gateway")  # noqa: E731
    on_post(page, re.compile(r"/activation/[^/]+$"), bad_gateway)
    visitor.button("Soumettre").click()
    expect(alert(page)).to_have_text(UNAVAILABLE)
    expect(visitor.field("Nouveau mot de passe")).to_have_value(person.password)
    expect(visitor.field("Confirmation du nouveau mot de passe")).to_have_value(person.password)
    assert page.evaluate(NOTHING_SENDING)


def test_attack_a_foreign_error_answer_puts_none_of_its_markup_on_the_page(visitor, console_allows):
    """An error answer without the portal's header (a proxy, something in
    between) may hold markup meant to be swapped, out of band too: none of it
    reaches the page."""
    page = visitor.page
    console_allows += ANSWERED
    person = new_person()
    visitor.start_signup()
    visitor.fill_personal_info(person)
    forged = (
        '<nav id="account-nav" data-hx-swap-oob="true"><a href="https://evil.example/">Se connecter</a></nav>'
        '<div id="flashes" data-hx-swap-oob="true"><p role="alert">Saisissez votre mot de passe ici</p></div>'
        "<h1>Faux</h1>"
    )
    headers = {"HX-Reswap": "outerHTML"}
    on_post(page, SIGNUP, lambda route: route.fulfill(status=500, body=forged, headers=headers))
    visitor.submit_personal_info()
    expect(alert(page)).to_have_text(UNAVAILABLE)
    expect(page.locator("a[href*='evil.example']")).to_have_count(0)
    expect(page.get_by_text("Saisissez votre mot de passe ici")).to_have_count(0)
    expect_form_kept(visitor, person)


def test_the_portals_own_error_answers_are_still_swapped(visitor, console_allows):
    """The notice is for answers that are not the portal's: its own 404 page
    (a request that no longer exists) still replaces the step."""
    page = visitor.page
    console_allows += ANSWERED
    visitor.start_signup()
    form = page.locator("main form")
    form.evaluate("f => { f.setAttribute('data-hx-post', '/inscription/nulle'); window.htmx.process(f); }")
    visitor.submit_personal_info()
    visitor.expect_step("Page introuvable")
    expect(alert(page)).to_have_count(0)


@pytest.mark.parametrize("failure", ["connectionrefused", "timedout", "internetdisconnected"])
def test_a_network_failure_says_so_and_keeps_the_form(visitor, console_allows, failure):
    page = visitor.page
    console_allows += UNANSWERED
    person = new_person()
    visitor.start_signup()
    visitor.fill_personal_info(person)
    on_post(page, SIGNUP, lambda route: route.abort(failure))
    visitor.submit_personal_info()
    expect(alert(page)).to_have_text(OFFLINE)
    expect_form_kept(visitor, person)

    # Sent again and failing again, it is said again (a new alert), once.
    page.evaluate("() => { document.querySelector('#flashes [role=alert]').dataset.old = '1'; }")
    visitor.submit_personal_info()
    expect(page.locator("#flashes [role=alert]:not([data-old])")).to_have_count(1)
    expect(alert(page)).to_have_count(1)
    expect_form_kept(visitor, person)

    page.unroute(SIGNUP)
    visitor.submit_personal_info()
    visitor.expect_step(pages.CAPTCHA)
    expect(alert(page)).to_have_count(0)  # the notice went with the step it was about


def test_a_step_being_sent_is_busy_and_its_button_shows_it(visitor):
    """For the time the answer takes, the form is aria-busy and the button
    that sent it shows a bar (a cursor of progress), taking no room; two
    clicks still send it once."""
    page = visitor.page
    person = new_person()
    visitor.start_signup()
    visitor.fill_personal_info(person)
    button = visitor.button("Continuer")
    before = button.bounding_box()
    during = {}
    posts = []

    def slow(route):
        posts.append(route.request.url)
        if len(posts) == 1:
            page.wait_for_timeout(300)  # the second click lands meanwhile
            during.update(page.evaluate(SENDING_STATE))
            page.wait_for_timeout(700)
        route.continue_()

    on_post(page, SIGNUP, slow)
    button.click(no_wait_after=True)
    page.wait_for_timeout(100)
    button.click(no_wait_after=True)
    visitor.expect_step(pages.CAPTCHA)
    page.wait_for_timeout(300)
    assert len(posts) == 1
    assert during["busy"] == "true"
    assert during["sending"] is True and during["others"] == 1  # that button only
    assert during["bar"] != "none" and during["animation"] == "sending"
    assert during["cursor"] == "progress"
    assert (during["width"], during["height"]) == (before["width"], before["height"])  # no layout shift
    assert page.evaluate(NOTHING_SENDING)


def test_a_live_check_answering_while_the_step_is_sent_leaves_it_busy(visitor):
    """Leaving « Téléphone » for « Continuer » sends its live check, then the
    step. The check's answer redraws the field and so removes the element
    that asked; htmx then says « afterRequest » on the closest one left, the
    form, as if the form's own request had ended. The step still being sent,
    the form stays busy and its button shows it."""
    page = visitor.page
    visitor.start_signup()
    visitor.fill_personal_info(new_person())
    # Ticking the terms box left « Téléphone »: that check is answered first.
    # Still on its way, htmx would queue the next one behind it, and by then
    # the step is being sent: a queued check is not sent then (app.js).
    visitor.expect_answered()
    during, marked = {}, []
    phone = visitor.field("Téléphone")
    unmarked = "() => !document.querySelector('input[data-asked]')"

    def slow_check(route):
        page.wait_for_timeout(300)
        # The field as it is when this check goes on: its answer redraws it.
        phone.evaluate("input => input.setAttribute('data-asked', '')")
        marked.append(True)
        route.continue_()

    def redrawn() -> bool:
        return bool(marked) and page.evaluate(unmarked)

    def slow_step(route):
        for _ in range(100):  # the live check answers meanwhile (5 s at most)
            if redrawn():
                break
            page.wait_for_timeout(50)
        during.update(page.evaluate(SENDING_STATE), redrawn=redrawn())
        route.continue_()

    page.route(re.compile(r"/inscription/champ/phone$"), slow_check)
    on_post(page, SIGNUP, slow_step)
    phone.fill("06 12 34 56 78")  # changed: checked as it is left
    visitor.button("Continuer").click(no_wait_after=True)
    visitor.expect_step(pages.CAPTCHA)
    # The live check was answered, and its field redrawn, while the step was held.
    assert during["redrawn"] is True
    assert during["busy"] == "true" and during["sending"] is True
    assert page.evaluate(NOTHING_SENDING)


def test_the_sending_bar_stands_still_when_motion_is_reduced(visitor):
    page = visitor.page
    page.emulate_media(reduced_motion="reduce")
    visitor.start_signup()
    button = visitor.button("Continuer")
    button.evaluate("b => b.setAttribute('data-sending', '')")
    assert button.evaluate("b => getComputedStyle(b, '::after').content") != "none"
    assert button.evaluate("b => getComputedStyle(b, '::after').animationName") == "none"


def at_the_captcha(visitor) -> None:
    """Step 2 filled and sent: the captcha's step."""
    visitor.start_signup()
    visitor.fill_personal_info(new_person())
    visitor.submit_personal_info()
    visitor.expect_step(pages.CAPTCHA)


def test_the_captcha_audio_says_when_listening_is_refused(visitor, console_allows):
    """Each challenge's audio is fetched a few times only (views/captcha.py
    refuses it then): the player, which cannot show a 429, plays a recording
    that says why instead of staying silent; a new image brings a player
    that works."""
    page = visitor.page
    console_allows += ANSWERED
    at_the_captcha(visitor)
    src = page.locator("audio").get_attribute("src")
    answers = [page.request.get(src).status for _ in range(8)]
    assert 429 in answers  # the limit is reached

    with page.expect_response(lambda response: response.url.endswith(src)) as refused:
        page.locator("audio").evaluate("a => a.play().catch(() => null)")
    assert refused.value.status == 200 and refused.value.body() == bank.refusal("fr")
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
    assert page.locator("audio").evaluate("a => a.error === null && a.duration > 3")
    expect(page.locator("#captcha-audio-status")).to_have_text("")

    visitor.button("Nouvelle image").click()
    expect(page.locator("audio")).not_to_have_attribute("src", src)  # the new challenge's
    assert page.request.get(page.locator("audio").get_attribute("src")).status == 200


def test_the_captcha_audio_player_that_cannot_load_says_so(visitor, console_allows):
    """The network fails, the challenge is gone: the line under the player
    says listening is unavailable, where the player says nothing."""
    page = visitor.page
    console_allows += UNANSWERED
    at_the_captcha(visitor)
    status = page.locator("#captcha-audio-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("")
    described = page.locator("audio").get_attribute("aria-describedby")
    assert described == "captcha-audio-status"
    page.route("**/captcha/*.wav", lambda route: route.abort("connectionrefused"))
    page.locator("audio").evaluate("a => a.play().catch(() => null)")
    expect(status).to_have_text(AUDIO_UNLOADED)


def test_without_javascript_the_refused_audio_is_heard(nojs_visitor, console_allows):
    """Nothing on the page can say it without JavaScript: the player does."""
    visitor, page = nojs_visitor, nojs_visitor.page
    console_allows += ANSWERED
    at_the_captcha(visitor)
    src = page.locator("audio").get_attribute("src")
    assert 429 in [page.request.get(src).status for _ in range(8)]
    with page.expect_response(lambda response: response.url.endswith(src)) as refused:
        page.locator("audio").evaluate("a => a.play().catch(() => null)")
    assert refused.value.status == 200 and refused.value.body() == bank.refusal("fr")
