"""Text that looks like something else: invisible and direction-reversing
characters, piles of combining marks, look-alike letters of another script,
in every text field; internationalised and full-width e-mail addresses."""

from __future__ import annotations

import html
import unicodedata

import pytest

from models import User, db
from rules import RuleError
from rules.text import MAX_COMBINING_MARKS, check_single_script, check_text
from tests.support.responses import error_of, is_fragment, text_of
from tests.support.signup import PERSON, Signup
from tests.support.structures import create_structure, sign_up, structures

INVISIBLE = "caractère invisible, de contrôle ou qui inverse le sens du texte"
MIXED = "mélange des lettres d'alphabets différents"
MARKS = "trop de signes diacritiques"
ALONE = "un signe diacritique seul, sans lettre avant lui"


@pytest.fixture
def signup(any_client, mailbox):
    """Sign-up actions on a full-page or an htmx client."""
    return Signup(any_client, mailbox)


def users(app) -> list[User]:
    with app.app_context(), db.connection_context():
        return list(User.select())


# -- the rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, code",
    [
        ("Facture\u202eFDP.exe", "U+202E"),  # right-to-left override
        ("abc\u202ddef", "U+202D"),  # left-to-right override
        ("abc\u2067def", "U+2067"),  # right-to-left isolate
        ("abc\u061cdef", "U+061C"),  # Arabic letter mark
        ("Ma\u200brie", "U+200B"),  # zero-width space
        ("Ma\u200drie", "U+200D"),  # zero-width joiner
        ("Ma\ufeffrie", "U+FEFF"),  # zero-width no-break space
        ("Ma\u00adrie", "U+00AD"),  # soft hyphen
        ("Ma\x07rie", "U+0007"),  # a control character
        ("Ma\ue000rie", "U+E000"),  # private use
        ("Ma\u3164rie", "U+3164"),  # Hangul filler: a letter that draws nothing
        ("Ma\ufe0frie", "U+FE0F"),  # variation selector
    ],
)
def test_invisible_and_direction_characters_are_refused_by_name(value, code):
    with pytest.raises(RuleError) as error:
        check_text(value)
    assert INVISIBLE in str(error.value)
    assert code in str(error.value)


def test_ordinary_text_is_kept_in_nfc():
    decomposed = "E\u0301lodie Nguye\u0302\u0303n"
    kept = check_text(decomposed)
    assert kept == unicodedata.normalize("NFC", decomposed) == "Élodie Nguyễn"
    for value in ("Zoë", "山田 たろう", "ก่ำ", "Ζωή", "Åsa", "O'Connor", "12 rue de la Paix\tBât. B"):
        assert check_text(value) == unicodedata.normalize("NFC", value)


def _checked_char_by_char(value: str) -> str | None:
    """check_text's verdict on each character of ``value`` read one by one
    (its slow path, which the plain texts skip): the text, or None if refused."""
    try:
        return check_text(value + "\ue000")  # never plain: forces the look at each character
    except RuleError as error:
        if "U+E000" in str(error):
            return unicodedata.normalize("NFC", value)  # only the private-use character added was refused
        return None


def test_a_plain_text_is_judged_as_each_of_its_characters_would_be():
    """The texts nearly everybody types skip the look at each character:
    every character from U+0000 to U+24FF, alone or between letters, gets the same verdict either way."""
    for code in range(0x2500):
        ch = chr(code)
        for value in (ch, "a" + ch, "a" + ch + "b"):
            try:
                fast = check_text(value)
            except RuleError:
                fast = None
            assert fast == _checked_char_by_char(value), f"U+{code:04X} in {value!r}"


@pytest.mark.parametrize(
    "value", ["Société\u00ad Curie", "Marie\u200b", "Curie\u202e", "e\u0301\u0302\u0303\u0304\u0305"]
)
def test_attack_an_invisible_or_a_mark_among_plain_letters_is_still_refused(value):
    with pytest.raises(RuleError):
        check_text(value)


def test_a_pile_of_combining_marks_is_refused_zalgo_attack():
    assert check_text("e" + "\u0301" * MAX_COMBINING_MARKS)
    with pytest.raises(RuleError, match=MARKS):
        check_text("Ze" + "\u0301\u0302\u0303\u0304\u0305\u0306" + "bre")


