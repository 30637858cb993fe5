"""What a screen reader hears while a person types: the live checks speak of
what changed, once — a field's new error, a rule of the password becoming
met — and an autosave that says again what the status line says is not read
out again (#announcer and the draft's status line are the live regions)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support.visitor import ANSWERED

pytestmark = pytest.mark.browser

# Every text the announcer takes from now on (it is emptied, then filled).
LISTEN = """() => {
  window.__said = [];
  const region = document.getElementById("announcer");
  new MutationObserver(() => {
    const text = region.textContent.trim();
    if (text) window.__said.push(text);
  }).observe(region, {childList: true, characterData: true, subtree: true});
}"""
# Each change of the draft's status line (a live region: each is read out).
WATCH_STATUS = """() => {
  window.__statusChanges = 0;
  new MutationObserver((records) => { window.__statusChanges += records.length; })
    .observe(document.getElementById("draft-status"), {childList: true, characterData: true, subtree: true});
}"""
IN_A_LIVE_REGION = "e => Boolean(e.closest('[aria-live], [role=status], [role=alert], [role=log]'))"


def said(page) -> list[str]:
    page.wait_for_function(ANSWERED)
    page.wait_for_timeout(200)  # the announcer is filled 50 ms after being emptied
    return page.evaluate("() => window.__said")


def test_the_password_checklist_reads_out_only_a_rule_whose_state_changes(visitor):
    page = visitor.page
    person = visitor.create_account()
    visitor.open_activation_link(person)
    rules = page.locator("#password-rules")
    # The list itself is no live region: replaced at each key, it would be read whole each time.
    assert not rules.evaluate(IN_A_LIVE_REGION)
    page.evaluate(LISTEN)

    visitor.field("Nouveau mot de passe").focus()
    # One key at a time, each one checked (150 ms after the last key): its
    # check answered before the next key. A pause of fixed length is not
    # enough: a check still on its way holds the next one back (htmx queues
    # it), which then leaves with two keys and says only where both lead.
    for key in "abcdefghjkmn7Q":
        with page.expect_response(re.compile(r"/mot-de-passe/regles$")):
            page.keyboard.type(key)
    expect(rules.locator(":scope > li.checklist__item--ok")).to_have_count(2)

    assert said(page) == [
        "Au moins 3 types de caractères parmi les 4 suivants (1 sur 3) : non respecté",
        "12 caractères minimum : respecté",
        "Au moins 3 types de caractères parmi les 4 suivants (2 sur 3) : non respecté",
        "Au moins 3 types de caractères parmi les 4 suivants (3 sur 3) : respecté",
    ]


def test_a_new_step_is_read_out_once(visitor):
    """The step's title (with what happened) is said once, not once more for
    each part the answer swaps out of band (the header's nav, with every step)."""
    page = visitor.page
    page.goto("/")
    page.evaluate(LISTEN)
    visitor.link("Créer un compte").click()
    visitor.expect_step("Informations personnelles")
    assert said(page) == ["Informations personnelles"]


def test_an_inline_check_reads_out_a_new_error_once(visitor):
    page = visitor.page
    visitor.start_signup()
    said(page)  # the step's own announcement, first
    page.evaluate(LISTEN)
    email = visitor.field("Adresse e-mail")
    email.fill("marie.curie@")
    page.keyboard.press("Tab")
    expect(page.locator("#email-error")).to_be_visible()
    [heard] = said(page)
    assert re.match(r"^Adresse e-mail\. Erreur : .*adresse e-mail", heard), heard
    expect(page.locator("#announcer")).to_have_text(heard)

    # The same check answering the same error again says nothing new.
    page.evaluate("() => { window.__said = []; }")
    page.evaluate("() => window.htmx.trigger(document.getElementById('email'), 'change')")
    assert said(page) == []

    # Corrected: the error goes, silently; wrong again: it is read out again.
    email.fill("marie.curie@exemple.fr")
    page.keyboard.press("Tab")
    expect(page.locator("#email-error")).to_have_count(0)
    assert said(page) == []
    email.fill("marie.curie@")
    page.keyboard.press("Tab")
    expect(page.locator("#email-error")).to_be_visible()
    assert len(said(page)) == 1


def test_an_autosave_that_says_the_same_is_not_read_out_again(visitor):
    page = visitor.page
    visitor.start_signup()
    status = page.locator("#draft-status")
    with page.expect_response(re.compile(r"/inscription/brouillon$")):
        visitor.field("Prénom").fill("Marie")
        page.keyboard.press("Tab")
    expect(status).to_have_text(re.compile(r"^Brouillon enregistré à \d\d:\d\d$"))
    before = status.text_content()
    page.evaluate(WATCH_STATUS)

    with page.expect_response(re.compile(r"/inscription/brouillon$")):
        visitor.field("Nom").fill("Curie")
        page.keyboard.press("Tab")
    visitor.expect_answered()  # its answer in place, or not swapped
    changes = page.evaluate("() => window.__statusChanges")
    if status.text_content() == before:  # saved again within the same minute
        assert changes == 0
    else:  # the minute changed: the new time is said
        assert changes > 0
