"""Step 6's country list follows the identifier type: it offers only the
countries the type accepts (rules.identifiers.check_identifier_country), on
the full page and in the htmx swap when the type changes; without
JavaScript a country of another list is accepted as input, answered next to
the field and kept, and the list is shown again for the type sent."""

from __future__ import annotations

import re

import pytest

from forms.structure import accepted_countries
from rules import RuleError
from rules.identifiers import (
    EN_COURS,
    HORS_UE,
    IDENTIFIER_TYPES,
    PARTICULIER,
    SIRET,
    UE,
    VAT_FRANCE,
    VAT_PREFIX,
    check_identifier_country,
    normalize_identifier,
)
from rules.messages import NOT_A_CHOICE
from rules.places import EU_COUNTRIES, country_names
from tests.support.responses import error_of, text_of
from tests.support.structures import STRUCTURE, sign_up, structures

SIRET_LIST = ["FR", "GP", "GF", "MQ", "YT", "RE", "BL", "MF", "PM"]
EVERY = len(country_names("fr"))


def country_select(html: str) -> str:
    return re.search(r'<select[^>]*id="country".*?</select>', html, re.S).group(0)


def offered(html: str) -> list[str]:
    return re.findall(r'<option(?: selected)? value="(\w\w)">', country_select(html))


def selected(html: str) -> list[str]:
    return re.findall(r'<option selected value="(\w*)">', country_select(html))


@pytest.fixture
def htmx_marie(htmx_client, mailbox):
    return sign_up(htmx_client, mailbox)


def change_type(client, kind: str, **typed):
    """What htmx posts when the type changes: the whole form."""
    return client.submit("/structure/nouvelle/identifiant", {**STRUCTURE, "identifier_type": kind, **typed})


# -- the lists ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(IDENTIFIER_TYPES))
def test_each_type_offers_exactly_the_countries_its_rule_accepts(code):
    accepted = accepted_countries(code)
    for country in country_names("fr"):
        try:
            check_identifier_country(code, "", country)
        except RuleError:
            assert accepted is not None and country not in accepted, (code, country)
        else:
            assert accepted is None or country in accepted, (code, country)


def test_ue_offers_the_member_states_whose_vat_numbers_it_takes():
    """An intra-EU VAT number names its country (the rule): a prefix the VAT
    check takes, France's excepted; no other country can be right."""
    accepted = accepted_countries(UE)
    for country in country_names("fr"):
        prefix = "EL" if country == "GR" else country
        try:
            normalize_identifier(UE, f"{prefix}123456789")
        except RuleError as error:
            prefix_refused = error.message in (VAT_PREFIX, VAT_FRANCE)
        else:
            prefix_refused = False
        if country in accepted:
            assert not prefix_refused, country
            check_identifier_country(UE, f"{prefix}123456789", country)
        else:
            assert prefix_refused or country in {"GP", "MQ", "GF", "RE", "YT", "MF", "AX"}, country


def test_the_lists_of_each_type():
    assert accepted_countries(SIRET) == frozenset(SIRET_LIST)
    assert accepted_countries(UE) == EU_COUNTRIES - {"FR", "GP", "MQ", "GF", "RE", "YT", "MF", "AX"}
    assert "US" in accepted_countries(HORS_UE) and not accepted_countries(HORS_UE) & EU_COUNTRIES
    assert accepted_countries("ridet") == {"NC"} and accepted_countries("tahiti") == {"PF"}
    assert accepted_countries(EN_COURS) is None and accepted_countries(PARTICULIER) is None


# -- the full page -----------------------------------------------------------------------


def test_a_fresh_step_6_offers_the_siret_countries_france_selected(marie):
    html = text_of(marie.get("/structure/nouvelle"))
    assert offered(html) == SIRET_LIST
    assert selected(html) == ["FR"]
    assert '<option value="">Sélectionner le pays</option>' in country_select(html)