@pytest.mark.parametrize("value", ["\u0301", "\u0301\u0301", "Ateliers \u0308", "\u20dd Curie"])
def test_a_combining_mark_on_no_letter_is_refused_empty_looking_name_attack(value):
    with pytest.raises(RuleError, match=ALONE):
        check_text(value)


@pytest.mark.parametrize(
    "value",
    ["\u0408\u0435\u0430n", "P\u0430ypal", "\u0391lice", "Jean \u0392"],  # Cyrillic Ј е а, Greek Α Β
)
def test_lookalike_letters_of_mixed_scripts_are_refused(value):
    with pytest.raises(RuleError, match=MIXED):
        check_single_script(value)


@pytest.mark.parametrize(
    "value", ["Jean", "Јован", "Ζωή", "山田 たろう", "ヤマダ Taro", "김 민준", "ابن رشد"]
)
def test_names_of_one_script_or_written_together_pass(value):
    assert check_single_script(value) == value


# -- in the forms: a clear message next to the field, nothing typed lost -----------------


def test_a_direction_override_in_a_raison_sociale_is_refused_spoofed_filename_attack(
    app, any_client, mailbox
):
    sign_up(any_client, mailbox)
    response = create_structure(any_client, company_name="Facture\u202eFDP.exe")
    assert response.status_code == 422
    assert is_fragment(response) == any_client.htmx
    assert INVISIBLE in error_of(response, "company_name")
    assert "U+202E" in error_of(response, "company_name")
    # What was typed is still in the form, the other fields too.
    assert 'value="Facture\u202eFDP.exe"' in text_of(response)
    assert 'value="12 rue de la Paix"' in text_of(response)
    assert structures(app) == []


def test_a_raison_sociale_of_a_lone_accent_is_refused_next_to_its_field(app, any_client, mailbox):
    sign_up(any_client, mailbox)
    response = create_structure(any_client, company_name="\u0301")
    assert response.status_code == 422
    assert ALONE in error_of(response, "company_name")
    assert 'value="12 rue de la Paix"' in text_of(response)
    assert structures(app) == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("label", "Les\u200bAteliers"),
        ("address", "12 rue\u2066 de la Paix"),
        ("city", "Pa\u202eris"),
        ("address_2", "Bât\ufeff B"),
    ],
)
def test_invisible_characters_are_refused_in_every_structure_field(app, client, mailbox, field, value):
    sign_up(client, mailbox)
    response = create_structure(client, **{field: value})
    assert response.status_code == 422
    assert INVISIBLE in error_of(response, field)
    assert structures(app) == []


def test_a_cyrillic_lookalike_first_name_is_refused_at_sign_up_homoglyph_attack(app, any_client, signup):
    response = signup.personal_info(first_name="\u0408\u0435\u0430n")  # « Јеаn »
    assert response.status_code == 422
    assert is_fragment(response) == any_client.htmx
    assert MIXED in error_of(response, "first_name")
    assert "cyrillique, latin" in error_of(response, "first_name")
    assert 'value="\u0408\u0435\u0430n"' in text_of(response)


def test_a_zalgo_last_name_is_refused_combining_marks_attack(any_client, signup):
    response = signup.personal_info(last_name="Cu" + "\u0336\u0334\u0335\u0337\u0338" * 4 + "rie")
    assert response.status_code == 422
    assert MARKS in error_of(response, "last_name")


@pytest.mark.parametrize(
    "field", ["email", "email_confirm", "first_name", "last_name", "phone", "contact_email"]
)
def test_a_zero_width_space_is_refused_in_each_sign_up_field(any_client, signup, field):
    value = {**PERSON, "contact_email": "marie@exemple.fr"}[field]
    response = signup.personal_info(**{field: value[:3] + "\u200b" + value[3:]})
    assert response.status_code == 422
    assert INVISIBLE in error_of(response, field)


def test_inline_validation_names_the_invisible_character(htmx_client):
    token = htmx_client.csrf_token()
    response = htmx_client.post(
        "/inscription/champ/last_name", data={"csrf_token": token, "last_name": "Cu\u202erie"}
    )
    assert response.status_code == 200
    assert "U+202E" in error_of(response, "last_name")


