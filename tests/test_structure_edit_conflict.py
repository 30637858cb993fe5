"""A structure's edit form sent after another change of its details (a
second tab, an operator's correction meanwhile) writes nothing over that
change unseen. A field changed meanwhile and left as shown takes the stored
value; one changed both here and meanwhile, to different values, refuses
the edit once, the person's value kept and the stored one named under it;
sent again, it is written. JavaScript off and under htmx, for the
gestionnaire principal and for an operator."""

from __future__ import annotations

import json
import re

import pytest

from models import Structure
from tests.support.app import query
from tests.support.i18n import speak
from tests.support.responses import follow, text_of, without_tokens
from tests.support.seen import commit_while_checked, hint_of, made, read, seen_in, value_of
from tests.support.structures import STRUCTURE, create_structure, sign_up

DETAILS = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
CHANGED = "Ces informations ont été modifiées pendant que vous les modifiiez."
SAVED = "Les informations de la structure ont été mises à jour."


def stored(app) -> Structure:
    return query(app, Structure.get)


@pytest.fixture
def marie(app, any_client, mailbox):
    """Marie, gestionnaire principal of « Ateliers Curie », on a full-page or an
    htmx client; returns (client, the edit page's URL)."""
    client = sign_up(any_client, mailbox)
    assert create_structure(client).status_code in (200, 303)
    return client, f"/structure/{stored(app).id}/modifier"


def tab(client, url: str) -> str:
    """The edit page as a tab shows it: what its form carries."""
    response = client.get(url)
    assert response.status_code == 200
    return seen_in(response)


def meanwhile(app, **details) -> None:
    """Another change of the details (another tab, an operator)."""
    query(app, lambda: Structure.get().update_details(**details))


def test_the_edit_form_carries_the_details_it_shows(app, marie):
    client, url = marie
    shown = read(tab(client, url))
    assert shown[Structure.DETAILS.index("city")] == "Paris"
    assert shown[Structure.DETAILS.index("non_diffusible")] is False
    response = client.submit(url, {**DETAILS, "seen": made(shown), "city": "Lyon"})
    assert SAVED in follow(client, response)
    assert stored(app).city == "Lyon"


def test_edits_of_different_fields_from_two_tabs_are_both_kept(app, marie):
    client, url = marie
    earlier = tab(client, url)
    response = client.submit(url, {**DETAILS, "seen": tab(client, url), "email": "accueil@ateliers-curie.fr"})
    assert SAVED in follow(client, response)
    # The earlier tab changes the phone; its e-mail is still the one it showed.
    response = client.submit(url, {**DETAILS, "seen": earlier, "phone": "01 98 76 54 32"})
    assert SAVED in follow(client, response)
    row = stored(app)
    assert (row.email, row.phone) == ("accueil@ateliers-curie.fr", "+33198765432")


def test_one_field_changed_in_both_tabs_is_refused_once_with_the_value_stored_meanwhile(app, marie):
    client, url = marie
    earlier = tab(client, url)
    meanwhile(app, city="Lyon", email="accueil@ateliers-curie.fr")
    response = client.submit(url, {**DETAILS, "seen": earlier, "city": "Marseille", "label": "Atelier Sud"})
    assert response.status_code == 422
    text = text_of(response)
    assert CHANGED in text and "Soumettez à nouveau pour l'enregistrer." in text
    assert ("<html" in text) != client.htmx
    assert hint_of(text, "city") == "Enregistré entre-temps : Lyon. Votre saisie est conservée."
    assert value_of(text, "city") == "Marseille"
    # Changed meanwhile only: the stored value is taken, and named.
    assert value_of(text, "email") == "accueil@ateliers-curie.fr"
    assert hint_of(text, "email").startswith(
        "Enregistré entre-temps : accueil@ateliers-curie.fr. Facultatif."
    )
    # Changed here only: kept, nothing to name.
    assert value_of(text, "label") == "Atelier Sud" and "entre-temps" not in hint_of(text, "label")
    assert stored(app).city == "Lyon" and stored(app).label == "Les Ateliers"  # nothing written
    # Sent again as it stands, the person having read the values, it is written.
    response = client.submit(
        url, {**DETAILS, "seen": seen_in(response), "city": "Marseille", "label": "Atelier Sud",
              "email": "accueil@ateliers-curie.fr"},
    )  # fmt: skip
    assert SAVED in follow(client, response)
    row = stored(app)
    assert (row.city, row.label, row.email) == ("Marseille", "Atelier Sud", "accueil@ateliers-curie.fr")


