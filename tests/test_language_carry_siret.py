"""« Modifier la structure » of a structure numbered by the portal holds its
details and « Renseigner le SIRET ». They were two forms: the language
switch's button, without JavaScript, belongs to one form only, and sending
one lost what was typed in the other. The SIRET's field and button now
belong to the details' form (``form="structure-edit-form"``): the switch
carries both, and either button (or Enter in any field) sends the details,
then the SIRET. Attacks are named after what they try."""

from __future__ import annotations

import re

from models import Structure
from tests.support.app import query
from tests.support.responses import text_of
from tests.support.structures import SIRET, SIRET_NORMALISED, STRUCTURE, create_structure, sign_up
from tests.test_language_carry import switch_from, switch_of, value_of

DETAILS = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}


def internal_structure(app, client, mailbox) -> str:
    """Marie's structure, « en cours d'immatriculation »: its edit page's address."""
    sign_up(client, mailbox)
    assert create_structure(client, identifier_type="en_cours", identifier="").status_code in (200, 303)
    return f"/structure/{query(app, Structure.get).id}/modifier"


def edit_page(client, url: str) -> str:
    mode, client.htmx = client.htmx, False
    page = text_of(client.get(url))
    client.htmx = mode
    return page


def answered(client, response) -> str:
    """The page a form's answer shows: the fragment under htmx, else the page it leads to."""
    assert response.status_code in (200, 303), text_of(response)
    if response.status_code == 303:
        mode, client.htmx = client.htmx, False
        response = client.get(response.headers["Location"])
        client.htmx = mode
    return text_of(response)


def stored(app) -> Structure:
    return query(app, Structure.get)


def test_the_siret_s_field_and_button_are_the_edit_form_s(app, client, mailbox):
    url = internal_structure(app, client, mailbox)
    page = edit_page(client, url)
    assert switch_of(page)[0] == "structure-edit-form"
    field = re.search(r'<input[^>]* name="identifier"[^>]*>', page).group(0)
    assert 'form="structure-edit-form"' in field
    button = re.search(r'<button[^>]* name="assign_siret"[^>]*>', page).group(0)
    assert 'form="structure-edit-form"' in button
    assert "/siret" not in page  # no form of its own


def test_switching_language_keeps_the_siret_typed_with_the_details(app, any_client, mailbox):
    client = any_client
    url = internal_structure(app, client, mailbox)
    shown = value_of(edit_page(client, url), "seen")
    response = switch_from(client, url, {**DETAILS, "seen": shown, "label": "Atelier", "identifier": SIRET})
    assert response.status_code == (204 if client.htmx else 303)
    page = edit_page(client, url)
    assert '<html lang="en">' in page
    assert (value_of(page, "identifier"), value_of(page, "label")) == (SIRET, "Atelier")
    assert value_of(edit_page(client, url), "identifier") == ""  # once


def test_enter_in_the_siret_field_records_the_siret(app, any_client, mailbox):
    """Enter sends the details' form (its default button): left as shown,
    they are saved as they are, and the SIRET typed is recorded."""
    client = any_client
    url = internal_structure(app, client, mailbox)
    shown = value_of(edit_page(client, url), "seen")
    response = client.submit(url, {**DETAILS, "seen": shown, "identifier": SIRET})
    page = answered(client, response)
    assert f"Le SIRET {SIRET_NORMALISED} est enregistré pour la structure." in page
    assert "mises à jour" not in page  # nothing changed in them
    structure = stored(app)
    assert (structure.identifier_type, structure.identifier) == ("siret", SIRET_NORMALISED)
    assert structure.label == DETAILS["label"]


def test_the_siret_s_button_saves_the_details_typed_too(app, any_client, mailbox):
    client = any_client
    url = internal_structure(app, client, mailbox)
    shown = value_of(edit_page(client, url), "seen")
    fields = {**DETAILS, "seen": shown, "label": "Atelier du quai", "identifier": SIRET, "assign_siret": "1"}
    response = client.submit(url, fields)
    assert response.status_code in (200, 303), text_of(response)
    structure = stored(app)
    assert (structure.label, structure.identifier) == ("Atelier du quai", SIRET_NORMALISED)