def test_without_javascript_a_country_of_another_list_is_answered_next_to_the_field_and_kept(client, mailbox):
    """The type changed to « Hors UE » without a reload: the list is still
    SIRET's, France is sent. The form comes back with the error next to the
    country, France kept selected, what was typed kept, and now the « Hors
    UE » list; choosing from it then creates the structure."""
    sign_up(client, mailbox)
    typed = {
        **STRUCTURE,
        "identifier_type": HORS_UE,
        "identifier": "AB1234",
        "postal_code": "10001",
        "phone": "",
    }
    response = client.submit("/structure/nouvelle", typed)
    assert response.status_code == 422
    html = text_of(response)
    assert "doit être située hors de l'Union européenne" in error_of(response, "country")
    assert selected(html) == ["FR"]
    assert "US" in offered(html) and "DE" not in offered(html) and "FR" in offered(html)
    assert len(offered(html)) == len(accepted_countries(HORS_UE)) + 1
    assert 'value="Ateliers Curie"' in html and 'value="AB1234"' in html and 'value="10001"' in html
    assert '<option selected value="hors_ue">' in html
    response = client.submit("/structure/nouvelle", {**typed, "country": "US"})
    assert response.status_code == 303
    assert structures(client.application)[0].country == "US"


@pytest.mark.parametrize(
    ("kind", "identifier", "message"),
    [
        ("tahiti", "A1234", "Polynésie française"),
        ("ridet", "123", "Nouvelle-Calédonie"),
        (HORS_UE, "AB_12", "hors de l'Union européenne"),
    ],
)
def test_a_wrong_identifier_and_a_country_its_type_refuses_are_both_said_at_the_first_submit(
    any_client, mailbox, kind, identifier, message
):
    """Not one « Soumettre » for the identifier, then another to learn that
    France (the default, kept) does not go with the type: the rule between
    the type and the country needs no valid identifier."""
    sign_up(any_client, mailbox)
    response = any_client.submit(
        "/structure/nouvelle", {**STRUCTURE, "identifier_type": kind, "identifier": identifier}
    )
    assert response.status_code == 422
    assert error_of(response, "identifier")
    assert message in error_of(response, "country")


def test_a_wrong_vat_number_names_no_country_to_choose(client, mailbox):
    sign_up(client, mailbox)
    response = client.submit(
        "/structure/nouvelle", {**STRUCTURE, "identifier_type": UE, "identifier": "DE1", "country": "DE"}
    )
    assert response.status_code == 422 and error_of(response, "identifier")
    assert 'id="country-error"' not in text_of(response)


def test_without_javascript_a_button_brings_the_type_s_countries_before_any_submit(client, mailbox):
    """The page offers, inside <noscript>, a button that keeps what was typed
    (the draft) and comes back with the chosen type's identifier and countries."""
    sign_up(client, mailbox)
    page = text_of(client.get("/structure/nouvelle"))
    button = re.search(r"<noscript><p><button[^>]*>([^<]*)</button></p></noscript>", page)
    assert button and "Mettre à jour l'identifiant et la liste des pays pour ce type" in button.group(1)
    assert 'formaction="/structure/nouvelle/brouillon"' in button.group(
        0
    ) and "formnovalidate" in button.group(0)
    typed = {**STRUCTURE, "identifier_type": HORS_UE, "identifier": "AB1234", "country": "FR"}
    response = client.submit("/structure/nouvelle/brouillon", typed)
    assert response.status_code == 303 and response.headers["Location"] == "/structure/nouvelle"
    html = text_of(client.get("/structure/nouvelle"))
    assert "US" in offered(html) and "DE" not in offered(html)
    assert '<option selected value="hors_ue">' in html and 'value="AB1234"' in html
    assert "Numéro d'identification hors UE" in html


def test_any_valid_country_is_taken_as_input_and_refused_by_the_rule_not_as_no_choice(marie):
    response = marie.submit("/structure/nouvelle", {**STRUCTURE, "country": "BE"})
    assert response.status_code == 422
    assert "doit être située en France" in error_of(response, "country")
    assert selected(text_of(response)) == ["BE"]
    assert offered(text_of(response)) == ["FR", "BE", *SIRET_LIST[1:]]  # in its place: « Belgique »


def test_a_code_that_is_no_country_is_no_choice_and_not_kept(marie):
    response = marie.submit("/structure/nouvelle", {**STRUCTURE, "country": "ZZ"})
    assert response.status_code == 422
    assert str(NOT_A_CHOICE) in error_of(response, "country")
    assert selected(text_of(response)) == [] and offered(text_of(response)) == SIRET_LIST


def test_a_type_that_accepts_any_country_offers_them_all(marie):
    response = marie.submit(
        "/structure/nouvelle", {**STRUCTURE, "identifier_type": EN_COURS, "company_name": ""}
    )
    assert response.status_code == 422
    assert len(offered(text_of(response))) == EVERY and selected(text_of(response)) == ["FR"]


# -- under htmx: the country field follows the type, out of band --------------------------