def test_a_profile_name_with_a_bidi_override_is_refused_in_my_account(app, any_client, mailbox):
    sign_up(any_client, mailbox)
    response = any_client.submit(
        "/mon-compte/informations",
        {"first_name": "Marie\u202e", "last_name": "Curie", "phone": "", "contact_email": ""},
    )
    assert response.status_code == 422
    assert INVISIBLE in error_of(response, "first_name")
    assert [user.first_name for user in users(app)] == ["Marie"]


def test_a_decomposed_name_is_stored_composed(app, signup):
    signup.create_account(first_name="E\u0301lodie")
    assert [user.first_name for user in users(app)] == ["\u00c9lodie"]


# -- internationalised and full-width addresses ---------------------------------------------


@pytest.mark.parametrize(
    "typed, confirmed",
    [
        ("jose@bücher.de", "jose@bücher.de"),
        ("jose@bücher.de", "JOSE@xn--bcher-kva.de"),
        ("ｊｏｓｅ＠ｂüｃｈｅｒ.ｄｅ", "jose@bücher.de"),  # full-width, as typed with an Asian keyboard
        ("ｊｏｓｅ＠ｂüｃｈｅｒ.ｄｅ", "ｊｏｓｅ＠ｂüｃｈｅｒ.ｄｅ"),
    ],
)
def test_an_internationalised_domain_typed_twice_signs_up(app, any_client, signup, typed, confirmed):
    response = signup.personal_info(email=typed, email_confirm=confirmed)
    assert response.status_code in (200, 303), text_of(response)
    assert "ne sont pas identiques" not in text_of(response)
    signup.captcha()
    assert [user.email for user in users(app)] == ["jose@xn--bcher-kva.de"]


def test_two_different_internationalised_addresses_still_differ(any_client, signup):
    response = signup.personal_info(email="jose@bücher.de", email_confirm="jose@bucher.de")
    assert response.status_code == 422
    assert "Les deux adresses e-mail ne sont pas identiques" in error_of(response, "email_confirm")


def test_inline_confirmation_of_an_internationalised_address_agrees(htmx_client):
    token = htmx_client.csrf_token()
    response = htmx_client.post(
        "/inscription/champ/email_confirm",
        data={"csrf_token": token, "email": "jose@bücher.de", "email_confirm": "jose@BÜCHER.de"},
    )
    assert response.status_code == 200
    assert "error-message" not in text_of(response)


@pytest.fixture
def texts_read(monkeypatch):
    """The length of every text the fields' character check read."""
    import forms.validators

    lengths = []

    def counted(value):
        lengths.append(len(value))
        return check_text(value)

    monkeypatch.setattr(forms.validators, "check_text", counted)
    return lengths


HUGE = "é" * 10_000  # far more than any field holds, within a form's size limit (64 KB encoded)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("first_name", "au plus 100 caractères"),
        ("last_name", "au plus 100 caractères"),
        ("email", "L'adresse e-mail doit contenir au plus 254 caractères."),
        ("email_confirm", "L'adresse e-mail doit contenir au plus 254 caractères."),
        ("contact_email", "L'adresse e-mail doit contenir au plus 254 caractères."),
        ("phone", "Ce champ doit contenir au plus 40 caractères."),
    ],
)
def test_a_huge_value_is_refused_before_its_characters_are_read_cpu_exhaustion_attack(
    any_client, signup, texts_read, field, message
):
    response = signup.personal_info(**{field: HUGE})
    assert response.status_code == 422
    assert is_fragment(response) == any_client.htmx
    assert message in html.unescape(error_of(response, field))
    assert max(texts_read) < 1000  # each character of a huge text costs a micro-second or two


@pytest.mark.parametrize("field", ["first_name", "email", "email_confirm", "phone"])
def test_the_inline_check_of_a_huge_value_reads_none_of_it_cpu_exhaustion_attack(
    htmx_client, texts_read, field
):
    data = {**PERSON, field: HUGE, "csrf_token": htmx_client.csrf_token()}
    response = htmx_client.post(f"/inscription/champ/{field}", data=data)
    assert response.status_code == 200
    assert "caractères" in error_of(response, field)
    assert max(texts_read, default=0) < 1000
