"""A structure's edit form sent after another change of its details (a
second tab, an operator's correction meanwhile): nothing is written over
that change unseen. The edit is refused once with the person's values kept
and, under each field stored otherwise meanwhile, its stored value; sent
again, it is written. JavaScript off and under htmx, for the gestionnaire
principal and for an operator."""

from __future__ import annotations

import re

import pytest

from models import Structure
from tests.support.app import query
from tests.support.i18n import speak
from tests.support.responses import follow, text_of
from tests.support.structures import STRUCTURE, create_structure, sign_up

DETAILS = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
CHANGED = "Ces informations ont été modifiées pendant que vous les modifiiez."
SAVED = "Les informations de la structure ont été mises à jour."


def stored(app) -> Structure:
    return query(app, Structure.get)


def version_in(text: str) -> str:
    match = re.search(r'name="seen" type="hidden" value="([0-9a-f]+)"', text)
    assert match, "no version in the form"
    return match.group(1)


def hint_of(text: str, field: str) -> str | None:
    match = re.search(rf'<p class="hint" id="{field}-hint">(.*?)</p>', text, re.S)
    return match and match.group(1)


def value_of(text: str, field: str) -> str:
    match = re.search(rf'<input[^>]* id="{field}"[^>]*>', text)
    assert match, f"no {field} input"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


@pytest.fixture
def marie(app, any_client, mailbox):
    """Marie, gestionnaire principal of « Ateliers Curie », on a full-page or an
    htmx client; returns (client, the edit page's URL)."""
    client = sign_up(any_client, mailbox)
    assert create_structure(client).status_code in (200, 303)
    return client, f"/structure/{stored(app).id}/modifier"


def tab(client, url: str) -> str:
    """The edit page as a tab shows it: its version."""
    response = client.get(url)
    assert response.status_code == 200
    return version_in(text_of(response))


def test_the_edit_form_carries_the_version_of_the_details_it_shows(app, marie):
    client, url = marie
    version = tab(client, url)
    assert version == query(app, lambda: Structure.get().details_version())
    response = client.submit(url, {**DETAILS, "seen": version, "city": "Lyon"})
    assert SAVED in follow(client, response)
    assert stored(app).city == "Lyon"
    assert tab(client, url) != version  # the details changed, and so did their version


def test_an_edit_from_an_earlier_tab_is_refused_once_with_the_values_stored_meanwhile(app, marie):
    client, url = marie
    earlier = tab(client, url)
    later = tab(client, url)
    response = client.submit(url, {**DETAILS, "seen": later, "email": "accueil@ateliers-curie.fr"})
    assert SAVED in follow(client, response)
    # The earlier tab changes the phone; its e-mail is the one it was shown.
    response = client.submit(url, {**DETAILS, "seen": earlier, "phone": "01 98 76 54 32"})
    assert response.status_code == 422
    text = text_of(response)
    assert CHANGED in text and "Soumettez à nouveau pour l'enregistrer." in text
    assert ("<html" in text) != client.htmx
    assert hint_of(text, "email").startswith(
        "Enregistré entre-temps : accueil@ateliers-curie.fr. Votre saisie est conservée."
    )
    assert hint_of(text, "phone").startswith("Enregistré entre-temps : +33123456789.")
    assert "Enregistré entre-temps" not in (hint_of(text, "city") or "")  # unchanged on both sides
    # What the person typed is kept, nothing is written.
    assert value_of(text, "phone") == "+33198765432"  # read, as any valid number is
    assert value_of(text, "email") == "contact@ateliers-curie.fr"
    row = stored(app)
    assert (row.email, row.phone) == ("accueil@ateliers-curie.fr", "+33123456789")
    # Sent again as it stands (the person read the values), it is written.
    again = version_in(text)
    response = client.submit(url, {**DETAILS, "seen": again, "phone": "01 98 76 54 32"})
    assert SAVED in follow(client, response)
    row = stored(app)
    assert (row.email, row.phone) == ("contact@ateliers-curie.fr", "+33198765432")


def test_an_earlier_tab_that_sends_what_was_stored_meanwhile_is_written(app, marie):
    """The change meanwhile is the one this tab makes too: nothing to tell."""
    client, url = marie
    earlier = tab(client, url)
    client.submit(url, {**DETAILS, "seen": tab(client, url), "city": "Lyon"})
    response = client.submit(url, {**DETAILS, "seen": earlier, "city": "Lyon"})
    assert SAVED in follow(client, response)


def test_an_operator_s_correction_meanwhile_is_not_written_over(app, marie, mailbox):
    client, url = marie
    earlier = tab(client, url)
    query(app, lambda: Structure.get().update_details(country="BE", non_diffusible=True))
    response = client.submit(url, {**DETAILS, "seen": earlier, "label": "Nouveau libellé"})
    assert response.status_code == 422
    text = text_of(response)
    assert hint_of(text, "country").startswith("Enregistré entre-temps : Belgique.")
    assert hint_of(text, "non_diffusible").startswith("Enregistré entre-temps : oui.")
    assert 'aria-describedby="non_diffusible-hint"' in text
    assert stored(app).label == "Les Ateliers"


def test_the_operator_console_s_edit_is_refused_the_same_way(app, operator):
    """Marie, operator, corrects her structure in the console while her own
    page of it (a tab as gestionnaire principal) changed it meanwhile."""
    assert create_structure(operator).status_code in (200, 303)
    structure_id = stored(app).id
    console = f"/administration/structures/{structure_id}/modifier"
    earlier = tab(operator, console)
    as_manager = {**DETAILS, "seen": tab(operator, console), "city": "Lyon"}
    operator.submit(f"/structure/{structure_id}/modifier", as_manager)
    response = operator.submit(console, {**DETAILS, "seen": earlier, "postal_code": "75003"})
    assert response.status_code == 422
    assert hint_of(text_of(response), "city").startswith("Enregistré entre-temps : Lyon.")
    assert (stored(app).city, stored(app).postal_code) == ("Lyon", "75002")


def test_the_english_page_names_the_stored_value_in_english(app, marie):
    client, url = marie
    speak(client)
    earlier = tab(client, url)
    query(app, lambda: Structure.get().update_details(country="BE"))
    text = text_of(client.submit(url, {**DETAILS, "seen": earlier}))
    assert "These details were changed while you were editing them." in text
    assert hint_of(text, "country").startswith("Saved in the meantime: Belgium.")


def test_attack_a_forged_version_writes_nothing_unseen(app, marie):
    """A version made up, or another structure's: the check refuses once and
    names what is stored, as for any page shown earlier; it never lets an
    edit through unseen, and the value it sends back is the stored one."""
    client, url = marie
    for forged in ("0" * 16, "<script>alert(1)</script>", "x" * 200):
        response = client.submit(url, {**DETAILS, "seen": forged, "city": "Lyon"})
        assert response.status_code == 422
        text = text_of(response)
        assert "<script>alert(1)" not in text
        assert version_in(text) == query(app, lambda: Structure.get().details_version())
    assert stored(app).city == "Paris"


def test_an_edit_without_a_version_is_written_as_before(app, marie):
    """A page shown before versions existed carries none: the last one sent
    wins, as it did."""
    client, url = marie
    response = client.submit(url, {**DETAILS, "city": "Lyon"})
    assert SAVED in follow(client, response)
    assert stored(app).city == "Lyon"
