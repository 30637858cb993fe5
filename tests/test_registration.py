"""Steps 1 to 3: home, personal information, captcha, mail sent."""

from __future__ import annotations

import json
import re
import time
from collections import deque

import pytest

import uniform_time
from forms.registration import PersonalInfoForm
from models import CaptchaChallenge, Token, User, db
from tests.support.app import Client, HtmxClient, outbox, query
from tests.support.concurrency import post_at_once
from tests.support.constants import CAPTCHA_ANSWER, EMAIL
from tests.support.responses import error_of, follow, is_fragment, text_of
from tests.support.signup import PERSON, challenge_on, pending_signup


def users(app) -> list[User]:
    with app.app_context(), db.connection_context():
        return list(User.select())


# -- step 1 and the page/fragment contract ----------------------------------


def test_home_offers_to_create_an_account_as_a_page_and_a_fragment(client, htmx_client):
    page = client.get("/")
    assert page.status_code == 200
    assert "<html" in page.get_data(as_text=True)
    assert "Créer un compte" in page.get_data(as_text=True)
    fragment = htmx_client.get("/")
    assert "Créer un compte" in fragment.get_data(as_text=True)
    assert is_fragment(fragment)
    assert "HX-Request" in page.headers["Vary"] and "Cookie" in page.headers["Vary"]


def test_boosted_requests_get_the_full_page(htmx_client):
    response = htmx_client.get("/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_htmx_is_served_by_the_app_from_the_npm_package(client):
    page = client.get("/").get_data(as_text=True)
    src = re.search(r'<script src="([^"]*htmx[^"]*)"', page).group(1)
    assert src.startswith("/")
    script = client.get(src)
    assert script.status_code == 200
    assert b"htmx" in script.data
    script.close()
    assert '"includeIndicatorStyles": false' in page
    assert '"historyRestoreAsHxRequest": false' in page


# -- step 2 ----------------------------------------------------------------


def test_personal_info_shows_the_seed_labels(any_client):
    response = any_client.get("/inscription/")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    for label in (
        "Adresse e-mail",
        "Confirmez votre adresse e-mail",
        "Prénom",
        "Nom",
        "Téléphone",
        "Adresse email de contact",
        "J'accepte les conditions",
        "afin de recevoir l'enquête de satisfaction",
    ):
        assert label in text.replace("&#39;", "'")


def test_valid_personal_info_leads_to_the_captcha_without_creating_an_account(app, client):
    response = client.submit("/inscription/", PERSON)
    assert response.status_code == 303
    assert response.headers["Location"] == "/inscription/captcha"
    assert users(app) == []
    assert "Reproduire la suite de caractères" in client.get("/inscription/captcha").get_data(as_text=True)


def test_valid_personal_info_under_htmx_swaps_in_the_captcha_and_pushes_its_url(app, htmx_client):
    response = htmx_client.submit("/inscription/", PERSON)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/inscription/captcha"
    text = response.get_data(as_text=True)
    assert "Valider le Captcha" in text and is_fragment(response)
    assert users(app) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": ""}, "email", "Ce champ est obligatoire."),
        ({"email": "marie.curie", "email_confirm": "marie.curie"}, "email", "adresse e-mail valide"),
        ({"email_confirm": "marie@exemple.fr"}, "email_confirm", "ne sont pas identiques"),
        ({"first_name": ""}, "first_name", "Ce champ est obligatoire."),
        ({"first_name": "M4rie"}, "first_name", ""),
        ({"last_name": "C" * 101}, "last_name", "100"),
        ({"phone": "12"}, "phone", "numéro de téléphone valide"),
        ({"contact_email": "pas une adresse"}, "contact_email", "adresse e-mail valide"),
        ({"terms": ""}, "terms", "accepter les conditions"),
    ],
)
def test_bad_personal_info_is_shown_next_to_its_field(any_client, changes, field, message):
    response = any_client.submit("/inscription/", {**PERSON, **changes})
    text = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    error = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', text, re.S)
    assert error, f"no error next to {field}"
    assert message in error.group(1)
    assert 'aria-describedby="' in text and f"{field}-error" in text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', text)
    assert 'class="error-summary"' in text and f'href="#{field}"' in text
    # Nothing typed is lost.
    if changes.get(field, "x") and field != "terms":
        assert str(changes[field]).replace("'", "&#39;") in response.get_data(as_text=True)


