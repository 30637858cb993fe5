"""A structure's free texts (raison sociale, libellé, address lines, city)
go on invoices and to other organisations: markup's chevrons, control
characters, emoji and pictographs are refused next to their field, with a
message that says which characters are not accepted, on step 6 and on the
edit alike (one form base, forms.structure.StructureDetails), what was typed
kept in the field. Everything real company names and addresses hold is
taken: letters with accents, digits, & ' ’ - . , / ( ) + « » " : ; ° # @…"""

from __future__ import annotations

import re
import unicodedata

import pytest

from models import Structure
from rules import RuleError
from rules.text import PRINTED_TEXT_ALLOWED, check_printed_text
from tests.support.app import query
from tests.support.responses import error_of, follow, is_fragment, text_of
from tests.support.seen import value_of
from tests.support.structures import STRUCTURE, create_structure, sign_up, structures

DETAILS = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
PRINTED = ("company_name", "label", "address", "address_2", "address_3", "city")
NOT_ACCEPTED = "n'est pas accepté. Ce champ n'accepte ni les chevrons (&lt; et &gt;), ni les émojis"
INVISIBLE = "Ce champ contient un caractère invisible, de contrôle"
SAVED = "Les informations de la structure ont été mises à jour."

REAL = {
    "company_name": "L'Atelier d'Émile & Fils",
    "label": "Société Générale (Agence n°12)",
    "address": "3, rue de l’Église",
    "address_2": "Bât. B/2 « Les Tilleuls »",
    "address_3": 'Lot "C" : porte #4; @accueil',
    "city": "Saint-Étienne-du-Rouvray",
}
# Each refused text, in the field it was typed into, and the character named.
REFUSED = [
    ("company_name", "<script>alert(1)</script>", "<"),
    ("company_name", "Café 🍕 & Cie", "🍕"),
    ("label", "Les Ateliers ★", "★"),
    ("address", "<img src=x onerror=alert(1)>", "<"),
    ("address_2", "Bâtiment ➀", "➀"),
    ("address_3", "Entrée → cour", "→"),
    ("city", "Paris 👍🏽", "👍"),
]


@pytest.fixture
def marie(app, any_client, mailbox):
    """Marie, signed in on a full-page or an htmx client, no structure yet."""
    return sign_up(any_client, mailbox)


def stored(app) -> Structure:
    return query(app, Structure.get)


def edit_url(app, client) -> str:
    """``client`` creates « Ateliers Curie »; its edit page's URL."""
    assert create_structure(client).status_code in (200, 303)
    return f"/structure/{stored(app).id}/modifier"