def test_a_refused_siret_sent_with_the_details_keeps_both(app, any_client, mailbox):
    """The details are saved (and said so); the SIRET comes back as typed,
    with its error, at the edit page's own address."""
    client = any_client
    url = internal_structure(app, client, mailbox)
    shown = value_of(edit_page(client, url), "seen")
    fields = {**DETAILS, "seen": shown, "label": "Atelier du quai", "identifier": "123 456"}
    fields["assign_siret"] = "1"
    response = client.submit(url, fields)
    assert response.status_code == 422
    page = text_of(response)
    assert "Les informations de la structure ont été mises à jour." in page
    assert value_of(page, "identifier") == "123 456" and 'id="identifier-error"' in page
    assert value_of(page, "label") == "Atelier du quai"
    assert stored(app).label == "Atelier du quai" and stored(app).identifier_type == "en_cours"


def test_the_siret_s_button_with_nothing_typed_asks_for_it(app, client, mailbox):
    url = internal_structure(app, client, mailbox)
    shown = value_of(edit_page(client, url), "seen")
    response = client.submit(url, {**DETAILS, "seen": shown, "identifier": "", "assign_siret": "1"})
    assert response.status_code == 422
    assert 'id="identifier-error"' in text_of(response)


def test_a_siret_sent_alone_by_an_older_page_still_goes_to_its_own_address(app, any_client, mailbox):
    client = any_client
    url = internal_structure(app, client, mailbox)
    response = client.submit(url.replace("/modifier", "/siret"), {"identifier": SIRET, "assign_siret": "1"})
    assert response.status_code in (200, 303), text_of(response)
    assert stored(app).identifier == SIRET_NORMALISED


def test_the_details_alone_are_saved_as_before(app, any_client, mailbox):
    client = any_client
    url = internal_structure(app, client, mailbox)
    shown = value_of(edit_page(client, url), "seen")
    response = client.submit(url, {**DETAILS, "seen": shown, "label": "Atelier", "identifier": "  "})
    assert response.status_code in (200, 303), text_of(response)
    assert (stored(app).label, stored(app).identifier_type) == ("Atelier", "en_cours")


def test_attack_a_siret_sent_with_the_details_of_a_structure_that_has_one_changes_nothing(
    app, client, mailbox
):
    sign_up(client, mailbox)
    create_structure(client)
    url = f"/structure/{stored(app).id}/modifier"
    shown = value_of(edit_page(client, url), "seen")
    fields = {**DETAILS, "seen": shown, "identifier": "40483304800022", "assign_siret": "1"}
    response = client.submit(url, fields)
    assert response.status_code == 303
    assert "Cette structure a déjà son identifiant" in text_of(client.get(response.headers["Location"]))
    assert stored(app).identifier == SIRET_NORMALISED


def test_a_siret_sent_with_details_changed_after_another_tab_gave_one_saves_the_details(
    app, any_client, mailbox
):
    """The page was shown before another tab recorded the SIRET: the details
    typed are saved, and the page says which identifier it has."""
    client = any_client
    url = internal_structure(app, client, mailbox)
    shown = value_of(edit_page(client, url), "seen")
    assert client.submit(url.replace("/modifier", "/siret"), {"identifier": SIRET}).status_code in (200, 303)
    typed = {**DETAILS, "seen": shown, "label": "Atelier", "identifier": "40483304800022"}
    response = client.submit(url, typed)
    page = answered(client, response)
    assert "mises à jour" in page and "Cette structure a déjà son identifiant" in page
    assert (stored(app).label, stored(app).identifier) == ("Atelier", SIRET_NORMALISED)


def test_attack_another_site_cannot_send_a_siret_with_the_details(app, client, mailbox):
    url = internal_structure(app, client, mailbox)
    shown = value_of(edit_page(client, url), "seen")
    response = client.post(url, data={**DETAILS, "seen": shown, "identifier": SIRET, "assign_siret": "1"})
    assert response.status_code == 400
    assert stored(app).identifier_type == "en_cours"


def test_the_console_s_edit_of_a_structure_carries_what_was_typed(app, operator):
    """The operators' « Corriger la structure » has one form, the switch's."""
    mode, operator.htmx = operator.htmx, False
    create_structure(operator, identifier_type="en_cours", identifier="")
    operator.htmx = mode
    url = f"/administration/structures/{stored(app).id}/modifier"
    page = edit_page(operator, url)
    assert switch_of(page)[0] == "structure-edit-form" and 'name="identifier"' not in page
    shown = value_of(page, "seen")
    switch_from(operator, url, {**DETAILS, "seen": shown, "label": "Atelier corrigé"})
    page = edit_page(operator, url)
    assert '<html lang="en">' in page and value_of(page, "label") == "Atelier corrigé"