@pytest.mark.parametrize(
    ("kind", "country", "expected"),
    [
        ("ridet", "FR", ["FR", "NC"]),  # France kept (chosen), New Caledonia offered
        ("ridet", "NC", ["NC"]),
        ("tahiti", "PF", ["PF"]),
        ("siret", "RE", SIRET_LIST),
        ("ue", "BE", sorted(accepted_countries(UE))),
    ],
)
def test_changing_the_type_swaps_the_country_field_out_of_band(htmx_marie, kind, country, expected):
    response = change_type(htmx_marie, kind, country=country)
    assert response.status_code == 200
    html = text_of(response)
    assert '<div id="identifier-block"' not in html  # the block's content, its target
    accepted = accepted_countries(kind)
    refused = accepted is not None and country not in accepted
    block = "field field--error" if refused else "field"
    assert re.search(rf'<div class="{block}" id="field-country" data-hx-swap-oob="true">', html)
    assert sorted(offered(html)) == sorted(expected)
    assert selected(html) == [country]  # the country chosen is never lost
    assert html.count('id="country"') == 1


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("ridet", "Nouvelle-Calédonie"),
        ("tahiti", "Polynésie française"),
        ("hors_ue", "hors de l'Union européenne"),
        ("ue", "autre que la France. Pour la France, choisissez le type « SIRET »."),
    ],
)
def test_a_country_the_new_type_refuses_says_so_at_once_and_stays(htmx_marie, kind, message):
    """France, the default, for a RIDET: kept and selected (never lost), its
    error next to it now rather than after « Soumettre »."""
    html = text_of(change_type(htmx_marie, kind, country="FR"))
    assert '<div class="field field--error" id="field-country" data-hx-swap-oob="true">' in html
    error = re.search(r'<p class="error-message" id="country-error">(.*?)</p>', html, re.S).group(1)
    assert message in error
    assert selected(html) == ["FR"]
    assert 'aria-invalid="true"' in html.split('id="field-country"')[1]
    accepted = text_of(change_type(htmx_marie, "siret", country="FR"))
    assert "country-error" not in accepted


def test_a_vat_number_not_typed_yet_leaves_any_member_state_but_france(htmx_marie):
    """« UE hors France »: which member state is right is the VAT number's to
    say; with none typed, a member state other than France is no error yet,
    and a country outside the Union is one at once."""
    html = text_of(change_type(htmx_marie, "ue", country="BE"))
    assert "country-error" not in html and selected(html) == ["BE"]
    html = text_of(change_type(htmx_marie, "ue", country="US"))
    error = re.search(r'<p class="error-message" id="country-error">(.*?)</p>', html, re.S).group(1)
    assert "autre que la France." in error and "SIRET" not in error and selected(html) == ["US"]


def test_without_javascript_france_for_ue_hors_france_is_said_next_to_the_country_at_submit(client, mailbox):
    """The full page's side of the rule the type switch applies at once: with
    no VAT number typed yet, France is still refused, next to « Pays »."""
    sign_up(client, mailbox)
    response = client.submit("/structure/nouvelle", {**STRUCTURE, "identifier_type": "ue", "identifier": ""})
    assert response.status_code == 422
    assert "Pour la France, choisissez le type « SIRET »." in error_of(response, "country")
    assert selected(text_of(response)) == ["FR"]


def test_changing_the_type_to_one_of_any_country_swaps_in_the_whole_list(htmx_marie):
    html = text_of(change_type(htmx_marie, PARTICULIER, country="RE"))
    assert len(offered(html)) == EVERY and selected(html) == ["RE"]


def test_changing_the_type_on_the_attachment_search_swaps_no_country(htmx_marie):
    response = htmx_marie.submit("/structure/nouvelle/identifiant?recherche=1", {"identifier_type": "ridet"})
    assert response.status_code == 200
    assert "Numéro RIDET" in text_of(response) and "country" not in text_of(response)


def test_the_swapped_country_field_is_in_english_for_an_english_page(htmx_marie):
    from tests.support.i18n import speak

    speak(htmx_marie, "en")
    html = text_of(change_type(htmx_marie, "ue", country="DE"))
    assert '<option selected value="DE">Germany</option>' in html and "Allemagne" not in html
    refused = text_of(change_type(htmx_marie, "ridet", country="FR"))
    assert "A structure identified by a RIDET number must be in New Caledonia." in refused
    assert '<option value="">Select the country</option>' in html
