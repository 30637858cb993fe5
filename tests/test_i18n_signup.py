"""The sign-up in English: the home page, steps 2 to 4 (personal information,
captcha, mail sent, activation), as full pages and htmx fragments, with
their errors; the captcha's image text and its audio in English voices."""

from __future__ import annotations

import pytest

import challenges
from challenges import audio, bank
from challenges.bank import VOICES_DIR
from models import Token, User, db
from tests.support.app import Client, clean_environment, make_app, outbox, query
from tests.support.captcha import open_challenge
from tests.support.constants import CAPTCHA_ANSWER, EMAIL, PASSWORD
from tests.support.i18n import assert_english, speak
from tests.support.responses import error_of, follow, is_fragment, text_of
from tests.support.signup import PERSON, challenge_on, link_in

ENGLISH = VOICES_DIR / "en"
FRENCH = VOICES_DIR / "fr"
# What the tests type, and what the pages show back of it: not the portal's words.
TYPED = (PERSON["email"], EMAIL, PERSON["first_name"], PERSON["last_name"], PERSON["phone"])


@pytest.fixture
def english(any_client):
    """A browser that chose English with the header's switch."""
    speak(any_client, "en")
    return any_client


def english_page(response, status: int = 200, *, htmx: bool) -> str:
    assert response.status_code == status, text_of(response)
    assert is_fragment(response) == htmx
    text = text_of(response)
    assert_english(text, data=TYPED)
    return text


# -- step 1: the home page, the header and the footer ------------------------------


def test_the_home_page_in_english(english):
    text = english_page(english.get("/"), htmx=english.htmx)
    assert "Create an account and a structure in a few clicks" in text
    assert ">Create an account</a>" in text and ">Sign in</a>" in text
    assert 'aria-label="Account"' in text
    if not english.htmx:
        assert '<html lang="en">' in text
        assert "Skip to content" in text
        assert "account creation and attachment to a structure" in text
        assert ">Terms of use</a>" in text and ">Accessibility statement</a>" in text


