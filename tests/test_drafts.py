"""Drafts: what was typed in step 2 waits on the server, never in the cookie,
never for anyone else, and not for ever."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import json

from models import Draft, User, db, utcnow
from tests.support.app import Client, query
from tests.support.responses import is_fragment
from tests.support.signup import PERSON, draft_of, pending_signup

HALF = {"email": "marie.curie@exemple.fr", "first_name": "Marie", "last_name": "Curie"}
SAVED = re.compile(r"Brouillon enregistré à \d\d:\d\d")


def drafts_in(app) -> list[Draft]:
    return query(app, lambda: list(Draft.select()))


def test_draft_button_without_javascript_keeps_the_half_typed_step(client):
    response = client.submit("/inscription/brouillon", HALF)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/inscription/")
    page = client.get("/inscription/").get_data(as_text=True)
    assert 'value="Curie"' in page and 'value="Marie"' in page
    assert SAVED.search(page)
    assert 'role="status"' in page


def test_autosave_under_htmx_answers_the_status_line_only(app, htmx_client):
    response = htmx_client.submit("/inscription/brouillon", HALF)
    assert response.status_code == 200
    assert is_fragment(response)
    assert SAVED.fullmatch(response.get_data(as_text=True).strip())
    assert draft_of(app, htmx_client)["last_name"] == "Curie"
    fragment = htmx_client.get("/inscription/").get_data(as_text=True)
    assert 'value="Curie"' in fragment and SAVED.search(fragment)


def test_a_failed_submit_keeps_what_was_typed_for_a_later_visit(app, any_client):
    response = any_client.submit("/inscription/", {**HALF, "terms": ""})
    assert response.status_code == 422
    assert SAVED.search(response.get_data(as_text=True))
    page = any_client.get("/inscription/").get_data(as_text=True)
    assert 'value="Curie"' in page
    assert pending_signup(app, any_client) == {}, "not validated: the captcha step stays closed"
    assert any_client.get("/inscription/captcha").status_code in (200, 303)


def test_a_step_sent_with_nothing_typed_says_no_draft_was_saved_and_keeps_none(app, any_client):
    """An empty step 1 sent (its errors shown) was said « Brouillon enregistré »
    with nothing in it; fields emptied after a draft drop that draft."""
    empty = dict.fromkeys([*HALF, "phone", "email_confirm", "contact_email"], " ")
    response = any_client.submit("/inscription/", empty)
    assert response.status_code == 422 and "Brouillon enregistré" not in response.get_data(as_text=True)
    assert drafts_in(app) == []
    response = any_client.submit("/inscription/", {**empty, "last_name": "Curie"})
    assert SAVED.search(response.get_data(as_text=True)) and len(drafts_in(app)) == 1
    response = any_client.submit("/inscription/", empty)
    assert "Brouillon enregistré" not in response.get_data(as_text=True) and drafts_in(app) == []
    assert 'value="Curie"' not in any_client.get("/inscription/").get_data(as_text=True)
    saved = any_client.submit("/inscription/brouillon", {"terms": "y"})  # a box ticked is something
    assert saved.status_code in (200, 303) and len(drafts_in(app)) == 1


def test_a_new_visit_shows_no_draft_status(client):
    page = client.get("/inscription/").get_data(as_text=True)
    assert "Brouillon enregistré" not in page
    assert 'id="draft-status"' in page  # the live region is there before it speaks


def test_session_cookie_holds_a_draft_id_and_no_personal_data(app, client):
    client.submit("/inscription/", PERSON)
    with client.session_transaction() as session:
        stored = json.dumps(dict(session))
    assert "Curie" not in stored and "exemple.fr" not in stored and "01 23" not in stored
    assert set(session) <= {"csrf_token", "draft", "_fresh", "_permanent"}
    assert pending_signup(app, client)["email"] == "marie.curie@exemple.fr"
    assert "Curie" not in (client.get_cookie("session").value if client.get_cookie("session") else "")


def test_the_captcha_step_reads_the_validated_step_from_the_server(signup):
    signup.personal_info()
    page = signup.client.get("/inscription/captcha")
    assert page.status_code == 200
    assert "marie.curie@exemple.fr" in page.get_data(as_text=True)


def test_completing_the_sign_up_keeps_nothing_typed_but_the_address_mailed(app, signup):
    signup.create_account()
    assert draft_of(app, signup.client) == {"sent": "marie.curie@exemple.fr"}
    assert "Curie" not in signup.client.get("/inscription/").get_data(as_text=True)


def test_an_empty_step_sent_after_the_sign_up_keeps_the_address_mailed(app, signup):
    """The language switch on step 1 saves its draft first: with nothing
    typed, the mark of the sign-up finished stays (the captcha's address then
    shows the mail-sent page, not an empty step 1)."""
    signup.create_account()
    signup.client.submit("/inscription/brouillon", {})
    assert draft_of(app, signup.client) == {"sent": "marie.curie@exemple.fr"}
    response = signup.client.get("/inscription/captcha")
    assert response.status_code == 303 and response.headers["Location"].endswith("/inscription/envoye")


def test_the_address_mailed_is_kept_as_long_as_its_link_then_goes_with_the_activation(app, signup):
    signup.create_account()
    [draft] = drafts_in(app)
    assert draft.expires_at - draft.saved_at == timedelta(minutes=60)
    signup.activate()
    assert drafts_in(app) == []


def test_editing_step_two_after_validating_it_closes_the_captcha_until_resubmitted(app, signup):
    signup.personal_info()
    signup.client.submit("/inscription/brouillon", {**PERSON, "last_name": "Sklodowska"})
    assert signup.client.get("/inscription/captcha").status_code == 303
    assert draft_of(app, signup.client)["last_name"] == "Sklodowska"


def test_draft_never_holds_a_password_or_captcha_answer(app, client):
    client.submit(
        "/inscription/brouillon",
        {**HALF, "password": "Secret-1234567", "answer": "ABCDEF", "challenge_id": "x", "evil": "y"},
    )
    stored = drafts_in(app)[0].data
    for secret in ("Secret-1234567", "ABCDEF", "password", "answer", "evil", "csrf"):
        assert secret not in stored


def test_draft_values_are_bounded_attack_oversized_fields(app, client):
    response = client.submit("/inscription/brouillon", {**HALF, "last_name": "x" * 60_000})
    assert response.status_code == 303
    assert len(drafts_in(app)[0].data) < 4000


# -- another browser ------------------------------------------------------------------


def other_browser(app) -> Client:
    app.test_client_class = Client
    return app.test_client()


def test_another_session_cannot_read_the_draft_attack_other_browser(app, client):
    client.submit("/inscription/brouillon", HALF)
    page = other_browser(app).get("/inscription/").get_data(as_text=True)
    assert "Curie" not in page and "Brouillon enregistré" not in page


def test_guessed_draft_ids_find_nothing_attack_guessing_ids(app, client):
    client.submit("/inscription/brouillon", HALF)
    row_key = drafts_in(app)[0].key
    intruder = other_browser(app)
    for guess in (row_key, row_key.split(":")[1], "1", "signup", "s:" + "0" * 64 + ":signup"):
        with intruder.session_transaction() as session:
            session["draft"] = guess
        page = intruder.get("/inscription/").get_data(as_text=True)
        assert "Curie" not in page, guess


def test_another_session_cannot_overwrite_the_draft_attack_overwrite(app, client):
    client.submit("/inscription/brouillon", HALF)
    intruder = other_browser(app)
    intruder.submit("/inscription/brouillon", {**HALF, "last_name": "Mallory"})
    assert draft_of(app, client)["last_name"] == "Curie"
    assert 'value="Curie"' in client.get("/inscription/").get_data(as_text=True)


def test_draft_endpoint_refuses_a_post_without_csrf_token_attack_csrf(app, client):
    response = client.post("/inscription/brouillon", data=HALF)
    assert response.status_code == 400
    assert drafts_in(app) == []


# -- expiry and purge ------------------------------------------------------------------


def test_an_expired_draft_is_not_refilled_and_is_purged(app, client):
    client.submit("/inscription/brouillon", HALF)
    with app.app_context(), db.connection_context():
        Draft.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert "Curie" not in client.get("/inscription/").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 expired draft(s)" in result.output
    assert drafts_in(app) == []


def test_a_signup_draft_lives_the_configured_hours(app, client):
    app.config["DRAFT_SIGNUP_HOURS"] = 2
    client.submit("/inscription/brouillon", HALF)
    draft = drafts_in(app)[0]
    assert timedelta(hours=1, minutes=59) < draft.expires_at - draft.saved_at <= timedelta(hours=2)
    assert draft.user_id is None


def test_an_account_deleted_takes_its_drafts_along(app, account):
    with app.app_context(), db.connection_context():
        user = User.get(User.email == account)
        Draft.keep(f"u:{user.id}:structure", "{}", timedelta(days=1), user=user)
        user.delete_instance()
        assert Draft.select().count() == 0
