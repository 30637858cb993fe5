"""Forms as everybody first sees them, rendered once (issue 11, P2): a new
password's fields and the rule's checklist on step 4 (activation) and on a
reset link (a quarter of the activation page's CPU), the attachment search
on step 5 and on its own page. What is kept must be the part a fresh render
gives, and never carry one person's typing, error or language to another.
Attacks are named after what they try."""

from __future__ import annotations

import pytest

import views
import views.activation
import views.recovery
import views.structure
from tests.support.app import Client, HtmxClient
from tests.support.constants import EMAIL
from tests.support.responses import text_of, without_tokens
from tests.support.signup import PERSON, Signup
from tests.support.structures import new_client
from tests.test_lifecycle_reset import ask_reset, reset_links
from tests.test_perf_step6 import fields_rendered, speaking

FIELDS = "_password/fields.html"
LUCIE = {
    **PERSON,
    "email": "lucie.martin@exemple.fr",
    "email_confirm": "lucie.martin@exemple.fr",
    "first_name": "Lucie",
}
PIERRE = {
    **PERSON,
    "email": "pierre.durand@exemple.fr",
    "email_confirm": "pierre.durand@exemple.fr",
    "first_name": "Pierre",
    "last_name": "Durand",
}


def kept_fields(app) -> dict:
    return {key: part for key, part in app.extensions.get("shared_parts", {}).items() if key[0] == FIELDS}


def browser(app, htmx: bool = False, language: str = "fr") -> Client:
    app.test_client_class = HtmxClient if htmx else Client
    return speaking(app.test_client(), language)


def activation_link(client: Client, mailbox, person: dict = PERSON) -> str:
    """An account signed up on ``client``, waiting for its password: its link."""
    mode, client.htmx = client.htmx, False
    signup = Signup(client, mailbox)
    signup.create_account(**person)
    client.htmx = mode
    return signup.activation_path(person["email"].lower())


def afresh(client: Client, path: str, monkeypatch) -> str:
    """The page as its template renders it whole (nothing kept is used)."""
    with monkeypatch.context() as patch:
        patch.setattr(views.activation, "blank_password_fields", lambda form: None)
        patch.setattr(views.recovery, "blank_password_fields", lambda form: None)
        return text_of(client.get(path))


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_step_4_from_the_kept_fields_is_the_page_rendered_afresh(app, mailbox, monkeypatch, htmx, language):
    client = browser(app, htmx, language)
    link = activation_link(client, mailbox)
    whole = afresh(client, link, monkeypatch)
    assert not kept_fields(app)
    first = text_of(client.get(link))
    assert fields_rendered(app, lambda: client.get(link), FIELDS) == 0
    again = text_of(client.get(link))
    assert len(kept_fields(app)) == 1
    assert without_tokens(first) == without_tokens(again) == without_tokens(whole)
    assert ("Nouveau mot de passe" in first) is (language == "fr")
    assert ("<!doctype html>" in first) is not htmx
    assert "12 caractères" in first or "12 characters" in first  # the rule's checklist is there


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_reset_link_from_the_kept_fields_is_the_page_rendered_afresh(
    app, account, mailbox, monkeypatch, htmx
):
    client = browser(app, htmx)
    ask_reset(client)
    [link] = reset_links(mailbox)
    whole = afresh(client, link, monkeypatch)
    first = text_of(client.get(link))
    assert fields_rendered(app, lambda: client.get(link), FIELDS) == 0
    assert without_tokens(first) == without_tokens(text_of(client.get(link))) == without_tokens(whole)
    ((key, _part),) = kept_fields(app).items()
    assert key == (FIELDS, "fr", "", "NewPasswordForm", "password", "password_confirm")


def test_the_fields_are_rendered_once_for_everybody_and_hold_nobody(app, mailbox):
    marie, pierre = browser(app), browser(app)
    marie_link, pierre_link = activation_link(marie, mailbox), activation_link(pierre, mailbox, PIERRE)
    pages = []

    def visits():
        pages.append(marie.get(marie_link).get_data(as_text=True))
        pages.append(pierre.get(pierre_link).get_data(as_text=True))

    assert fields_rendered(app, visits, FIELDS) == 1
    ((key, part),) = kept_fields(app).items()
    assert key == (FIELDS, "fr", "", "ActivationForm", "password", "password_confirm")
    assert part in pages[0] and part in pages[1]
    assert EMAIL in pages[0] and PIERRE["email"] in pages[1]  # each one's account named on the page
    for own in (EMAIL, PIERRE["email"], "Marie", "Pierre", "Curie", "Durand"):
        assert own not in part


