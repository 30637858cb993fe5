"""Drafts tied to the account: step 6 (a new structure) and « Mon compte »'s
personal information. They survive signing out and in, and no other
account ever sees or changes them."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from models import Draft
from tests.support.app import Client, query
from tests.support.constants import EMAIL, PASSWORD
from tests.support.responses import is_fragment
from tests.support.structures import PIERRE, STRUCTURE, create_structure, new_client, sign_up, structures

SAVED = re.compile(r"Brouillon enregistré à \d\d:\d\d")
HALF_STRUCTURE = {k: STRUCTURE[k] for k in ("identifier_type", "identifier", "company_name", "city")}
STEP_6 = "/structure/nouvelle"
STEP_6_DRAFT = "/structure/nouvelle/brouillon"
PROFILE_DRAFT = "/mon-compte/informations/brouillon"


def drafts_in(app) -> list[Draft]:
    return query(app, lambda: list(Draft.select()))


def body(response) -> str:
    return response.get_data(as_text=True)


def test_step_six_draft_is_saved_as_a_page_or_a_fragment_and_refills_the_step(app, marie):
    response = marie.submit(STEP_6_DRAFT, HALF_STRUCTURE)
    if marie.htmx:
        assert response.status_code == 200 and is_fragment(response)
        assert SAVED.fullmatch(body(response).strip())
    else:
        assert response.status_code == 303 and response.headers["Location"].endswith(STEP_6)
    page = body(marie.get(STEP_6))
    assert 'value="Ateliers Curie"' in page and SAVED.search(page)
    (draft,) = drafts_in(app)
    assert draft.user_id is not None
    assert timedelta(days=29) < draft.expires_at - draft.saved_at <= timedelta(days=30)


def test_step_six_draft_survives_signing_out_and_in(client, mailbox):
    marie = sign_up(client, mailbox)
    marie.submit(STEP_6_DRAFT, HALF_STRUCTURE)
    marie.submit("/deconnexion")
    assert "Ateliers Curie" not in body(marie.get(STEP_6, follow_redirects=True))
    marie.submit("/connexion", {"email": EMAIL, "password": PASSWORD})
    page = body(marie.get(STEP_6))
    assert 'value="Ateliers Curie"' in page and SAVED.search(page)


def test_a_failed_step_six_submit_is_kept_for_later(marie):
    response = create_structure(marie, city="", company_name="Ateliers Curie")
    assert response.status_code == 422
    assert SAVED.search(body(response))
    assert 'value="Ateliers Curie"' in body(marie.get(STEP_6))


def test_creating_the_structure_deletes_its_draft(app, marie):
    marie.submit(STEP_6_DRAFT, HALF_STRUCTURE)
    create_structure(marie)
    assert len(structures(app)) == 1
    assert drafts_in(app) == []


def test_another_account_cannot_read_or_overwrite_a_step_six_draft_attack_other_account(app, client, mailbox):
    marie = sign_up(client, mailbox)
    marie.submit(STEP_6_DRAFT, HALF_STRUCTURE)
    pierre = new_client(app, mailbox, PIERRE)
    page = body(pierre.get(STEP_6))
    assert "Ateliers Curie" not in page and "Brouillon enregistré" not in page
    pierre.submit(STEP_6_DRAFT, {**HALF_STRUCTURE, "company_name": "Mallory SA"})
    assert 'value="Ateliers Curie"' in body(marie.get(STEP_6))
    assert "Mallory" not in body(marie.get(STEP_6))


def test_a_signed_out_visitor_cannot_save_a_step_six_draft_attack_anonymous(app, client):
    client.get("/")
    response = client.submit(STEP_6_DRAFT, HALF_STRUCTURE)
    assert response.status_code in (302, 303, 401)
    assert drafts_in(app) == []


# -- « Mon compte » -------------------------------------------------------------------------


def test_profile_edits_are_kept_as_a_draft_and_shown_again(marie):
    response = marie.submit(PROFILE_DRAFT, {"first_name": "Marie Salomea", "last_name": "Curie"})
    assert response.status_code == (200 if marie.htmx else 303)
    page = body(marie.get("/mon-compte/"))
    assert 'value="Marie Salomea"' in page and SAVED.search(page)


def test_a_failed_profile_submit_is_kept_and_a_saved_one_deletes_the_draft(app, marie):
    response = marie.submit("/mon-compte/informations", {"first_name": "Marie<", "last_name": "Curie"})
    assert response.status_code == 422
    assert 'value="Marie&lt;"' in body(marie.get("/mon-compte/"))
    marie.submit("/mon-compte/informations", {"first_name": "Maria", "last_name": "Curie"})
    assert drafts_in(app) == []
    page = body(marie.get("/mon-compte/"))
    assert 'value="Maria"' in page and "Brouillon enregistré" not in page


DISCARD = "/mon-compte/informations/brouillon/abandonner"


def test_a_profile_filled_from_its_draft_says_so_and_the_draft_can_be_abandoned(app, marie):
    """The form showed unsaved edits (a phone « 12 ») as if they were stored,
    with no way back to what is: now a notice says so, with « Abandonner le
    brouillon »."""
    assert "profile-draft" not in body(marie.get("/mon-compte/"))
    marie.submit(PROFILE_DRAFT, {"first_name": "Marie Salomea", "last_name": "Curie", "phone": "12"})
    page = body(marie.get("/mon-compte/"))
    assert 'id="profile-draft"' in page and "ces modifications ne sont pas encore enregistrées" in page
    assert f'action="{DISCARD}"' in page and 'value="Marie Salomea"' in page
    response = marie.submit(DISCARD)
    assert response.status_code == (200 if marie.htmx else 303)
    assert drafts_in(app) == []
    page = body(marie.get("/mon-compte/")) if not marie.htmx else body(response)
    assert "Le brouillon est abandonné" in page
    assert 'value="Marie"' in page and "Marie Salomea" not in page and 'id="profile-draft"' not in page


def test_a_failed_profile_submit_shows_its_errors_not_the_drafts_notice(marie):
    response = marie.submit("/mon-compte/informations", {"first_name": "Marie<", "last_name": "Curie"})
    assert response.status_code == 422 and 'id="profile-draft"' not in body(response)


def test_abandoning_a_draft_takes_the_accounts_own_only_attack_other_account(app, client, mailbox):
    marie = sign_up(client, mailbox)
    marie.submit(PROFILE_DRAFT, {"first_name": "Salomea", "last_name": "Curie"})
    pierre = new_client(app, mailbox, PIERRE)
    pierre.submit(DISCARD)
    assert len(drafts_in(app)) == 1 and 'value="Salomea"' in body(marie.get("/mon-compte/"))
    assert app.test_client().submit(DISCARD).status_code in (302, 303)  # signed out: to sign in
    assert len(drafts_in(app)) == 1


def test_a_profile_draft_is_seen_by_its_account_only_attack_other_account(app, client, mailbox):
    marie = sign_up(client, mailbox)
    marie.submit(PROFILE_DRAFT, {"first_name": "Salomea", "last_name": "Curie"})
    pierre = new_client(app, mailbox, PIERRE)
    assert "Salomea" not in body(pierre.get("/mon-compte/"))


# -- boxes and selects over the language switch ------------------------------------------


def switch_to_english(client, page: str) -> str:
    """The header's switch as a browser posts it, with or without JavaScript
    (a plain form: app.js saves the draft under htmx, then submits it), and
    the whole page it comes back to."""
    plain = super(Client, client).open
    data = {"csrf_token": client.csrf_token(), "lang": "en", "next": page}
    response = plain("/langue", method="POST", data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    return body(plain(page))


def test_step_six_boxes_and_selects_in_the_draft_survive_the_language_switch(marie):
    drafted = {"identifier_type": "ue", "identifier": "BE0403170701", "country": "BE",
               "non_diffusible": "y", "company_name": "Ateliers Curie"}  # fmt: skip
    marie.submit(STEP_6_DRAFT, drafted)
    page = switch_to_english(marie, STEP_6)
    assert '<html lang="en">' in page
    assert '<option selected value="ue">' in page and '<option selected value="BE">' in page
    assert re.search(
        r'<input[^>]*checked[^>]*name="non_diffusible"|<input[^>]*name="non_diffusible"[^>]*checked', page
    )


def test_step_two_survey_box_in_the_draft_survives_the_language_switch(any_client):
    any_client.get("/inscription/")
    any_client.submit("/inscription/brouillon", {"first_name": "Marie", "survey_consent": "y"})
    page = switch_to_english(any_client, "/inscription/")
    assert 'value="Marie"' in page
    assert re.search(
        r'<input[^>]*checked[^>]*name="survey_consent"|<input[^>]*name="survey_consent"[^>]*checked', page
    )
    assert not re.search(r'<input[^>]*checked[^>]*name="terms"|<input[^>]*name="terms"[^>]*checked', page)


def test_a_profile_draft_survives_the_language_switch_without_javascript(marie):
    marie.submit(PROFILE_DRAFT, {"first_name": "Marie Salomea", "last_name": "Curie"})
    page = switch_to_english(marie, "/mon-compte/")
    assert '<html lang="en">' in page and 'value="Marie Salomea"' in page


def test_a_profile_draft_never_holds_a_password_attack_password_in_the_draft(app, marie):
    """A password posted to the profile's draft (a forged request, or the
    whole page's fields) is never kept, nor brought back after the switch."""
    secret = "Velo-Rouge-Matin-42"
    marie.submit(PROFILE_DRAFT, {"first_name": "Marie", "last_name": "Curie", "current_password": secret,
                                 "password": secret, "password_confirm": secret})  # fmt: skip
    (draft,) = drafts_in(app)
    assert secret not in draft.data and "password" not in draft.data
    assert secret not in switch_to_english(marie, "/mon-compte/")


def test_a_profile_draft_keeps_only_its_fields_attack_forged_draft_payload(app, marie):
    """Fields the profile does not have (a role, the login e-mail, the survey
    consent) posted to its draft are not kept: the draft never changes what
    « Mon compte » shows of them."""
    marie.submit(PROFILE_DRAFT, {"first_name": "Marie", "last_name": "Curie", "email": "mallory@exemple.fr",
                                 "survey_consent": "y", "role": "admin", "x" * 50: "y" * 10_000})  # fmt: skip
    (draft,) = drafts_in(app)
    assert set(json.loads(draft.data)) <= {"first_name", "last_name", "phone", "contact_email", "seen"}
    page = body(marie.get("/mon-compte/"))
    assert "mallory@" not in page
    assert not re.search(r'<input[^>]*checked[^>]*name="survey_consent"', page)