def escaped(value: str) -> str:
    """A value as the page writes it in an attribute (text_of puts the quotes back)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def assert_refused_and_kept(response, client, field: str, value: str, shown: str) -> None:
    assert response.status_code == 422
    assert is_fragment(response) == client.htmx
    error = error_of(response, field)
    assert f"Le caractère « {escaped(shown)} » {NOT_ACCEPTED}" in error
    text = text_of(response)
    control = re.search(rf'<input[^>]* id="{field}"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in control and f'{field}-error"' in control
    assert f'href="#{field}"' in text  # the error summary
    # What was typed stays in the field, escaped: never markup.
    assert value_of(text, field) == escaped(value)
    assert "<script>alert" not in text and "<img src=x" not in text


# -- the rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        *REAL.values(),
        "Müller GmbH & Co. KG",
        "Ørsted A/S",
        "Nguyễn Văn An",
        "株式会社トヨタ",
        "ООО «Ромашка»",
        "Canal+ 100 % bio",
        "Café № 5™ © ®",
        "12½ rue du 8-Mai-1945, 2ᵉ étage",
        "Straße 5–7 — Hof",
        "Prix : 5 €, 3 $, 2 £",
        "C++ / C# [lot 3] {B} Zone_Nord * ! ? | ~ = ^",
        "50° N",
    ],
)
def test_what_real_names_and_addresses_hold_is_accepted(value):
    assert check_printed_text(value) == unicodedata.normalize("NFC", value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a < b", "<"),
        ("a > b", ">"),
        ("＜b＞", "＜"),  # the fullwidth chevrons too
        ("😀", "😀"),
        ("❤\ufe0f Ateliers", "❤"),  # the emoji is named, not its invisible selector
        ("Famille 👨\u200d👩\u200d👧", "👨"),
        ("👍🏽", "👍"),
        ("\U0001f3fd", "\U0001f3fd"),  # a skin tone alone (Sk)
        ("🇫🇷 Ateliers", "🇫"),
        ("☎ 01 23", "☎"),
        ("⚠ fragile", "⚠"),
        ("✓ fait", "✓"),
        ("♥", "♥"),
        ("① rue", "①"),
        ("❶ rue", "❶"),
        ("⒈ rue", "⒈"),
        ("🅰", "🅰"),
        ("‼", "‼"),
        ("ℹ", "ℹ"),
        ("a ≠ b", "≠"),
        ("a =\u0338 b", "≠"),  # composed by NFC
        ("1\ufe0f\u20e3", "U+20E3"),  # a keycap: an enclosing mark, named by its code point
        ("A\u20dd", "U+20DD"),
    ],
)
def test_markup_emoji_and_pictographs_are_refused_and_named(value, shown):
    with pytest.raises(RuleError) as refused:
        check_printed_text(value)
    assert str(refused.value) == f"Le caractère « {shown} » n'est pas accepté. {PRINTED_TEXT_ALLOWED}"


def test_every_symbol_of_a_keyboard_is_accepted_but_the_chevrons():
    """Latin-1's symbols (+ = | ~ ^ ` ° © ® ± × ÷ ¬…), currency signs and
    all punctuation: only < and > are refused among them."""
    for code in range(0x20, 0x100):
        ch = chr(code)
        if unicodedata.category(ch).startswith("C"):
            continue
        if ch in "<>":
            with pytest.raises(RuleError):
                check_printed_text(f"a{ch}b")
        else:
            assert check_printed_text(f"a{ch}b") == unicodedata.normalize("NFC", f"a{ch}b"), hex(code)


@pytest.mark.parametrize("value", ["Ateliers\x07Curie", "Ateliers\x00Curie", "Facture\u202eFDP.exe"])
def test_control_characters_are_refused_by_the_rule(value):
    with pytest.raises(RuleError) as refused:
        check_printed_text(value)
    assert str(refused.value).startswith(INVISIBLE)


# -- step 6 ------------------------------------------------------------------------------


def test_attack_markup_in_a_company_name_is_refused_next_to_its_field(app, marie):
    """Output is escaped everywhere: this is about what goes on invoices and
    to other organisations. « Raison sociale » says which character it does
    not take, and keeps what was typed; nothing is created."""
    value = "<script>alert(1)</script>"
    response = create_structure(marie, company_name=value)
    assert_refused_and_kept(response, marie, "company_name", value, "<")
    assert value_of(text_of(response), "address") == "12 rue de la Paix"  # the other fields kept
    assert structures(app) == []


@pytest.mark.parametrize(("field", "value", "shown"), REFUSED)
def test_step_6_refuses_markup_and_emoji_in_each_free_text_next_to_it(app, marie, field, value, shown):
    response = create_structure(marie, **{field: value})
    assert_refused_and_kept(response, marie, field, value, shown)
    for other in PRINTED:
        if other != field and STRUCTURE[other]:
            assert value_of(text_of(response), other) == STRUCTURE[other]
    assert structures(app) == []


def test_step_6_refuses_a_control_character_in_a_company_name(app, marie):
    response = create_structure(marie, company_name="Ateliers\x07Curie")
    assert response.status_code == 422
    assert INVISIBLE in error_of(response, "company_name") and "U+0007" in error_of(response, "company_name")
    assert structures(app) == []


def test_step_6_takes_what_real_names_and_addresses_hold(app, marie):
    response = create_structure(marie, **REAL)
    assert response.status_code in (200, 303), text_of(response)
    follow(marie, response)
    structure = stored(app)
    assert {name: getattr(structure, name) for name in PRINTED} == REAL


# -- the edit ----------------------------------------------------------------------------


def test_attack_markup_in_a_company_name_is_refused_on_the_edit_too(app, marie):
    url = edit_url(app, marie)
    value = "<script>alert(1)</script>"
    response = marie.submit(url, {**DETAILS, "company_name": value, "city": "Lyon"})
    assert_refused_and_kept(response, marie, "company_name", value, "<")
    assert value_of(text_of(response), "city") == "Lyon"
    assert (stored(app).company_name, stored(app).city) == ("Ateliers Curie", "Paris")


@pytest.mark.parametrize(("field", "value", "shown"), REFUSED)
def test_the_edit_refuses_markup_and_emoji_in_each_free_text_next_to_it(app, marie, field, value, shown):
    url = edit_url(app, marie)
    response = marie.submit(url, {**DETAILS, field: value})
    assert_refused_and_kept(response, marie, field, value, shown)
    assert getattr(stored(app), field) == (STRUCTURE[field] or None)


def test_the_edit_names_the_emoji_not_its_invisible_selector(app, marie):
    url = edit_url(app, marie)
    response = marie.submit(url, {**DETAILS, "label": "Les Ateliers ❤\ufe0f"})
    assert response.status_code == 422
    assert "Le caractère « ❤ » n'est pas accepté." in error_of(response, "label")
    assert "U+FE0F" not in error_of(response, "label")


def test_a_free_text_too_long_is_said_so_before_its_characters_are_read(app, marie):
    url = edit_url(app, marie)
    response = marie.submit(url, {**DETAILS, "company_name": "🍕" * 101})
    assert response.status_code == 422
    assert "au plus 100 caractères" in error_of(response, "company_name")


def test_the_edit_takes_what_real_names_and_addresses_hold(app, marie):
    url = edit_url(app, marie)
    response = marie.submit(url, {**DETAILS, **REAL})
    assert SAVED in follow(marie, response)
    structure = stored(app)
    assert {name: getattr(structure, name) for name in PRINTED} == REAL


def test_an_operator_s_correction_refuses_them_too(app, operator, structure_id):
    url = f"/administration/structures/{structure_id}/modifier"
    value = "Café 🍕 & Cie"
    response = operator.submit(url, {**DETAILS, "company_name": value})
    assert_refused_and_kept(response, operator, "company_name", value, "🍕")
    assert stored(app).company_name == "Ateliers Curie"
