"""A structure's edit offers the countries step 6 offers for its identifier
type (forms.structure.accepted_countries, the one source of both lists): the
type does not change on an edit. A SIRET structure is offered France and
its overseas territories, not 249 countries it would then refuse at
« Soumettre »; a type of any country, all of them. A country stored that
the type refuses (stored before the rule, or by hand) stays offered and
selected, its error next to it as the page opens; one that is no longer a
country of the list is named. Full page and htmx, for the gestionnaire
principal and for an operator."""

from __future__ import annotations

import pytest

from forms.structure import accepted_countries
from models import Structure
from rules.identifiers import EN_COURS, HORS_UE, PARTICULIER, RIDET, SIRET, TAHITI, UE
from rules.places import country_names
from tests.support.app import query
from tests.support.responses import error_of, follow, is_fragment, shown, text_of
from tests.support.seen import seen_in
from tests.support.structures import STRUCTURE, create_structure, sign_up
from tests.test_structure_countries import country_select, offered, selected

SIRET_LIST = ["FR", "GP", "GF", "MQ", "YT", "RE", "BL", "MF", "PM"]  # France first, then by name
EVERY = len(country_names("fr"))
DETAILS = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
SIRET_ONLY_IN_FRANCE = "Une structure identifiée par un SIRET doit être située en France"

# What step 6 takes for each type (tests/test_structure.py).
CREATED = {
    SIRET: {},
    UE: {"identifier_type": UE, "identifier": "DE136695976", "country": "DE", "postal_code": "10115",
         "phone": "+49 30 1234567"},
    HORS_UE: {"identifier_type": HORS_UE, "identifier": "CHE123456", "country": "CH", "postal_code": "8001",
              "phone": "+41 44 668 18 00"},
    RIDET: {"identifier_type": RIDET, "identifier": "1234567.001", "country": "NC", "postal_code": "98800",
            "phone": ""},
    TAHITI: {"identifier_type": TAHITI, "identifier": "A12345001", "country": "PF", "postal_code": "98714",
             "phone": ""},
    EN_COURS: {"identifier_type": EN_COURS, "identifier": ""},
    PARTICULIER: {"identifier_type": PARTICULIER, "identifier": "", "country": "BE", "postal_code": "1000",
                  "phone": ""},
}  # fmt: skip


def stored(app) -> Structure:
    return query(app, Structure.get)


def store_country(app, country: str) -> None:
    """A country written to the structure outside the forms (before the
    rule, by hand, or a code since withdrawn from ISO 3166)."""
    query(app, lambda: Structure.update(country=country).execute())


def edit_url(app) -> str:
    return f"/structure/{stored(app).id}/modifier"


@pytest.fixture
def marie(app, any_client, mailbox):
    """Marie, signed in on a full-page or an htmx client, no structure yet."""
    return sign_up(any_client, mailbox)


def manager_of(app, client, kind: str = SIRET):
    """``client`` creates a structure of that identifier type; its edit page's URL."""
    response = create_structure(client, **CREATED[kind])
    assert response.status_code in (200, 303), text_of(response)
    assert stored(app).identifier_type == kind
    return edit_url(app)


# -- the lists ---------------------------------------------------------------------------


def test_the_edit_of_a_siret_structure_offers_the_countries_of_step_6(app, marie):
    step_6 = shown(marie, "/structure/nouvelle")
    url = manager_of(app, marie)
    html = shown(marie, url)  # a fragment under htmx, a full page without
    assert offered(html) == offered(step_6) == SIRET_LIST
    assert selected(html) == ["FR"]
    assert "AF" not in offered(html) and "BE" not in offered(html)
    assert '<option value="">Sélectionner le pays</option>' in country_select(html)
    assert 'id="country-error"' not in html


@pytest.mark.parametrize("kind", list(CREATED))
def test_each_type_s_edit_offers_exactly_the_countries_its_type_accepts(app, marie, kind):
    url = manager_of(app, marie, kind)
    html = shown(marie, url)
    accepted = {"DE"} if kind == UE else accepted_countries(kind)  # a VAT number names its state
    if accepted is None:
        assert len(offered(html)) == EVERY
    else:
        assert set(offered(html)) == accepted
    assert selected(html) == [CREATED[kind].get("country", "FR")]
    assert 'id="country-error"' not in html


def test_the_edit_of_an_eu_structure_offers_the_state_its_vat_number_names(app, marie):
    """Step 6 offers every member state but France (the number is typed
    there); the edit, whose number does not change, offers the one it names."""
    url = manager_of(app, marie, UE)
    html = shown(marie, url)
    assert offered(html) == ["DE"] and selected(html) == ["DE"]
    response = marie.submit(url, {**DETAILS, "country": "AT", "postal_code": "1010", "phone": ""})
    assert response.status_code == 422
    assert "Le numéro de TVA commence par DE" in error_of(response, "country")
    assert set(offered(text_of(response))) == {"DE", "AT"}  # the country sent stays, with its error


