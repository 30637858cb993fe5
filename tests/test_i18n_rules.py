"""The rules' messages (rules/email, names, phone, passwords, text,
messages) in English on an English page, and byte for byte the same French
as before everywhere else: without the app (a script), and on a French page."""

# ruff: noqa: E501 - the tables below hold whole messages, one per line

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from flask_babel import gettext
from wtforms.validators import Length

from rules import RuleError
from rules.email import normalize_email
from rules.i18n import LazyText
from rules.messages import NOT_A_CHOICE, PASSWORDS_DIFFER, REQUIRED, then, too_long
from rules.names import NAME_TOO_LONG, check_person_name
from rules.passwords import check_password, password_checks
from rules.phone import normalize_phone
from rules.text import check_single_script, check_text
from tests.support.i18n import speak

ROOT = Path(__file__).resolve().parents[1]
RULES = ("email", "names", "phone", "passwords", "text", "messages")

# (what breaks a rule, the French message, the English one)
BROKEN = [
    (lambda: normalize_email(""), "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
     "Enter a valid email address, for example name@example.com."),
    (lambda: normalize_email("marie"),
     "Il manque le caractère @. Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
     "The @ character is missing. Enter a valid email address, for example name@example.com."),
    (lambda: normalize_email("marie curie@exemple.fr"),
     "L'adresse ne doit pas contenir d'espace. Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
     "The address must not contain spaces. Enter a valid email address, for example name@example.com."),
    (lambda: normalize_email("a@b@exemple.fr"),
     "L'adresse ne doit contenir qu'un seul caractère @. Saisissez une adresse e-mail valide, par exemple "
     "nom@exemple.fr.",
     "The address must contain only one @ character. Enter a valid email address, for example name@example.com."),
    (lambda: normalize_email("@exemple.fr"),
     "Il manque la partie située avant le @. Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
     "The part before the @ is missing. Enter a valid email address, for example name@example.com."),
    (lambda: normalize_email("marie@"),
     "Il manque le nom de domaine après le @. Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
     "The domain name after the @ is missing. Enter a valid email address, for example name@example.com."),
    (lambda: normalize_email("marie@exemple"),
     "Le nom de domaine après le @ doit contenir un point, par exemple exemple.fr. Saisissez une adresse e-mail "
     "valide, par exemple nom@exemple.fr.",
     "The domain name after the @ must contain a dot, for example example.com. Enter a valid email address, "
     "for example name@example.com."),
    (lambda: normalize_email("Jösé@exemple.fr"),
     "Les caractères accentués ou spéciaux ne sont pas acceptés avant le @. Saisissez une adresse e-mail "
     "valide, par exemple nom@exemple.fr.",
     "Accented or special characters are not accepted before the @. Enter a valid email address, for example "
     "name@example.com."),
    (lambda: normalize_email("a" * 250 + "@exemple.fr"),
     "L'adresse e-mail doit contenir au plus 254 caractères.", "The email address must be 254 characters or fewer."),
    (lambda: check_person_name("a" * 101), "Ce champ doit contenir au plus 100 caractères.",
     "This field must be 100 characters or fewer."),
    (lambda: check_person_name("Marie<script>"),
     "Le caractère « < » n'est pas autorisé. Utilisez uniquement des lettres, des espaces, des traits d'union "
     "(-) et des apostrophes (').",
     "The character “<” is not allowed. Use only letters, spaces, hyphens (-) and apostrophes (')."),
    (lambda: check_person_name("Marie\ufeff"),
     "Ce champ contient un caractère invisible, de contrôle ou qui inverse le sens du texte (U+FEFF). "
     "Retirez-le, par exemple en saisissant à nouveau le texte au clavier.",
     "This field contains an invisible or control character, or one that reverses the direction of the text "
     "(U+FEFF). Remove it, for example by typing the text again on the keyboard."),
    (lambda: check_person_name("1234"), "Le caractère « 1 » n'est pas autorisé. Utilisez uniquement des lettres, "
     "des espaces, des traits d'union (-) et des apostrophes (').",
     "The character “1” is not allowed. Use only letters, spaces, hyphens (-) and apostrophes (')."),
    (lambda: check_person_name("- '"), "Ce champ doit contenir au moins une lettre.",
     "This field must contain at least one letter."),
    (lambda: check_person_name("-Marie"),
     "Ce champ ne peut ni commencer ni se terminer par un trait d'union ou une apostrophe.",
     "This field cannot start or end with a hyphen or an apostrophe."),
    (lambda: check_person_name("Jеаn"),  # a Cyrillic е and а
     "Ce nom mélange des lettres d'alphabets différents (cyrillique, latin) qui peuvent se ressembler. "
     "Saisissez-le dans un seul alphabet.",
     "This name mixes letters from different alphabets (Cyrillic, Latin) that can look alike. "
     "Type it in a single alphabet."),
    (lambda: check_single_script("Αθήνα Москва"),
     "Ce nom mélange des lettres d'alphabets différents (cyrillique, grec) qui peuvent se ressembler. "
     "Saisissez-le dans un seul alphabet.",
     "This name mixes letters from different alphabets (Cyrillic, Greek) that can look alike. "
     "Type it in a single alphabet."),
    (lambda: check_text("x\u0301\u0302\u0303\u0304\u0305"),
     "Ce champ contient trop de signes diacritiques sur une même lettre (au plus 3).",
     "This field has too many diacritical marks on one letter (3 at most)."),
    (lambda: normalize_phone("12"),
     "Saisissez un numéro de téléphone valide, par exemple 01 23 45 67 89 ou +33 1 23 45 67 89.",
     "Enter a valid phone number, for example 01 23 45 67 89 or +33 1 23 45 67 89."),
    (lambda: check_password("Court-1"), "Le mot de passe doit contenir au moins 12 caractères.",
     "The password must be at least 12 characters long."),
    (lambda: check_password("Aa1-" * 40), "Le mot de passe doit contenir au plus 128 caractères.",
     "The password must be 128 characters or fewer."),
    (lambda: check_password("toutenminuscules"),
     "Le mot de passe doit contenir au moins 3 types de caractères parmi : majuscules, minuscules, chiffres, "
     "caractères spéciaux.",
     "The password must contain at least 3 of these types of character: capital letters, lower-case letters, "
     "digits, special characters."),
    (lambda: check_password("Azertyuiop123!"), "Ce mot de passe est trop courant. Choisissez-en un autre.",
     "This password is too common. Choose another one."),
    (lambda: check_password("Curie-Radium-1867", ["Marie", "Curie"]),
     "Le mot de passe ne doit contenir ni votre nom, ni votre prénom, ni votre adresse e-mail.",
     "The password must not contain your last name, your first name or your email address."),
]  # fmt: skip