def test_the_footer_names_the_operator_and_the_support_in_english(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_OPERATOR_NAME", "Exemple SA")
    monkeypatch.setenv("FLASK_SUPPORT_EMAIL", "aide@exemple.fr")
    app = make_app(tmp_path)
    app.test_client_class = Client
    client = app.test_client()
    speak(client, "en")
    text = text_of(client.get("/"))
    assert_english(text, data=("Exemple SA", "aide@exemple.fr"))
    assert "account creation and attachment to a structure, operated by Exemple SA." in text
    assert 'Support: <a href="mailto:aide@exemple.fr">' in text
    speak(client, "fr")
    assert "opéré par Exemple SA." in text_of(client.get("/"))


# -- step 2: personal information ----------------------------------------------------


def test_the_personal_information_step_in_english(english):
    text = english_page(english.get("/inscription/"), htmx=english.htmx)
    assert "Step 2 of 6" in text and "Personal information" in text
    for label in ("Email address", "Confirm your email address", "First name", "Last name", "Phone"):
        assert f">{label} <span" in text or f">{label}</label>" in text, label
    assert "I accept the terms" in text and "satisfaction survey about Chorus Pro" in text
    assert "Fields marked with an asterisk" in text and ">Save draft</button>" in text
    assert "Expected format: name@example.com" in text


def test_a_missing_consent_is_told_in_english(english):
    response = english.submit("/inscription/", {**PERSON, "terms": ""})
    text = english_page(response, 422, htmx=english.htmx)
    assert "<title>Error – Personal information" in text
    assert "The form has an error" in text
    assert "I accept the terms: You must accept the terms to create an account." in text


def test_bad_input_is_told_in_english(english):
    response = english.submit(
        "/inscription/", {**PERSON, "first_name": "", "email_confirm": "jean.dupont@exemple.fr"}
    )
    text = english_page(response, 422, htmx=english.htmx)
    assert "The form has errors" in text
    assert error_of(response, "first_name") and error_of(response, "email_confirm")
    # What was typed is kept, and said so in English.
    assert "Draft saved at" in text


def test_the_inline_check_of_a_field_in_english(english):
    response = english.submit("/inscription/champ/email", {"email": "pas-une-adresse"})
    assert response.status_code == 200
    text = text_of(response)
    assert_english(text, data=("pas-une-adresse",))
    assert "Expected format: name@example.com" in text and "Error:" in text


def test_the_draft_saved_line_in_english(htmx_client):
    speak(htmx_client, "en")
    response = htmx_client.submit("/inscription/brouillon", {"first_name": "Marie"})
    assert response.status_code == 200
    assert text_of(response).startswith("Draft saved at ")


def test_the_captcha_before_step_2_sends_back_with_an_english_notice(english):
    response = english.get("/inscription/captcha")
    assert response.status_code == 303 and response.headers["Location"] == "/inscription/"
    text = english_page(english.get("/inscription/"), htmx=english.htmx)
    assert "Fill in your personal information first." in text


# -- step 3: the captcha ---------------------------------------------------------------


def test_the_captcha_step_in_english(english):
    english.submit("/inscription/", PERSON)
    text = english_page(english.get("/inscription/captcha"), htmx=english.htmx)
    assert "Step 3 of 6" in text and "<h1>Complete the captcha</h1>" in text
    assert "To finish creating your account (<strong>marie.curie@exemple.fr</strong>)" in text
    assert 'alt="Image showing the characters to type. If you cannot read it' in text
    assert '<p id="captcha-audio-label">Audio version:</p>' in text
    assert ">Listen to the characters</a>" in text
    assert ">New image</button>" in text and ">Submit the captcha</button>" in text
    assert 'data-announce="New image shown."' in text
    assert "Upper and lower case are both accepted." in text


def test_a_wrong_captcha_answer_is_told_in_english(english):
    english.submit("/inscription/", PERSON)
    challenge = challenge_on(text_of(english.get("/inscription/captcha")))
    response = english.submit("/inscription/captcha", {"challenge_id": challenge, "answer": "AAAAAA"})
    text = english_page(response, 422, htmx=english.htmx)
    assert "<title>Error – Captcha" in text
    assert "The characters you typed do not match. Try again with this new image." in text


def test_a_new_image_in_english(english):
    english.submit("/inscription/", PERSON)
    challenge = challenge_on(text_of(english.get("/inscription/captcha")))
    response = english.submit("/inscription/captcha/nouveau", {"challenge_id": challenge})
    text = follow(english, response)
    if english.htmx:
        assert response.headers["HX-Replace-Url"] == "/inscription/captcha"
    assert_english(text, data=TYPED)
    assert "Audio version:" in text and challenge_on(text) != challenge


# -- mail sent, a new link ----------------------------------------------------------------


def test_the_mail_sent_step_in_english(english):
    english.submit("/inscription/", PERSON)
    challenge = challenge_on(text_of(english.get("/inscription/captcha")))
    response = english.submit("/inscription/captcha", {"challenge_id": challenge, "answer": CAPTCHA_ANSWER})
    text = follow(english, response, pushed="/inscription/envoye")
    assert_english(text, data=TYPED)
    assert "<h1>Check your inbox</h1>" in text
    assert "has been sent to <strong>marie.curie@exemple.fr</strong>" in text
    assert "Remember to check your spam folder." in text
    # Asked again at once: the cooldown, said in English.
    again = follow(english, english.submit("/inscription/renvoyer"), pushed="/inscription/envoye")
    assert_english(again, data=TYPED)
    assert "An email has just been sent. You can ask for another one in" in again


def test_the_new_link_page_in_english(english):
    text = english_page(english.get("/inscription/renvoyer"), htmx=english.htmx)
    assert "<h1>Get a new activation link</h1>" in text and ">Get a new link</button>" in text
    response = english.submit("/inscription/renvoyer", {"email": ""})
    text = english_page(response, 422, htmx=english.htmx)
    assert "The form has an error" in text


# -- step 4: activation ------------------------------------------------------------------


@pytest.fixture
def english_link(app, english):
    """An account signed up in English: the path of its activation link."""
    english.submit("/inscription/", PERSON)
    challenge = challenge_on(text_of(english.get("/inscription/captcha")))
    english.submit("/inscription/captcha", {"challenge_id": challenge, "answer": CAPTCHA_ANSWER})
    assert query(app, lambda: User.get().language) == "en"
    (mail,) = outbox(app, EMAIL)
    return link_in(mail)


def test_the_activation_step_in_english(english, english_link):
    text = english_page(english.get(english_link), htmx=english.htmx)
    assert "Step 4 of 6" in text and "<h1>Set your password</h1>" in text
    assert "Account: <strong>marie.curie@exemple.fr</strong>" in text
    assert "<legend>Your information</legend>" in text and ">Submit</button>" in text
    assert "Required strength: at least 12 characters" in text
    assert "satisfaction survey about Chorus Pro" in text  # the label the activation form reuses


def test_bad_passwords_are_told_in_english(english, english_link):
    response = english.submit(english_link, {"password": PASSWORD, "password_confirm": "Autre-Chose-99"})
    text = english_page(response, 422, htmx=english.htmx)
    assert "The form has an error" in text
    response = english.submit(
        english_link, {"first_name": "", "password": "court", "password_confirm": "court"}
    )
    text = english_page(response, 422, htmx=english.htmx)
    assert "The form has errors" in text


def test_the_password_checklist_in_english(htmx_client):
    speak(htmx_client, "en")
    response = htmx_client.submit("/mot-de-passe/regles", {"password": "abcDEF"})
    text = text_of(response)
    assert_english(text)
    assert "At least 3 of the following 4 types of character (2 of 3)" in text
    assert ": not met" in text and ": present" in text and ": missing" in text


def test_an_expired_link_in_english(app, english, english_link):
    with app.app_context(), db.connection_context():
        Token.update(used_at=Token.created_at).execute()
    text = english_page(english.get(english_link), 410, htmx=english.htmx)
    assert "<h1>This link is no longer valid</h1>" in text
    assert ">Get a new link</a>" in text and ">Sign in</a>" in text


def test_activated_in_english_the_header_says_who_is_signed_in(english, english_link):
    english.submit(english_link, {"password": PASSWORD, "password_confirm": PASSWORD})
    text = text_of(english.get("/"))
    assert_english(text, data=TYPED)
    assert ">My space</a>" in text and ">My account</a>" in text and ">Sign out</button>" in text
    assert '<span class="visually-hidden">Signed in as </span>' in text


# -- the captcha's audio: English voices on an English page -------------------------------


def test_an_english_page_s_captcha_audio_is_spoken_by_the_english_bank(app, client):
    speak(client, "en")
    challenge = open_challenge(client)
    response = client.get(f"/captcha/{challenge}.wav")
    assert response.status_code == 200
    with app.test_request_context():
        english, placed = challenges.spoken(challenge, "en")
        french, _placed = challenges.spoken(challenge, "fr")
    assert response.data == audio.wav_bytes(english) != audio.wav_bytes(french)
    assert [piece.key for piece in placed][1:] == list(CAPTCHA_ANSWER)
    for piece in placed:
        assert piece.source.parent == ENGLISH / piece.key and piece.source.is_file()


def test_the_same_challenge_switched_back_to_french_is_spoken_in_french(app, client):
    speak(client, "en")
    challenge = open_challenge(client)
    assert client.get(f"/captcha/{challenge}.wav").status_code == 200
    speak(client, "fr", page="/inscription/captcha")
    response = client.get(f"/captcha/{challenge}.wav")
    with app.test_request_context():
        french, placed = challenges.spoken(challenge, "fr")
    assert response.data == audio.wav_bytes(french)
    assert all(piece.source.is_relative_to(FRENCH) for piece in placed)


def test_a_french_page_s_audio_stays_french(app, client):
    challenge = open_challenge(client)
    response = client.get(f"/captcha/{challenge}.wav", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    with app.test_request_context():
        french, _placed = challenges.spoken(challenge, "fr")
    assert response.data == audio.wav_bytes(french)


def test_the_bank_follows_the_page_s_language_else_the_setting(app, monkeypatch):
    with app.test_request_context(headers={"Accept-Language": "en-GB,en;q=0.9"}):
        assert challenges.audio_language() == "en"
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert challenges.audio_language() == "fr"
    assert bank.has_voices("en") and bank.has_voices("fr")
    assert not bank.has_voices("xx") and not bank.has_voices("..")
    # No voices built for the page's language: the setting's bank.
    monkeypatch.setattr(bank, "has_voices", lambda language, root=VOICES_DIR: language == "fr")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert challenges.audio_language() == "fr"