def test_a_type_that_allows_any_country_offers_them_all_in_the_edit(app, marie):
    url = manager_of(app, marie, EN_COURS)
    html = shown(marie, url)
    assert len(offered(html)) == EVERY and offered(html)[0] == "FR" and "AF" in offered(html)
    response = marie.submit(url, {**DETAILS, "country": "AF", "postal_code": "1001", "phone": ""})
    assert "Les informations de la structure ont été mises à jour." in follow(marie, response)
    assert stored(app).country == "AF"


def test_the_edit_s_list_stays_the_type_s_after_an_error(app, marie):
    url = manager_of(app, marie)
    response = marie.submit(url, {**DETAILS, "city": ""})
    assert response.status_code == 422 and is_fragment(response) == marie.htmx
    assert offered(text_of(response)) == SIRET_LIST and selected(text_of(response)) == ["FR"]


def test_a_country_the_type_refuses_sent_anyway_is_answered_next_to_the_field_and_kept(app, marie):
    """Afghanistan is not offered; sent all the same (a page shown before
    this change, a forged form), it is refused by the rule, next to « Pays »,
    kept selected, and nothing is written."""
    url = manager_of(app, marie)
    response = marie.submit(url, {**DETAILS, "country": "AF", "postal_code": "1001", "city": "Kaboul"})
    assert response.status_code == 422
    assert SIRET_ONLY_IN_FRANCE in error_of(response, "country")
    html = text_of(response)
    assert selected(html) == ["AF"] and set(offered(html)) == {*SIRET_LIST, "AF"}
    assert 'value="Kaboul"' in html
    assert stored(app).country == "FR" and stored(app).city == "Paris"


# -- a country stored outside the type's list --------------------------------------------


def test_a_stored_country_the_type_refuses_stays_selectable_and_is_said_as_the_page_opens(app, marie):
    url = manager_of(app, marie)
    store_country(app, "AF")
    response = marie.get(url)
    assert response.status_code == 200 and is_fragment(response) == marie.htmx
    html = text_of(response)
    assert selected(html) == ["AF"] and set(offered(html)) == {*SIRET_LIST, "AF"}
    assert SIRET_ONLY_IN_FRANCE in error_of(response, "country")
    assert 'href="#country"' in html  # in the error summary too
    # Kept as it is, the rule still says it; a country of the list is saved.
    response = marie.submit(url, {**DETAILS, "country": "AF", "postal_code": "1001"})
    assert response.status_code == 422 and SIRET_ONLY_IN_FRANCE in error_of(response, "country")
    response = marie.submit(url, {**DETAILS, "country": "RE", "postal_code": "97400", "phone": ""})
    assert "Les informations de la structure ont été mises à jour." in follow(marie, response)
    assert stored(app).country == "RE"
    assert 'id="country-error"' not in shown(marie, url)


def test_a_stored_code_that_is_no_longer_a_country_is_named_never_a_server_error(app, marie):
    url = manager_of(app, marie)
    store_country(app, "AN")  # the Netherlands Antilles, withdrawn from ISO 3166 in 2010
    response = marie.get(url)
    assert response.status_code == 200
    html = text_of(response)
    assert "Le pays enregistré pour la structure (AN) ne figure pas dans la liste" in error_of(
        response, "country"
    )
    assert selected(html) == [] and offered(html) == SIRET_LIST
    response = marie.submit(url, {**DETAILS, "country": ""})
    assert response.status_code == 422 and "Ce champ est obligatoire." in error_of(response, "country")
    response = marie.submit(url, DETAILS)
    assert "Les informations de la structure ont été mises à jour." in follow(marie, response)
    assert stored(app).country == "FR"


def test_a_refused_country_stored_meanwhile_is_said_by_the_rule_not_as_no_choice(app, marie):
    """The page showed France; the country was changed meanwhile (outside
    the forms) to one the type refuses. The edit, its country left as shown,
    takes the stored one (forms.seen): the list is made again for it, and
    the rule says what is wrong with it."""
    url = manager_of(app, marie)
    seen = seen_in(marie.get(url))
    store_country(app, "AF")
    response = marie.submit(url, {**DETAILS, "seen": seen, "city": "Lyon", "postal_code": "69001"})
    assert response.status_code == 422
    assert SIRET_ONLY_IN_FRANCE in error_of(response, "country")
    assert selected(text_of(response)) == ["AF"]
    assert stored(app).city == "Paris"


# -- an operator's correction: the same form --------------------------------------------


def test_an_operator_s_correction_offers_the_structure_type_s_countries(app, operator, structure_id):
    url = f"/administration/structures/{structure_id}/modifier"
    html = shown(operator, url)
    assert offered(html) == SIRET_LIST and selected(html) == ["FR"]
    store_country(app, "AF")
    response = operator.get(url)
    assert response.status_code == 200
    assert selected(text_of(response)) == ["AF"] and SIRET_ONLY_IN_FRANCE in error_of(response, "country")


def test_the_edit_s_countries_are_named_in_english_on_an_english_page(app, marie):
    from tests.support.i18n import speak

    url = manager_of(app, marie)
    speak(marie, "en")
    html = shown(marie, url)
    assert set(offered(html)) == set(SIRET_LIST)
    assert '<option selected value="FR">France</option>' in html
    assert "Guadeloupe" in country_select(html) and "Afghanistan" not in country_select(html)
    assert '<option value="">Select the country</option>' in html