def test_a_field_changed_to_the_same_value_in_both_tabs_is_no_conflict(app, marie):
    client, url = marie
    earlier = tab(client, url)
    meanwhile(app, city="Lyon")
    response = client.submit(url, {**DETAILS, "seen": earlier, "city": "Lyon"})
    assert SAVED in follow(client, response)


def test_an_operator_s_correction_meanwhile_is_named_in_words(app, marie):
    client, url = marie
    earlier = tab(client, url)
    meanwhile(app, country="BE", non_diffusible=True, city="Bruxelles")
    response = client.submit(url, {**DETAILS, "seen": earlier, "city": "Lyon"})
    assert response.status_code == 422
    text = text_of(response)
    assert hint_of(text, "country") == "Enregistré entre-temps : Belgique."
    assert hint_of(text, "non_diffusible") == "Enregistré entre-temps : oui."
    assert 'aria-describedby="non_diffusible-hint"' in text
    assert re.search(
        r'<input[^>]*checked[^>]*id="non_diffusible"|<input[^>]*id="non_diffusible"[^>]*checked', text
    )
    assert stored(app).city == "Bruxelles"


def test_the_operator_console_s_edit_is_checked_the_same_way(app, operator):
    """Marie, operator, corrects her structure in the console while her own
    page of it (as gestionnaire principal) changed it meanwhile."""
    assert create_structure(operator).status_code in (200, 303)
    structure_id = stored(app).id
    console = f"/administration/structures/{structure_id}/modifier"
    earlier = tab(operator, console)
    as_manager = {**DETAILS, "seen": tab(operator, console), "city": "Lyon"}
    assert SAVED in follow(operator, operator.submit(f"/structure/{structure_id}/modifier", as_manager))
    response = operator.submit(console, {**DETAILS, "seen": earlier, "city": "Lille"})
    assert response.status_code == 422
    assert hint_of(text_of(response), "city") == "Enregistré entre-temps : Lyon. Votre saisie est conservée."
    assert stored(app).city == "Lyon"


def test_the_english_page_names_the_stored_values_in_english(app, marie):
    client, url = marie
    speak(client)
    earlier = tab(client, url)
    meanwhile(app, country="BE", city="Bruxelles")
    text = text_of(client.submit(url, {**DETAILS, "seen": earlier, "city": "Lyon"}))
    assert "These details were changed while you were editing them." in text
    assert hint_of(text, "country") == "Saved in the meantime: Belgium."
    assert hint_of(text, "city") == "Saved in the meantime: Bruxelles. What you typed is kept."


@pytest.mark.parametrize(
    "forged",
    ["not json", "[1, 2]", json.dumps([{"a": 1}] * len(Structure.DETAILS)), "<script>alert(1)</script>"],
)
def test_attack_a_made_up_seen_field_writes_nothing_unseen(app, marie, forged):
    """What the form showed, made up or unreadable: every field that differs
    from the stored one is named, as after any change meanwhile; nothing is
    written unseen, and the field sent back holds the stored details."""
    client, url = marie
    response = client.submit(url, {**DETAILS, "seen": forged, "city": "Lyon"})
    assert response.status_code == 422
    text = text_of(response)
    assert "<script>alert(1)" not in text
    assert hint_of(text, "city") == "Enregistré entre-temps : Paris. Votre saisie est conservée."
    assert read(seen_in(response)) == read(tab(client, url))
    assert stored(app).city == "Paris"


def test_an_edit_without_what_it_showed_is_written_as_before(app, marie):
    """A page shown before the form carried what it showed: the last one
    sent wins, as it did."""
    client, url = marie
    meanwhile(app, city="Lyon")
    response = client.submit(url, {**DETAILS, "city": "Marseille"})
    assert SAVED in follow(client, response)
    assert stored(app).city == "Marseille"