CONSTANTS = [
    (REQUIRED, "Ce champ est obligatoire.", "This field is required."),
    (NOT_A_CHOICE, "Choisissez une valeur dans la liste.", "Choose a value from the list."),
    (PASSWORDS_DIFFER, "Les deux mots de passe ne sont pas identiques.", "The two passwords do not match."),
    (NAME_TOO_LONG, "Ce champ doit contenir au plus 100 caractères.", "This field must be 100 characters or fewer."),
    (too_long(38, " (norme postale)"), "Ce champ doit contenir au plus 38 caractères (norme postale).",
     "This field must be 38 characters or fewer (norme postale)."),
]  # fmt: skip

CHECKLIST_FR = [
    "12 caractères minimum",
    "Une majuscule",
    "Une minuscule",
    "Un chiffre",
    "Un caractère spécial",
]
CHECKLIST_EN = [
    "At least 12 characters",
    "A capital letter",
    "A lower-case letter",
    "A digit",
    "A special character",
]


def message_of(broken) -> LazyText:
    with pytest.raises(RuleError) as caught:
        broken()
    return caught.value.message


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def french(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        yield


@pytest.mark.parametrize(("broken", "fr", "en"), BROKEN)
def test_a_broken_rule_says_so_in_english_on_an_english_page(english, broken, fr, en):
    message = message_of(broken)
    assert str(message) == en
    assert str(RuleError(message)) == en


@pytest.mark.parametrize(("broken", "fr", "en"), BROKEN)
def test_a_broken_rule_says_so_in_the_same_french_as_before(broken, fr, en, app):
    assert str(message_of(broken)) == fr  # no app: a script, the command line
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert str(message_of(broken)) == fr
    with app.test_request_context():  # no preference: French
        assert str(message_of(broken)) == fr


def test_a_message_made_on_a_french_page_is_english_on_an_english_one(app):
    """Module constants are made once; each page shows them in its language."""
    message = message_of(BROKEN[1][0])
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(message) == BROKEN[1][2]
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert str(message) == BROKEN[1][1]


@pytest.mark.parametrize(("constant", "fr", "en"), CONSTANTS)
def test_shared_messages_in_both_languages(app, constant, fr, en):
    assert str(constant) == fr and constant == fr
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(constant) == en and constant == en


def test_too_long_is_a_message_wtforms_length_can_use(app, english):
    """Length formats its message with ``%``; the English comes out."""
    assert too_long(20) % {"min": -1, "max": 20, "length": 25} == "This field must be 20 characters or fewer."


def test_too_long_in_a_form_field_in_both_languages(app):
    from wtforms import Form, StringField

    class Named(Form):
        name = StringField(validators=[Length(max=5, message=too_long(5))])

    for language, expected in (("en", "This field must be 5 characters or fewer."),
                               ("fr", "Ce champ doit contenir au plus 5 caractères.")):  # fmt: skip
        with app.test_request_context(headers={"Accept-Language": language}):
            form = Named(data={"name": "abcdefgh"})
            assert not form.validate()
            assert str(form.name.errors[0]) == expected


def test_then_joins_two_messages_each_translated(app):
    joined = then(REQUIRED, NOT_A_CHOICE)
    assert str(joined) == "Ce champ est obligatoire. Choisissez une valeur dans la liste."
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(joined) == "This field is required. Choose a value from the list."


def test_the_password_checklist_in_both_languages(app):
    assert [check.label for check in password_checks("")] == CHECKLIST_FR
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert [str(check.label) for check in password_checks("")] == CHECKLIST_EN


def test_the_password_checklist_fragment_shows_the_english_labels(client):
    """The checklist next to a new password (its other words are the password pages')."""
    speak(client, "en")
    html = client.submit("/mot-de-passe/regles", {"password": "abc"}).get_data(as_text=True)
    for label in CHECKLIST_EN:
        assert label in html
    for label in CHECKLIST_FR:
        assert label not in html


def test_a_message_keeps_a_typed_value_escaped_on_a_page(app):
    """A value typed by a person (a refused character) is escaped like any text."""
    from flask import render_template_string

    message = message_of(lambda: check_person_name("Marie<b>"))
    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template_string("{{ message }}", message=message)
    assert "&lt;" in html and "<b>" not in html and "The character" in html


def test_every_rule_message_has_its_english(app):
    """Each message marked in the rules (pybabel's view) is translated in the compiled catalogue."""
    ids = []
    for name in RULES:
        for _line, message, _comments, _context in extract_from_file("python", ROOT / "rules" / f"{name}.py"):
            ids.append(message if isinstance(message, str) else message[0])
    assert len(ids) > 40
    same_in_english = {"hiragana", "katakana"}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        untranslated = [m for m in ids if gettext(m) == m and m not in same_in_english]
    assert not untranslated