def test_attack_a_password_refused_with_its_errors_is_never_kept_for_others(app, mailbox):
    """A weak password sent (its page answers with the checklist and the
    errors) leaves the part everybody is shown as blank as it was."""
    marie, pierre = browser(app), browser(app)
    marie_link, pierre_link = activation_link(marie, mailbox), activation_link(pierre, mailbox, PIERRE)
    refused = marie.submit(marie_link, {"password": "motdepasse", "password_confirm": "autre"})
    assert refused.status_code == 422
    refused_page = refused.get_data(as_text=True)
    assert 'aria-invalid="true"' in refused_page
    assert not kept_fields(app)  # the page with errors rendered its own
    pierre_page = pierre.get(pierre_link).get_data(as_text=True)
    ((_key, part),) = kept_fields(app).items()
    assert part in pierre_page
    assert 'aria-invalid="true"' not in pierre_page and "Erreur" not in pierre_page
    assert part not in refused_page


def test_attack_the_fields_of_another_language_are_never_shown(app, mailbox):
    """Each language has its own part: an English page never shows the
    French one kept first, nor the other way round."""
    french, english = browser(app), browser(app, language="en")
    french_link, english_link = activation_link(french, mailbox), activation_link(english, mailbox, PIERRE)
    french_page, english_page = text_of(french.get(french_link)), text_of(english.get(english_link))
    assert len(kept_fields(app)) == 2
    assert "Confirmation du nouveau mot de passe" in french_page
    assert "Confirmation du nouveau mot de passe" not in english_page


# -- the attachment search ---------------------------------------------------------------
SEARCH = "structure/_search_form.html"
STEP_5 = "/structure/"
SEARCH_PAGE = "/structure/rattachement"


def kept_search(app) -> dict:
    return {key: part for key, part in app.extensions.get("shared_parts", {}).items() if key[0] == SEARCH}


def search_afresh(client: Client, path: str, monkeypatch) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(
            views.structure,
            "shared_part",
            lambda template, _on, context: views._rendered_part(template, context),
        )
        return text_of(client.get(path))


@pytest.mark.parametrize("path", [STEP_5, SEARCH_PAGE])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_blank_search_from_the_kept_part_is_the_page_rendered_afresh(
    app, mailbox, monkeypatch, path, htmx, language
):
    client = speaking(new_client(app, mailbox, PIERRE, htmx=htmx), language)
    client.get(STEP_5)  # the notice that the account is created, shown once
    whole = search_afresh(client, path, monkeypatch)
    first = text_of(client.get(path))
    again = text_of(client.get(path))
    assert list(kept_search(app)) == [(SEARCH, language, "")]
    assert without_tokens(first) == without_tokens(again) == without_tokens(whole)
    assert ("Rechercher la structure" in first) is (language == "fr")
    assert 'name="identifier_type"' in first and ("<!doctype html>" in first) is not htmx


def test_attack_a_search_typed_with_its_error_is_never_kept_for_others(app, mailbox):
    """Pierre's search for an identifier that is wrong shows his typing and
    its error on his page only: Lucie's step 5 shows the search blank."""
    pierre, lucie = new_client(app, mailbox, PIERRE), new_client(app, mailbox, LUCIE)
    typed = text_of(
        pierre.get(SEARCH_PAGE, query_string={"identifier_type": "siret", "identifier": "123 456"})
    )
    assert 'value="123 456"' in typed and 'aria-invalid="true"' in typed
    assert not kept_search(app)
    blank = lucie.get(STEP_5).get_data(as_text=True)
    ((_key, part),) = kept_search(app).items()
    assert part in blank and part not in typed
    assert "123 456" not in blank and 'aria-invalid="true"' not in blank