def test_attack_a_postal_code_typed_here_is_checked_with_the_country_stored_meanwhile(app, marie):
    """An operator moves the structure to La Réunion (its postal code 974…
    fits both) while the person types a mainland postal code, the country
    left as shown: the country stored meanwhile is taken, and the postal
    code is checked with it, never stored beside a country it does not fit."""
    client, url = marie
    meanwhile(app, postal_code="97410")
    earlier = tab(client, url)
    meanwhile(app, country="RE", city="Saint-Pierre")
    response = client.submit(
        url, {**DETAILS, "seen": earlier, "postal_code": "75008", "city": "Saint-Pierre"}
    )
    assert response.status_code == 422
    text = text_of(response)
    assert hint_of(text, "country") == "Enregistré entre-temps : Réunion, Île de la."
    assert "il doit commencer par 974." in text
    assert 'aria-invalid="true"' in text
    row = stored(app)
    assert (row.country, row.postal_code) == ("RE", "97410")


def test_attack_a_postal_code_stored_meanwhile_is_checked_with_the_country_typed_here(app, marie):
    """The person moves the structure to La Réunion, its postal code left as
    shown, while another tab gave it a mainland one: taken, it is checked
    with the country typed here."""
    client, url = marie
    meanwhile(app, postal_code="97410")
    earlier = tab(client, url)
    meanwhile(app, postal_code="75008")
    response = client.submit(
        url,
        {**DETAILS, "seen": earlier, "postal_code": "97410", "country": "RE", "phone": "+33 1 23 45 67 89"},
    )
    assert response.status_code == 422
    text = text_of(response)
    assert "Enregistré entre-temps : 75008." in hint_of(text, "postal_code")
    assert value_of(text, "postal_code") == "75008"
    assert "il doit commencer par 974." in text
    row = stored(app)
    assert (row.country, row.postal_code) == ("FR", "75008")


def test_an_internationalised_address_stored_meanwhile_is_named_as_the_field_shows_it(app, marie):
    """The field shows « accueil@ateliers-été.fr »; its hint names it alike,
    never in the ASCII form the portal stores and sends it in."""
    client, url = marie
    earlier = tab(client, url)
    meanwhile(app, email="accueil@xn--ateliers-t-j7ab.fr")
    text = text_of(client.submit(url, {**DETAILS, "seen": earlier, "email": "autre@ateliers-curie.fr"}))
    assert hint_of(text, "email").startswith(
        "Enregistré entre-temps : accueil@ateliers-été.fr. Votre saisie est conservée."
    )
    assert "xn--" not in without_tokens(text)


@pytest.fixture
def committed_while_checked(app, monkeypatch):
    """Another change of the details committed right after this edit's form
    was checked, before its write: the two requests sent at the same time."""
    from forms.structure import StructureEditForm

    return commit_while_checked(monkeypatch, StructureEditForm, lambda **details: meanwhile(app, **details))


@pytest.mark.parametrize("where", ["manager", "console"])
def test_attack_a_change_committed_between_the_check_and_the_write_is_not_written_over(
    app, operator, committed_while_checked, where
):
    assert create_structure(operator).status_code in (200, 303)
    structure_id = stored(app).id
    url = (
        f"/structure/{structure_id}/modifier"
        if where == "manager"
        else (f"/administration/structures/{structure_id}/modifier")
    )
    committed_while_checked({"city": "Lyon", "email": "accueil@ateliers-curie.fr"})
    response = operator.submit(url, {**DETAILS, "seen": tab(operator, url), "label": "Atelier Sud"})
    follow(operator, response)
    row = stored(app)
    assert (row.city, row.email, row.label) == ("Lyon", "accueil@ateliers-curie.fr", "Atelier Sud")
    # One changed on both sides: refused once, the value stored meanwhile named.
    committed_while_checked({"city": "Lille"})
    response = operator.submit(url, {**DETAILS, "seen": tab(operator, url), "city": "Marseille"})
    assert response.status_code == 422
    assert hint_of(text_of(response), "city") == "Enregistré entre-temps : Lille. Votre saisie est conservée."
    assert stored(app).city == "Lille"