def test_a_refused_page_opens_on_its_error_summary_only_when_loaded_whole(any_client):
    """Without JavaScript the page loads whole and its error summary has the
    focus (autofocus); swapped in place, app.js moves it, and htmx must not
    move it to a summary some part of an answer carries."""
    text = any_client.submit("/inscription/", {**PERSON, "email": ""}).get_data(as_text=True)
    summary = re.search(r'<div class="error-summary"[^>]*>', text).group(0)
    assert ("autofocus" in summary) is not any_client.htmx


def test_names_in_any_script_and_international_phones_are_kept(app, client):
    client.submit(
        "/inscription/",
        {**PERSON, "first_name": "Zoé-Anaïs", "last_name": "N'Diaye Østergård", "phone": "+32 2 511 22 33"},
    )
    kept = pending_signup(app, client)
    assert kept["first_name"] == "Zoé-Anaïs"
    assert kept["last_name"] == "N'Diaye Østergård"
    assert kept["phone"] == "+3225112233"
    assert kept["email"] == "marie.curie@exemple.fr"
    assert kept["contact_email"] == "marie.curie@exemple.fr"


def test_inline_validation_renders_one_field_with_the_submit_rules(htmx_client):
    response = htmx_client.submit(
        "/inscription/champ/email_confirm", {**PERSON, "email_confirm": "autre@exemple.fr"}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text.strip().startswith('<div class="field field--error" id="field-email_confirm">')
    assert "ne sont pas identiques" in text
    assert "field-first_name" not in text
    ok = htmx_client.submit("/inscription/champ/email_confirm", PERSON).get_data(as_text=True)
    assert "error-message" not in ok


WRONG_PEOPLE = [
    {
        "email": "marie@",
        "email_confirm": "marie@",
        "first_name": "",
        "last_name": "Curie 2",
        "phone": "12",
        "contact_email": "contact@",
    },
    {**PERSON, "email": "", "email_confirm": "autre@exemple.fr", "phone": "+33 1 23"},
    {**PERSON, "email": "x" * 300 + "@exemple.fr", "first_name": "<b>", "contact_email": "a b@exemple.fr"},
    # Typed with combining accents: « Confirmez » compares with the address as
    # the address's own rules leave it (NFC), as « Continuer » does.
    {**PERSON, "email": "e\u0301ric@exemple.fr", "email_confirm": "éric@exemple.fr"},
    {**PERSON, "email": "jose\u0301@bu\u0308cher.de", "email_confirm": "josé@bücher.de"},
    PERSON,
]


@pytest.mark.parametrize("person", WRONG_PEOPLE)
def test_each_inline_answer_is_the_error_soumettre_gives_that_field(client, htmx_client, person):
    """A live check runs its field's rules (after those of the field they
    compare it with: « Confirmez » and the address), whatever the other
    fields hold: what it says is what « Continuer » says next to that field."""
    submitted = client.submit("/inscription/", person)
    for name in PersonalInfoForm.INLINE:
        answer = htmx_client.submit(f"/inscription/champ/{name}", person)
        assert answer.status_code == 200
        expected = error_of(submitted, name) if f'id="{name}-error"' in text_of(submitted) else None
        shown = error_of(answer, name) if f'id="{name}-error"' in text_of(answer) else None
        assert shown == expected, name


def test_a_changed_address_asks_the_page_to_check_the_confirmation_again(htmx_client):
    """« Confirmez » depends on the address: the address's answer names it
    (HX-Trigger), and the page checks it again with what it holds by then
    (app.js). Its answer never carries « Confirmez »'s value: typed since,
    it would be overwritten."""
    changed = {**PERSON, "email": "marie.sklodowska@exemple.fr"}
    response = htmx_client.submit("/inscription/champ/email", changed)
    text = response.get_data(as_text=True)
    assert text.strip().startswith('<div class="field" id="field-email">')
    assert "field-email_confirm" not in text
    assert json.loads(response.headers["HX-Trigger"]) == {"portail:recheck": "email_confirm"}
    empty = htmx_client.submit("/inscription/champ/email", {**changed, "email_confirm": ""})
    assert "HX-Trigger" not in empty.headers  # not reached yet: nothing to check again
    confirm = htmx_client.submit("/inscription/champ/email_confirm", changed).get_data(as_text=True)
    assert "ne sont pas identiques" in confirm


@pytest.mark.parametrize("field", ["email", "email_confirm", "phone"])
def test_inline_validation_takes_no_other_visitors_token_attack_csrf(app, field):
    """The inline form signs no token of its own: the request's is still
    checked, and another visitor's (or a forged one) is refused."""
    app.test_client_class = HtmxClient
    mallory, marie = app.test_client(), app.test_client()
    theirs = mallory.csrf_token()
    marie.csrf_token()  # Marie has a session of her own
    for token in (theirs, theirs[:-4] + "AAAA", ""):
        response = marie.post(f"/inscription/champ/{field}", data={**PERSON, "csrf_token": token})
        assert response.status_code == 400, token
        assert "field-" not in response.get_data(as_text=True)
    assert marie.submit(f"/inscription/champ/{field}", PERSON).status_code == 200


def test_inline_validation_of_an_unknown_field_is_a_404(htmx_client):
    assert htmx_client.submit("/inscription/champ/password", PERSON).status_code == 404


@pytest.mark.parametrize(
    "url", ["/inscription/", "/inscription/captcha", "/inscription/champ/email", "/inscription/renvoyer"]
)
def test_every_post_requires_the_csrf_token(any_client, url):
    response = any_client.post(url, data=PERSON)
    assert response.status_code == 400
    # In place, the notice above the page kept as it is (test_stale_form).
    told = "ce que vous avez saisi est conservé" if any_client.htmx else "formulaire n'est plus valide"
    assert told in response.get_data(as_text=True).replace("&#39;", "'")


# -- step 3: the captcha ------------------------------------------------------


def test_the_captcha_step_needs_the_personal_info_first(any_client):
    response = any_client.get("/inscription/captcha")
    assert response.status_code == 303
    assert response.headers["Location"] == "/inscription/"


def test_captcha_page_shows_image_audio_and_new_image(client):
    client.submit("/inscription/", PERSON)
    text = client.get("/inscription/captcha").get_data(as_text=True)
    challenge = challenge_on(text)
    assert f"/captcha/{challenge}.png" in text
    assert f"/captcha/{challenge}.wav" in text
    assert "Nouvelle image" in text and "Valider le Captcha" in text
    assert CAPTCHA_ANSWER not in text


def test_passing_the_captcha_creates_the_pending_account_with_its_mail(app, any_client, mailbox):
    any_client.submit("/inscription/", PERSON)
    page = any_client.get("/inscription/captcha").get_data(as_text=True)
    response = any_client.submit(
        "/inscription/captcha", {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER.lower()}
    )
    text = follow(any_client, response, pushed="/inscription/envoye")
    assert "lien d'activation" in text
    assert "Renvoyer le courriel" in text
    [user] = users(app)
    assert user.status == User.PENDING and user.email == "marie.curie@exemple.fr"
    assert user.password_hash is None
    [mail] = mailbox()
    assert mail.recipient == "marie.curie@exemple.fr"
    with app.app_context(), db.connection_context():
        [token] = Token.select()
        raw = re.search(r"/activation/(\S+)", mail.body_text).group(1)
        assert raw not in token.token_hash and len(token.token_hash) == 64


def test_a_wrong_answer_spends_the_challenge_and_shows_a_new_one(app, any_client):
    any_client.submit("/inscription/", PERSON)
    first = challenge_on(any_client.get("/inscription/captcha").get_data(as_text=True))
    response = any_client.submit("/inscription/captcha", {"challenge_id": first, "answer": "WRONG1"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "ne correspondent pas" in text
    assert challenge_on(text) != first
    # The first challenge had its one attempt: the right answer no longer works.
    again = any_client.submit("/inscription/captcha", {"challenge_id": first, "answer": CAPTCHA_ANSWER})
    assert again.status_code == 422
    assert users(app) == []


def test_attack_wrong_captcha_answers_keep_no_worker_waiting(app, client, monkeypatch):
    """A sign-up's time is hidden (uniform_time): a bot's wrong answers,
    refused as such anyway, are not held as long as a sign-up."""
    monkeypatch.setattr(uniform_time, "MAX_HOLD", 20)
    client.submit("/inscription/", PERSON)
    page = client.get("/inscription/captcha").get_data(as_text=True)
    with app.app_context():
        app.extensions["uniform_time"] = {"sign_up": deque([10.0] * 8)}  # learned: sign-ups take 10 s
    started = time.perf_counter()
    response = client.submit("/inscription/captcha", {"challenge_id": challenge_on(page), "answer": "WRONG1"})
    assert response.status_code == 422
    assert time.perf_counter() - started < 5  # far from the 10 s a held answer would take


def passed_captcha(client) -> tuple[dict, str]:
    """Step 2 and the captcha passed on ``client``; the captcha's form as it
    was sent, and the session cookie the browser had when it sent it."""
    client.submit("/inscription/", PERSON)
    page = client.get("/inscription/captcha").get_data(as_text=True)
    form = {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER}
    before = client.get_cookie("session").value
    response = client.submit("/inscription/captcha", form)
    follow(client, response, pushed="/inscription/envoye")
    return form, before


def test_back_to_the_captcha_once_passed_shows_the_mail_sent_page(app, any_client, mailbox):
    passed_captcha(any_client)
    response = any_client.get("/inscription/captcha")
    assert response.status_code == 303 and response.headers["Location"] == "/inscription/envoye"
    text = text_of(any_client.get(response.headers["Location"]))
    assert "Vérifiez votre messagerie" in text and "marie.curie@exemple.fr" in text
    assert "Complétez d'abord" not in text
    assert len(mailbox()) == 1


def test_a_second_click_on_valider_le_captcha_shows_the_mail_sent_page_and_sends_nothing(
    app, any_client, mailbox
):
    """Without JavaScript a double click sends the form twice, the second
    time with the cookie the browser had before the first answer."""
    form, before = passed_captcha(any_client)
    any_client.set_cookie("session", before)
    response = any_client.submit("/inscription/captcha", form)
    text = follow(any_client, response, pushed="/inscription/envoye")
    assert "Vérifiez votre messagerie" in text and "marie.curie@exemple.fr" in text
    assert len(mailbox()) == 1 and len(users(app)) == 1


def test_two_clicks_at_once_on_valider_le_captcha_both_show_the_mail_sent_page(app, mailbox):
    app.test_client_class = Client
    first = app.test_client()
    first.submit("/inscription/", PERSON)
    page = first.get("/inscription/captcha").get_data(as_text=True)
    second = app.test_client()
    second.set_cookie("session", first.get_cookie("session").value)  # the same browser
    form = {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER, "csrf_token": first.csrf_token()}

    responses = post_at_once("/inscription/captcha", [first, second], [form, form])

    assert [(r.status_code, r.headers["Location"]) for r in responses] == [(303, "/inscription/envoye")] * 2
    assert len(mailbox()) == 1 and len(users(app)) == 1


def test_a_worker_failing_midway_leaves_the_same_answer_good_for_the_retry(app, client, mailbox, monkeypatch):
    """The answer's one attempt, the account, its mail and the browser's mark
    are one transaction: a failure between them (a worker killed, a database
    gone) used to leave the challenge spent and the browser told « mail sent »
    on its retry, with no account and no mail."""
    import accounts

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client.submit("/inscription/", PERSON)
    page = client.get("/inscription/captcha").get_data(as_text=True)
    form = {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER}
    send_activation = accounts.send_activation

    def fails(user):
        send_activation(user)
        raise RuntimeError("the worker dies here")

    monkeypatch.setattr(accounts, "send_activation", fails)
    assert client.submit("/inscription/captcha", form).status_code == 500
    assert users(app) == [] and mailbox() == []
    monkeypatch.setattr(accounts, "send_activation", send_activation)

    response = client.submit("/inscription/captcha", form)  # the person presses again
    assert response.status_code == 303 and response.headers["Location"] == "/inscription/envoye"
    assert len(users(app)) == 1 and len(mailbox()) == 1


def test_attack_a_solved_captcha_sent_again_creates_nothing_more(app, client, mailbox):
    """Replaying the form that passed the captcha, with the cookie of then,
    signs up nothing and mails nothing: the challenge had its one attempt."""
    form, before = passed_captcha(client)
    for _ in range(3):
        client.set_cookie("session", before)
        client.submit("/inscription/captcha", form)
    assert len(mailbox()) == 1 and len(users(app)) == 1
    with app.app_context(), db.connection_context():
        assert Token.select().count() == 1


def test_step_two_after_a_passed_captcha_starts_empty(client):
    passed_captcha(client)
    text = text_of(client.get("/inscription/"))
    assert "Curie" not in text and "Complétez d'abord" not in text


def test_an_expired_challenge_is_refused(app, client):
    client.submit("/inscription/", PERSON)
    challenge = challenge_on(client.get("/inscription/captcha").get_data(as_text=True))
    with app.app_context(), db.connection_context():
        CaptchaChallenge.update(expires_at=CaptchaChallenge.created_at).execute()
    response = client.submit("/inscription/captcha", {"challenge_id": challenge, "answer": CAPTCHA_ANSWER})
    assert response.status_code == 422
    assert users(app) == []


def test_new_image_replaces_the_widget_under_htmx_and_the_page_without_js(app, client, htmx_client):
    client.submit("/inscription/", PERSON)
    first = challenge_on(client.get("/inscription/captcha").get_data(as_text=True))
    response = client.submit("/inscription/captcha/nouveau", {"challenge_id": first})
    assert response.status_code == 303 and response.headers["Location"] == "/inscription/captcha"
    with app.app_context(), db.connection_context():
        assert CaptchaChallenge.live(first) is None

    htmx_client.submit("/inscription/", PERSON)
    second = challenge_on(htmx_client.get("/inscription/captcha").get_data(as_text=True))
    widget = htmx_client.submit("/inscription/captcha/nouveau", {"challenge_id": second})
    text = widget.get_data(as_text=True)
    assert text.strip().startswith('<div class="captcha" id="captcha-widget"')
    assert challenge_on(text) != second
    # The same step: the address stays, and no history entry is added per image.
    assert widget.headers["HX-Replace-Url"] == "/inscription/captcha"
    assert "HX-Push-Url" not in widget.headers


# -- the same address twice -------------------------------------------------------


def test_an_existing_address_gets_the_same_page_and_its_owner_a_mail(app, client, signup, mailbox):
    signup.create_account()
    signup.activate()
    client.get("/")  # a new visitor would have no session; the answer must not differ
    with client.session_transaction() as session:
        session.clear()
    first_mails = len(mailbox())
    signup.personal_info(first_name="Autre")
    response = signup.captcha()
    assert response.status_code == 303 and response.headers["Location"] == "/inscription/envoye"
    [user] = users(app)
    assert user.first_name == "Marie"
    mails = mailbox()[first_mails:]
    assert [m.subject for m in mails] == ["Votre compte existe déjà"]
    assert "/connexion" in mails[0].body_text


def test_a_pending_address_signing_up_again_gets_a_fresh_link(app, signup, mailbox):
    signup.create_account()
    old = signup.activation_path()
    signup.create_account()
    new = signup.activation_path()
    assert old != new
    assert len(users(app)) == 1
    assert signup.client.get(old).status_code == 410


def test_the_same_address_signed_up_twice_at_once_gives_one_account(any_database_app):
    app = any_database_app
    clients = [app.test_client() for _ in range(2)]
    forms = []
    for client in clients:
        client.submit("/inscription/", PERSON)
        page = client.get("/inscription/captcha").get_data(as_text=True)
        forms.append(
            {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER, "csrf_token": client.csrf_token()}
        )

    statuses = [r.status_code for r in post_at_once("/inscription/captcha", clients, forms)]

    assert statuses == [303, 303]
    assert len(users(app)) == 1
    # The loser's transaction was rolled back whole: one activation link is live.
    assert query(app, Token.select().where(Token.used_at.is_null()).count) == 1
    assert {m.subject for m in outbox(app, EMAIL)} == {"Activez votre compte"}


# -- the mail-sent page ---------------------------------------------------------------


def test_resend_sends_a_new_link_after_the_cooldown(app, any_client, mailbox):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    any_client.submit("/inscription/", PERSON)
    page = any_client.get("/inscription/captcha").get_data(as_text=True)
    any_client.submit("/inscription/captcha", {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER})
    response = any_client.submit("/inscription/renvoyer")
    assert response.status_code in (200, 303)
    links = [re.search(r"/activation/\S+", m.body_text).group(0) for m in mailbox()]
    assert len(links) == 2 and links[0] != links[1]
    assert any_client.get(links[0]).status_code == 410
    assert any_client.get(links[1]).status_code == 200


def test_resend_within_the_cooldown_sends_nothing_more(app, client, mailbox):
    client.submit("/inscription/", PERSON)
    page = client.get("/inscription/captcha").get_data(as_text=True)
    client.submit("/inscription/captcha", {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER})
    client.submit("/inscription/renvoyer")
    assert len(mailbox()) == 1


def test_the_mail_sent_page_needs_a_sign_up(any_client):
    response = any_client.get("/inscription/envoye")
    assert response.status_code == 303
