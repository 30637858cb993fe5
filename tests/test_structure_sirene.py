"""Step 6 with the SIRENE directory: the form filled from it (two
« Soumettre » without JavaScript, in place under htmx), INSEE's name not
editable, « Non diffusible », the refusals, the hint without a directory,
the attachment search's offers, the check date and closed establishments."""

from __future__ import annotations

import json
import re

import pytest

from models import Draft, db
from sirene import directory, load
from tests.support.app import query
from tests.support.responses import error_of, follow, text_of
from tests.support.sirene_files import (
    ESTABLISHMENT_HEADER,
    HAUSSMANN,
    LEGAL_UNIT_HEADER,
    establishment,
    legal_unit,
    write,
)
from tests.support.structures import (
    PIERRE,
    SIRET_NORMALISED,
    STRUCTURE,
    create_structure,
    new_client,
    sign_up,
    structures,
)

CLOSED = "55203253400562"
MASKED = "80295478400012"
UNKNOWN = "44306184100047"
SIBLING = "73282932000058"  # another establishment of SIRET_NORMALISED's SIREN


def load_directory(app, tmp_path, sites=None, units=None):
    sites = sites or [
        establishment(SIRET_NORMALISED, **HAUSSMANN, enseigne1Etablissement="ATELIER CURIE"),
        establishment(
            SIBLING,
            etablissementSiege="false",
            codePostalEtablissement="69003",
            libelleCommuneEtablissement="LYON 3EME",
            libelleVoieEtablissement="DES LILAS",
        ),
        establishment(
            CLOSED,
            etatAdministratifEtablissement="F",
            libelleVoieEtablissement="ANCIENNE",
            codePostalEtablissement="92100",
            libelleCommuneEtablissement="BOULOGNE-BILLANCOURT",
        ),
        establishment(
            MASKED,
            statutDiffusionEtablissement="P",
            libelleVoieEtablissement="[ND]",
            numeroVoieEtablissement="[ND]",
            codePostalEtablissement="33000",
            libelleCommuneEtablissement="BORDEAUX",
        ),
    ]
    units = units or [
        legal_unit(SIRET_NORMALISED[:9], denominationUniteLegale="CURIE ET FILLES"),
        legal_unit(CLOSED[:9], denominationUniteLegale="DANONE"),
        legal_unit(
            MASKED[:9], statutDiffusionUniteLegale="P", prenom1UniteLegale="[ND]", nomUniteLegale="DUPONT"
        ),
    ]
    paths = [
        write(tmp_path / f"sites-{len(list(tmp_path.iterdir()))}.csv", ESTABLISHMENT_HEADER, sites),
        write(tmp_path / f"units-{len(list(tmp_path.iterdir()))}.csv", LEGAL_UNIT_HEADER, units),
    ]
    with app.app_context(), db.connection_context():
        load.import_files(paths)


@pytest.fixture
def marie(any_client, mailbox, app, tmp_path):
    load_directory(app, tmp_path)
    return sign_up(any_client, mailbox)


def value_of(response, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', text_of(response))
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def first_submit(client, siret=SIRET_NORMALISED):
    return client.submit(
        "/structure/nouvelle", {"identifier_type": "siret", "identifier": siret, "country": "FR"}
    )


def test_known_siret_comes_back_filled_then_second_submit_creates(marie, app):
    response = first_submit(marie, "732 829 320 00074")
    text = text_of(response)
    assert response.status_code == 200
    assert "Établissement trouvé dans le répertoire SIRENE de l'INSEE : CURIE ET FILLES" in text
    assert value_of(response, "company_name") == "CURIE ET FILLES"
    assert re.search(r'<input[^>]*name="company_name"[^>]*readonly', text)
    assert value_of(response, "label") == "ATELIER CURIE"
    assert value_of(response, "address") == "12 Boulevard HAUSSMANN"
    assert (value_of(response, "postal_code"), value_of(response, "city")) == ("75009", "PARIS 9")
    assert value_of(response, "sirene_siret") == SIRET_NORMALISED
    assert 'class="error-message"' not in text and "Il y a " not in text
    data = {**LINKED_STRUCTURE, "email": "contact@curie.fr"}  # the directory's fill, and an address
    page = follow(marie, marie.submit("/structure/nouvelle", data))
    assert "Votre compte est désormais actif" in page
    [structure] = structures(app)
    assert (structure.company_name, structure.address, structure.email) == (
        "CURIE ET FILLES",
        "12 Boulevard HAUSSMANN",
        "contact@curie.fr",
    )


def test_company_name_is_insee_s_whatever_is_posted_attack_tampered_name(marie, app):
    data = {
        **STRUCTURE,
        "identifier": SIRET_NORMALISED,
        "sirene_siret": SIRET_NORMALISED,
        "company_name": "Ministère des Finances",
    }
    follow(marie, marie.submit("/structure/nouvelle", data))
    [structure] = structures(app)
    assert structure.company_name == "CURIE ET FILLES"


def test_partially_diffusible_comes_back_non_diffusible_with_masked_fields_left(marie):
    response = first_submit(marie, MASKED)
    text = text_of(response)
    assert re.search(r'<input(?=[^>]*name="non_diffusible")(?=[^>]*checked)[^>]*>', text)
    assert value_of(response, "address") == ""
    assert value_of(response, "city") == "BORDEAUX"
    assert value_of(response, "company_name") == "DUPONT"
    assert "non diffusible" in text


def test_unknown_siret_refused_next_to_the_field(marie, app):
    response = marie.submit("/structure/nouvelle", {**STRUCTURE, "identifier": UNKNOWN})
    assert response.status_code == 422
    assert error_of(response, "identifier").strip().endswith(directory.UNKNOWN)
    assert value_of(response, "email") == STRUCTURE["email"]  # nothing typed is lost
    assert structures(app) == []


def test_closed_establishment_refused(marie, app):
    response = marie.submit("/structure/nouvelle", {**STRUCTURE, "identifier": CLOSED})
    assert response.status_code == 422
    assert directory.CLOSED in error_of(response, "identifier")
    assert structures(app) == []


@pytest.mark.parametrize("siret", [UNKNOWN, CLOSED], ids=["unknown", "closed"])
def test_squatting_an_unknown_or_closed_siret_through_the_later_assignment_is_refused(marie, app, siret):
    """The SIRET given later to a structure the portal numbered passes the
    same directory check as step 6: else an unknown or closed SIRET, refused
    at creation, could be taken this way (and its true holder turned away)."""
    create_structure(marie, identifier_type="en_cours", identifier="")
    [structure] = structures(app)
    response = marie.submit(f"/structure/{structure.id}/siret", {"identifier": siret})
    assert response.status_code == 422
    refusal = directory.UNKNOWN if siret == UNKNOWN else directory.CLOSED
    assert refusal in error_of(response, "identifier")
    assert structures(app)[0].identifier_type == "en_cours"
    # A SIRET the directory knows, open, is taken.
    response = marie.submit(f"/structure/{structure.id}/siret", {"identifier": SIRET_NORMALISED})
    assert response.status_code == (200 if marie.htmx else 303)
    assert structures(app)[0].identifier == SIRET_NORMALISED


def test_checks_off_lets_unknown_siret_through(app, client, mailbox, tmp_path):
    load_directory(app, tmp_path)
    app.config["SIRENE_CHECK"] = False
    sign_up(client, mailbox)
    response = client.submit("/structure/nouvelle", {**STRUCTURE, "identifier": UNKNOWN})
    assert response.status_code == 303
    assert structures(app)[0].company_name == STRUCTURE["company_name"]


def test_without_directory_the_form_says_so_and_checks_formats_only(app, client, mailbox):
    sign_up(client, mailbox)
    text = text_of(client.get("/structure/nouvelle"))
    assert directory.NO_DIRECTORY in text
    response = client.submit("/structure/nouvelle", {**STRUCTURE, "identifier": UNKNOWN})
    assert response.status_code == 303


def test_hint_not_shown_with_a_directory(marie):
    assert directory.NO_DIRECTORY not in text_of(marie.get("/structure/nouvelle"))


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "htmx"])
def test_a_fresh_form_shows_no_error(marie, headers):
    """Looking the (empty) SIRET up in the directory is not validating the form."""
    text = text_of(marie.get("/structure/nouvelle", headers=headers))
    assert "Le formulaire contient" not in text
    assert "Ce champ est obligatoire" not in text


# -- htmx: in place, as the SIRET is typed ------------------------------------------------


def test_a_correction_after_the_prefill_survives_the_draft(marie, app):
    """Filled from the directory, corrected, saved as a draft, come back to:
    « Soumettre » creates the structure as corrected, and the directory does
    not fill the form again over the correction."""
    response = first_submit(marie)
    assert value_of(response, "address") == "12 Boulevard HAUSSMANN"
    corrected = {
        "identifier_type": "siret",
        "identifier": SIRET_NORMALISED,
        "sirene_siret": SIRET_NORMALISED,
        "company_name": "CURIE ET FILLES",
        "label": "ATELIER CURIE",
        "address": "40 rue des Lilas corrigée",
        "postal_code": "75009",
        "city": "PARIS 9",
        "country": "FR",
    }
    assert marie.submit("/structure/nouvelle/brouillon", corrected).status_code in (200, 303)
    back = marie.get("/structure/nouvelle")
    assert value_of(back, "address") == "40 rue des Lilas corrigée"
    assert value_of(back, "sirene_siret") == SIRET_NORMALISED
    names = ("identifier", "sirene_siret", "company_name", "label", "address", "postal_code", "city")
    kept = {name: value_of(back, name) or "" for name in names}
    page = follow(
        marie, marie.submit("/structure/nouvelle", {**kept, "identifier_type": "siret", "country": "FR"})
    )
    assert "Votre compte est désormais actif" in page
    [structure] = structures(app)
    assert structure.address == "40 rue des Lilas corrigée" and structure.company_name == "CURIE ET FILLES"


def prefill(client, siret, **extra):
    return client.submit(
        "/structure/nouvelle/sirene",
        {"identifier_type": "siret", "identifier": siret, "country": "FR", **extra},
        headers={"HX-Request": "true", "HX-Trigger": "identifier"},
    )


def test_htmx_fills_the_fields_out_of_band_and_announces(htmx_client, mailbox, app, tmp_path):
    load_directory(app, tmp_path)
    sign_up(htmx_client, mailbox)
    response = prefill(htmx_client, SIRET_NORMALISED)
    text = text_of(response)
    assert response.status_code == 200
    assert text.lstrip().startswith("<strong>Établissement trouvé")  # the live region's text
    assert '<div id="structure-general" data-hx-swap-oob="true">' in text
    assert '<div id="structure-address" data-hx-swap-oob="true">' in text
    assert 'name="identifier"' not in text.replace('name="identifier_type"', "")  # focus stays
    assert value_of(response, "address") == "12 Boulevard HAUSSMANN"


def test_changing_the_type_after_a_prefill_unlocks_the_name_and_clears_the_directory(
    htmx_client, mailbox, app, tmp_path
):
    """Filled from a SIRET, then « Hors UE »: the name is the person's to
    change again, the directory's word goes, the SIRET it came from is
    forgotten; what was filled stays as it is."""
    load_directory(app, tmp_path)
    sign_up(htmx_client, mailbox)
    filled = text_of(prefill(htmx_client, SIRET_NORMALISED))
    assert re.search(r'<input[^>]*name="company_name"[^>]*readonly', filled)
    typed = {"company_name": "CURIE ET FILLES", "label": "ATELIER CURIE", "sirene_siret": SIRET_NORMALISED}
    response = htmx_client.submit(
        "/structure/nouvelle/identifiant", {"identifier_type": "hors_ue", "identifier": "ZZ12345", **typed}
    )
    text = text_of(response)
    assert '<p id="sirene-status" data-hx-swap-oob="innerHTML"></p>' in text
    assert '<div id="structure-general" data-hx-swap-oob="innerHTML">' in text
    assert (
        value_of(response, "company_name") == "CURIE ET FILLES"
        and value_of(response, "label") == "ATELIER CURIE"
    )
    assert not re.search(r'<input[^>]*name="company_name"[^>]*readonly', text)
    assert value_of(response, "sirene_siret") == ""
    back = text_of(
        htmx_client.submit("/structure/nouvelle/identifiant", {"identifier_type": "siret", **typed})
    )
    assert 'id="structure-general" data-hx-swap-oob' not in back  # SIRET: left as it is
    assert 'id="sirene-status" data-hx-swap-oob' not in back


def filled_fields(response) -> dict:
    names = ("company_name", "label", "address", "city", "postal_code", "sirene_siret")
    return {name: value_of(response, name) or "" for name in names}


def test_back_to_siret_after_another_type_fills_again_so_one_submit_creates(
    htmx_client, mailbox, app, tmp_path
):
    """Filled, then another type, then SIRET again: the identifier did not
    change, so nothing was looked up again and the first « Soumettre » only
    brought the form back filled, without a word. It is filled again at once."""
    load_directory(app, tmp_path)
    sign_up(htmx_client, mailbox)
    fields = filled_fields(prefill(htmx_client, SIRET_NORMALISED))
    away = htmx_client.submit(
        "/structure/nouvelle/identifiant",
        {**fields, "identifier_type": "hors_ue", "identifier": SIRET_NORMALISED},
    )
    fields = {**fields, "sirene_siret": value_of(away, "sirene_siret")}
    assert fields["sirene_siret"] == ""
    back = htmx_client.submit(
        "/structure/nouvelle/identifiant",
        {**fields, "identifier_type": "siret", "identifier": SIRET_NORMALISED},
    )
    text = text_of(back)
    assert '<div id="structure-general" data-hx-swap-oob="true">' in text
    assert "Établissement trouvé dans le répertoire SIRENE" in text
    assert value_of(back, "sirene_siret") == SIRET_NORMALISED
    assert re.search(r'<input[^>]*name="company_name"[^>]*readonly', text)
    sent = {**STRUCTURE, **filled_fields(back), "identifier_type": "siret", "identifier": SIRET_NORMALISED}
    follow(htmx_client, htmx_client.submit("/structure/nouvelle", sent))
    assert [s.identifier for s in structures(app)] == [SIRET_NORMALISED]


@pytest.mark.parametrize("then", ["7328293200", UNKNOWN, CLOSED])
def test_another_siret_the_directory_fills_nothing_for_empties_the_last_fill(
    htmx_client, mailbox, app, tmp_path, then
):
    """Filled for one company, then another SIRET typed (incomplete, unknown
    or closed): the first company's name stayed locked and its address with
    it, under a SIRET that is not theirs. What that fill put in goes and the
    name is the person's again; what the person changed stays."""
    load_directory(app, tmp_path)
    sign_up(htmx_client, mailbox)
    fields = filled_fields(prefill(htmx_client, SIRET_NORMALISED))
    assert fields["company_name"] == "CURIE ET FILLES" and fields["address"]
    changed = {**fields, "label": "Mon atelier"}
    response = prefill(htmx_client, then, **changed)
    text = text_of(response)
    assert response.status_code == 200
    assert '<div id="structure-general" data-hx-swap-oob="true">' in text
    after = filled_fields(response)
    assert (after["company_name"], after["address"], after["sirene_siret"]) == ("", "", "")
    assert after["label"] == "Mon atelier"
    assert not re.search(r'<input[^>]*name="company_name"[^>]*readonly', text)
    if then == UNKNOWN:
        assert directory.UNKNOWN in text
    # Typed on from there, nothing more is said until the SIRET is complete.
    assert prefill(htmx_client, "73282", **after).status_code == 204


def test_htmx_incomplete_or_already_filled_siret_changes_nothing(htmx_client, mailbox, app, tmp_path):
    load_directory(app, tmp_path)
    sign_up(htmx_client, mailbox)
    assert prefill(htmx_client, "7328293200").status_code == 204  # still being typed
    assert prefill(htmx_client, SIRET_NORMALISED, sirene_siret=SIRET_NORMALISED).status_code == 204


def test_htmx_says_a_complete_siret_is_not_one_as_it_is_typed(htmx_client, mailbox, app, tmp_path):
    """Its 14 digits typed, a wrong check digit is said in the status line
    at once (it was said at « Soumettre » only), as the directory's answers are."""
    load_directory(app, tmp_path)
    sign_up(htmx_client, mailbox)
    response = prefill(htmx_client, "73282932000075")
    assert response.status_code == 200 and "data-hx-swap-oob" not in text_of(response)
    said = " ".join(text_of(response).split())
    assert said == "Ce numéro SIRET n'est pas valide : vérifiez les chiffres saisis (clé de contrôle fausse)."
    sent = {"identifier_type": "siret", "identifier": "73282932000075", "country": "FR"}
    assert said in error_of(htmx_client.submit("/structure/nouvelle", sent), "identifier")  # the same words


def test_htmx_announces_refusals(htmx_client, mailbox, app, tmp_path):
    load_directory(app, tmp_path)
    sign_up(htmx_client, mailbox)
    assert directory.UNKNOWN in text_of(prefill(htmx_client, UNKNOWN))
    assert directory.CLOSED in text_of(prefill(htmx_client, CLOSED))


# -- what the person typed is kept ----------------------------------------------------------


def hint_of(response, field: str) -> str:
    match = re.search(rf'<p class="hint" id="{field}-hint">(.*?)</p>', text_of(response), re.S)
    return match.group(1) if match else ""


def test_what_was_typed_is_kept_over_the_directory_and_its_value_named(marie, app):
    """Typed before the SIRET was known (JavaScript off, or fields filled
    first): the directory fills the empty fields only; where it has another
    value, the field keeps the person's and names INSEE's."""
    response = marie.submit(
        "/structure/nouvelle",
        {"identifier_type": "siret", "identifier": SIRET_NORMALISED, "country": "FR",
         "address": "40 rue des Lilas", "postal_code": "75009"},
    )  # fmt: skip
    assert response.status_code == 200
    assert value_of(response, "address") == "40 rue des Lilas"
    assert hint_of(response, "address").startswith(
        "Le répertoire SIRENE de l'INSEE indique : 12 Boulevard HAUSSMANN. Votre saisie est conservée."
    )
    assert value_of(response, "city") == "PARIS 9" and hint_of(response, "city") == ""  # it was empty
    assert value_of(response, "postal_code") == "75009" and "INSEE" not in hint_of(response, "postal_code")
    assert "Ce que vous aviez saisi est conservé" in text_of(response)
    data = {**STRUCTURE, "identifier": SIRET_NORMALISED, "sirene_siret": SIRET_NORMALISED,
            "address": "40 rue des Lilas", "city": "PARIS 9", "postal_code": "75009"}  # fmt: skip
    follow(marie, marie.submit("/structure/nouvelle", data))
    [structure] = structures(app)
    assert structure.address == "40 rue des Lilas" and structure.company_name == "CURIE ET FILLES"


def test_a_directory_value_named_under_a_field_is_text_attack_markup_in_the_directory(
    any_client, mailbox, app, tmp_path
):
    """INSEE's files are data from outside: a value shown beside what was
    typed is escaped like any other."""
    hostile = {**HAUSSMANN, "libelleCommuneEtablissement": '<img src=x onerror="alert(1)">'}
    load_directory(app, tmp_path, sites=[establishment(SIRET_NORMALISED, **hostile)])
    client = sign_up(any_client, mailbox)
    response = client.submit(
        "/structure/nouvelle",
        {"identifier_type": "siret", "identifier": SIRET_NORMALISED, "country": "FR", "city": "Paris"},
    )
    assert value_of(response, "city") == "Paris"
    assert "&lt;img src=x onerror=" in hint_of(response, "city")
    assert "<img src=x" not in text_of(response)


def test_another_siret_replaces_what_the_directory_filled_but_not_what_was_typed(
    htmx_client, mailbox, app, tmp_path
):
    load_directory(app, tmp_path)
    sign_up(htmx_client, mailbox)
    first = prefill(htmx_client, SIRET_NORMALISED)
    filled = {name: value_of(first, name) for name in ("address", "city", "postal_code")}
    assert filled == {"address": "12 Boulevard HAUSSMANN", "city": "PARIS 9", "postal_code": "75009"}
    # The person corrects the address, then finds they typed the wrong SIRET.
    response = prefill(
        htmx_client,
        SIBLING,
        sirene_siret=SIRET_NORMALISED,
        **{**filled, "address": "12 bd Haussmann, bât. B"},
    )
    assert (value_of(response, "city"), value_of(response, "postal_code")) == ("LYON 3EME", "69003")
    assert value_of(response, "address") == "12 bd Haussmann, bât. B"
    assert "Votre saisie est conservée" in hint_of(response, "address")
    assert value_of(response, "sirene_siret") == SIBLING


# -- a SIRET already on the portal ---------------------------------------------------------


def on_the_portal(app, mailbox):
    """« Ateliers Curie » (SIRET_NORMALISED) created by Pierre, with the directory's data."""
    pierre = new_client(app, mailbox, PIERRE)
    follow(pierre, first_and_second_submit(pierre))
    assert len(structures(app)) == 1


def test_a_siret_on_the_portal_is_said_at_the_first_submit_not_after_the_prefill(marie, app, mailbox):
    """The directory knows it, but so does the portal: no form to check for
    nothing, the offer to join at once, what was typed kept."""
    on_the_portal(app, mailbox)
    response = marie.submit(
        "/structure/nouvelle",
        {"identifier_type": "siret", "identifier": SIRET_NORMALISED, "country": "FR", "label": "Mon atelier"},
    )
    text = text_of(response)
    assert response.status_code == 422
    assert "Cette structure existe déjà" in error_of(response, "identifier")
    assert 'id="attachment-offer"' in text and "Demander le rattachement" in text
    assert "Établissement trouvé" not in text and value_of(response, "sirene_siret") == ""
    assert value_of(response, "label") == "Mon atelier"  # kept, not replaced by the directory's
    response = marie.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    )
    assert "Votre demande de rattachement a été transmise" in follow(marie, response)
    assert len(structures(app)) == 1


def test_a_member_typing_the_siret_of_their_structure_goes_to_mon_espace(marie, app):
    follow(marie, first_and_second_submit(marie))
    response = first_submit(marie)
    assert response.status_code == (200 if marie.htmx else 303)
    assert "Vous êtes déjà rattaché à la structure CURIE ET FILLES." in follow(marie, response)
    assert len(structures(app)) == 1


def test_htmx_lookup_of_a_siret_on_the_portal_offers_to_join_and_fills_nothing(
    htmx_client, mailbox, app, tmp_path
):
    load_directory(app, tmp_path)
    on_the_portal(app, mailbox)
    sign_up(htmx_client, mailbox)
    response = prefill(htmx_client, SIRET_NORMALISED)
    text = text_of(response)
    assert response.status_code == 200
    assert "Une structure avec ce SIRET existe déjà sur le portail." in text
    link = f"/structure/rattachement?identifier_type=siret&amp;identifier={SIRET_NORMALISED}"
    assert f'<a href="{link}">Voir cette structure et demander votre rattachement</a>' in text
    assert "data-hx-swap-oob" not in text and "Établissement trouvé" not in text
    page = text_of(htmx_client.get(link.replace("&amp;", "&")))
    assert "CURIE ET FILLES" in page and "Demander le rattachement" in page


def test_identifier_field_asks_the_directory_as_it_is_typed(marie):
    text = text_of(marie.get("/structure/nouvelle"))
    assert 'data-hx-post="/structure/nouvelle/sirene"' in text
    assert 'id="sirene-status"' in text and 'aria-live="polite"' in text


# -- attachment search, structure page, « Mon espace » -----------------------------------


def test_search_offers_to_create_a_known_siret_not_on_the_portal(marie):
    response = marie.get(
        "/structure/rattachement",
        query_string={"identifier_type": "siret", "identifier": CLOSED[:0] + MASKED},
    )
    text = text_of(response)
    assert "DUPONT" in text and f"/structure/nouvelle?siret={MASKED}" in text


def test_create_link_from_search_comes_filled(marie):
    response = marie.get(f"/structure/nouvelle?siret={SIRET_NORMALISED}")
    assert value_of(response, "company_name") == "CURIE ET FILLES"
    assert value_of(response, "sirene_siret") == SIRET_NORMALISED


# -- « Créer cette structure » from the search, and the step-6 draft ------------------------

STEP_6_DRAFT = "/structure/nouvelle/brouillon"
LINK = f"/structure/nouvelle?siret={SIRET_NORMALISED}"


def step_six_drafts(app) -> list[Draft]:
    return query(app, lambda: list(Draft.select().where(Draft.key.endswith(":structure"))))


def test_create_link_takes_up_the_draft_begun_for_that_siret(marie, app):
    """The draft typed for this SIRET (spaces and all) comes back: what was
    typed stays, INSEE's other value named under it; the directory fills
    the empty fields and the name."""
    draft = {"identifier_type": "siret", "identifier": "732 829 320 00074", "label": "Mon atelier",
             "email": "contact@curie.fr", "address": "", "city": "Paris", "country": "FR"}  # fmt: skip
    marie.submit(STEP_6_DRAFT, draft)
    response = marie.get(LINK)
    assert response.status_code == 200
    assert value_of(response, "identifier") == SIRET_NORMALISED
    assert value_of(response, "label") == "Mon atelier" and "ATELIER CURIE" in hint_of(response, "label")
    assert value_of(response, "email") == "contact@curie.fr"
    assert value_of(response, "city") == "Paris" and "PARIS 9" in hint_of(response, "city")
    assert value_of(response, "address") == "12 Boulevard HAUSSMANN"  # it was empty
    assert value_of(response, "company_name") == "CURIE ET FILLES"
    assert value_of(response, "sirene_siret") == SIRET_NORMALISED
    text = text_of(response)
    assert "Brouillon enregistré à" in text and "draft-set-aside" not in text
    assert "Ce que vous aviez saisi est conservé" in text


def test_create_link_takes_up_a_draft_with_no_identifier_yet(marie, app):
    marie.submit(
        STEP_6_DRAFT, {"identifier_type": "particulier", "identifier": "", "phone": "01 23 45 67 89"}
    )
    response = marie.get(LINK)
    assert '<option selected value="siret">' in text_of(response)
    assert value_of(response, "identifier") == SIRET_NORMALISED
    assert value_of(response, "phone") == "01 23 45 67 89"
    assert value_of(response, "address") == "12 Boulevard HAUSSMANN"
    assert "draft-set-aside" not in text_of(response)


def test_create_link_for_another_siret_fills_it_and_names_the_draft_it_leaves(marie, app):
    """The link's SIRET wins (the person just asked for it), but the draft
    begun for another identifier is named, left as it is, and taken up again
    from « Reprendre ce brouillon »."""
    marie.submit(STEP_6_DRAFT, {"identifier_type": "siret", "identifier": SIBLING, "label": "Lyon"})
    [before] = step_six_drafts(app)
    response = marie.get(LINK)
    text = text_of(response)
    assert response.status_code == 200
    assert value_of(response, "identifier") == SIRET_NORMALISED
    assert (
        value_of(response, "label") == "ATELIER CURIE"
        and value_of(response, "company_name") == "CURIE ET FILLES"
    )
    notice = re.search(r'<div class="notice notice--info" id="draft-set-aside">(.*?)</div>', text, re.S)
    assert notice and f"pour l'identifiant {SIBLING} n'est pas repris" in notice.group(1)
    assert f"rempli pour le SIRET {SIRET_NORMALISED}" in notice.group(1)
    assert 'href="/structure/nouvelle">Reprendre ce brouillon</a>' in notice.group(1)
    assert "Brouillon enregistré à" not in text  # this form is not the draft
    [after] = step_six_drafts(app)
    assert (after.data, after.saved_at) == (before.data, before.saved_at)  # opening the link changed nothing
    back = marie.get("/structure/nouvelle")
    assert value_of(back, "identifier") == SIBLING and value_of(back, "label") == "Lyon"


def test_create_link_for_another_identifier_type_leaves_that_draft(marie, app):
    marie.submit(STEP_6_DRAFT, {"identifier_type": "hors_ue", "identifier": "12345", "label": "Genève"})
    text = text_of(marie.get(LINK))
    assert "pour l'identifiant 12345 n'est pas repris" in text
    assert value_of(marie.get("/structure/nouvelle"), "label") == "Genève"


def test_create_link_never_takes_up_another_accounts_draft_attack_other_account(marie, app, mailbox):
    marie.submit(
        STEP_6_DRAFT, {"identifier_type": "siret", "identifier": SIRET_NORMALISED, "label": "Secret"}
    )
    pierre = new_client(app, mailbox, PIERRE, htmx=marie.htmx)
    text = text_of(pierre.get(LINK))
    assert "Secret" not in text and "draft-set-aside" not in text and "Brouillon enregistré" not in text
    assert value_of(marie.get(LINK), "label") == "Secret"


def test_a_forged_siret_in_the_link_is_text_and_bounded_attack_forged_link(marie, app):
    marie.submit(STEP_6_DRAFT, {"identifier_type": "siret", "identifier": SIBLING, "label": "Lyon"})
    [before] = step_six_drafts(app)
    forged = '"><script>alert(1)</script>' + "9" * 5000
    response = marie.get("/structure/nouvelle", query_string={"siret": forged})
    text = text_of(response)
    assert response.status_code == 200
    assert "<script>alert(1)" not in text and "&lt;script&gt;" in text
    assert len(value_of(response, "identifier")) < 400  # the link's value is cut as a draft's is
    assert step_six_drafts(app)[0].data == before.data


def test_a_forged_draft_row_does_not_break_the_link_attack_forged_draft(marie, app):
    """Whatever a draft row holds (written by an older version, or tampered
    with in the database), the link's page answers."""
    marie.submit(STEP_6_DRAFT, {"identifier_type": "siret", "identifier": SIBLING})

    def forge():
        Draft.update(data=json.dumps({"identifier": 12, "identifier_type": ["siret"], "label": {"x": 1},
                                      "non_diffusible": "oui", "country": None})).execute()  # fmt: skip

    query(app, forge)
    response = marie.get(LINK)
    assert response.status_code == 200 and value_of(response, "identifier") == SIRET_NORMALISED


def test_an_oversized_draft_identifier_is_cut_and_set_aside_attack_oversized_draft(marie, app):
    marie.submit(STEP_6_DRAFT, {"identifier_type": "siret", "identifier": "7" * 60_000})
    (draft,) = step_six_drafts(app)
    assert len(json.loads(draft.data)["identifier"]) == 300
    text = text_of(marie.get(LINK))
    assert "draft-set-aside" in text and value_of(marie.get(LINK), "identifier") == SIRET_NORMALISED


LINKED_STRUCTURE = {
    "identifier_type": "siret",
    "identifier": SIRET_NORMALISED,
    "sirene_siret": SIRET_NORMALISED,
    "company_name": "CURIE ET FILLES",
    "label": "ATELIER CURIE",
    "address": "12 Boulevard HAUSSMANN",
    "postal_code": "75009",
    "city": "PARIS 9",
    "country": "FR",
}


def test_creating_the_link_s_structure_keeps_the_draft_it_set_aside(marie, app):
    """The link's form sent as it came (nothing typed, so no autosave): the
    structure is created, and the draft begun for another SIRET, which the
    page said was left as it is, comes back afterwards."""
    marie.submit(STEP_6_DRAFT, {"identifier_type": "siret", "identifier": SIBLING, "label": "Lyon"})
    [before] = step_six_drafts(app)
    mark = value_of(marie.get(LINK), "set_aside")
    assert mark
    response = marie.submit("/structure/nouvelle", {**LINKED_STRUCTURE, "set_aside": mark})
    assert "Votre compte est désormais actif" in follow(marie, response)
    assert [s.identifier for s in structures(app)] == [SIRET_NORMALISED]
    [after] = step_six_drafts(app)
    assert (after.data, after.saved_at) == (before.data, before.saved_at)
    back = marie.get("/structure/nouvelle")
    assert value_of(back, "identifier") == SIBLING and value_of(back, "label") == "Lyon"


def test_saving_the_link_s_form_says_the_set_aside_draft_is_replaced(marie, app):
    """The notice warned that what is typed here replaces the draft; once
    saved (the autosave, « Enregistrer le brouillon »), it says it did. Without
    JavaScript the step comes back as the draft, with no notice left."""
    marie.submit(STEP_6_DRAFT, {"identifier_type": "siret", "identifier": SIBLING, "label": "Lyon"})
    mark = value_of(marie.get(LINK), "set_aside")
    response = marie.submit(STEP_6_DRAFT, {**LINKED_STRUCTURE, "set_aside": mark})
    if marie.htmx:
        text = text_of(response)
        assert text.startswith("Brouillon enregistré à")
        # Marked replaced: the language switch saves the draft again (app.js).
        assert '<div class="notice notice--info" id="draft-set-aside" data-replaced' in text
        assert 'data-replaced data-hx-swap-oob="true">' in text
        assert "remplace désormais le brouillon que vous aviez enregistré" in text
    else:
        assert response.status_code == 303
        text = text_of(marie.get(response.headers["Location"]))
        assert "draft-set-aside" not in text and value_of(marie.get("/structure/nouvelle"), "label") != "Lyon"
    [draft] = step_six_drafts(app)
    assert SIBLING not in draft.data
    # A save of a form that set nothing aside says nothing of it.
    assert "draft-set-aside" not in text_of(marie.submit(STEP_6_DRAFT, LINKED_STRUCTURE))


def test_a_set_aside_draft_replaced_since_goes_with_the_structure(marie, app):
    """Once the link's form was autosaved over the draft (as the page warns),
    the draft is this structure's, and goes once it is created."""
    marie.submit(STEP_6_DRAFT, {"identifier_type": "siret", "identifier": SIBLING, "label": "Lyon"})
    mark = value_of(marie.get(LINK), "set_aside")
    marie.submit(STEP_6_DRAFT, LINKED_STRUCTURE)
    follow(marie, marie.submit("/structure/nouvelle", {**LINKED_STRUCTURE, "set_aside": mark}))
    assert [s.identifier for s in structures(app)] == [SIRET_NORMALISED]
    assert step_six_drafts(app) == []


def test_attack_forged_set_aside_mark_does_not_keep_the_structure_s_own_draft(marie, app):
    """A mark that does not name when the draft was saved keeps nothing: the
    draft of the structure just created goes, as without the link."""
    marie.submit(STEP_6_DRAFT, LINKED_STRUCTURE)
    forged = {**LINKED_STRUCTURE, "set_aside": "2000-01-01T00:00:00"}
    follow(marie, marie.submit("/structure/nouvelle", forged))
    assert [s.identifier for s in structures(app)] == [SIRET_NORMALISED]
    assert step_six_drafts(app) == []


@pytest.mark.parametrize("kind", ["particulier", "en_cours"])
def test_create_link_takes_up_a_draft_of_an_assigned_type_whatever_its_hidden_identifier(marie, app, kind):
    """A SIRET typed, then the type changed to one the portal gives the
    identifier of: the hidden field keeps the SIRET, but no identifier was
    meant. The link takes the draft up, as for a draft with no identifier,
    instead of naming it « pour l'identifiant » of a SIRET (its own, even)."""
    marie.submit(
        STEP_6_DRAFT, {"identifier_type": kind, "identifier": SIRET_NORMALISED, "phone": "01 23 45 67 89"}
    )
    for link in (LINK, f"/structure/nouvelle?siret={SIBLING}"):
        response = marie.get(link)
        assert "draft-set-aside" not in text_of(response)
        assert value_of(response, "phone") == "01 23 45 67 89"
        assert '<option selected value="siret">' in text_of(response)


def test_search_points_to_an_establishment_of_the_same_siren(marie, app):
    follow(marie, first_and_second_submit(marie))
    response = marie.get(
        "/structure/rattachement", query_string={"identifier_type": "siret", "identifier": SIBLING}
    )
    text = text_of(response)
    assert "CURIE ET FILLES" in text
    assert "Un autre établissement de la même entreprise est déjà sur le portail" in text
    assert SIRET_NORMALISED in text and "Demander le rattachement" in text


def first_and_second_submit(client):
    data = {**STRUCTURE, "identifier": SIRET_NORMALISED, "sirene_siret": SIRET_NORMALISED}
    return client.submit("/structure/nouvelle", data)


def test_structure_page_shows_when_it_was_checked(marie, app):
    follow(marie, first_and_second_submit(marie))
    structure_id = structures(app)[0].id
    text = text_of(marie.get(f"/structure/{structure_id}/"))
    assert "Vérifiée dans le répertoire SIRENE de l'INSEE" in text


def test_space_flags_a_structure_closed_in_a_newer_import(marie, app, tmp_path):
    follow(marie, first_and_second_submit(marie))
    assert "fermé selon l'INSEE" not in text_of(marie.get("/espace/"))
    load_directory(app, tmp_path, sites=[establishment(SIRET_NORMALISED, etatAdministratifEtablissement="F")])
    text = text_of(marie.get("/espace/"))
    assert "fermé selon l'INSEE" in text
    assert len(structures(app)) == 1  # nothing is deleted
    structure_id = structures(app)[0].id
    assert "fermé selon l'INSEE" in text_of(marie.get(f"/structure/{structure_id}/"))


def test_prefill_needs_sign_in_attack_anonymous_directory_scraping(app, client, tmp_path):
    load_directory(app, tmp_path)
    response = client.post(
        "/structure/nouvelle/sirene", data={"identifier_type": "siret", "identifier": MASKED}
    )
    assert response.status_code in (302, 400)
    assert "DUPONT" not in text_of(response)


def test_insee_values_are_escaped_attack_markup_in_the_directory(any_client, mailbox, app, tmp_path):
    hostile = '<img src=x onerror="alert(1)">'
    load_directory(
        app,
        tmp_path,
        sites=[establishment(SIRET_NORMALISED, **HAUSSMANN, enseigne1Etablissement=hostile)],
        units=[legal_unit(SIRET_NORMALISED[:9], denominationUniteLegale=hostile)],
    )
    sign_up(any_client, mailbox)
    page = first_submit(any_client).get_data(as_text=True)
    assert hostile not in page and "&lt;img src=x" in page


# -- a crafted directory file: what the search and step 6 then show ---------------------------

LONG = "CURIE " * 1000  # thousands of characters, from a crafted or damaged file


def test_a_long_commune_is_filled_shortened_never_cut_mid_name(any_client, mailbox, app, tmp_path):
    """INSEE's longest commune, 45 characters: cut to the line it read
    « …SAINT-GENEST-E », another name, unseen. It is filled shortened as La
    Poste does; still one character too long, « Soumettre » says so beside
    « Ville », with how to shorten it, and nothing typed is lost."""
    long_city = "SAINT-REMY-EN-BOUZEMONT-SAINT-GENEST-ET-ISSON"
    site = establishment(
        SIRET_NORMALISED,
        **{**HAUSSMANN, "codePostalEtablissement": "51290", "libelleCommuneEtablissement": long_city},
    )
    load_directory(app, tmp_path, sites=[site])
    client = sign_up(any_client, mailbox)
    response = first_submit(client)
    assert value_of(response, "city") == "ST-REMY-EN-BOUZEMONT-ST-GENEST-ET-ISSON"
    data = {**LINKED_STRUCTURE, "city": value_of(response, "city"), "postal_code": "51290"}
    response = client.submit("/structure/nouvelle", data)
    assert response.status_code == 422
    assert "ST pour SAINT et STE pour SAINTE" in error_of(response, "city")
    assert value_of(response, "city") == "ST-REMY-EN-BOUZEMONT-ST-GENEST-ET-ISSON"


def test_attack_thousands_of_characters_are_cut_to_the_fields_sizes(any_client, mailbox, app, tmp_path):
    """A name and a sign of thousands of characters filled step 6 beyond its
    fields (the label then refused at « Soumettre », a field the person had
    not typed) and ran on across the search's page."""
    site = establishment(SIRET_NORMALISED, **HAUSSMANN, enseigne1Etablissement=LONG)
    site["codePostalEtablissement"] = "75009" + "0" * 500
    site["libelleCommuneEtablissement"] = LONG  # too long for the line: filled whole, up to a name's size
    units = [legal_unit(SIRET_NORMALISED[:9], denominationUniteLegale=LONG)]
    load_directory(app, tmp_path, sites=[site], units=units)
    client = sign_up(any_client, mailbox)
    search = text_of(
        client.get(
            "/structure/rattachement",
            query_string={"identifier_type": "siret", "identifier": SIRET_NORMALISED},
        )
    )
    assert LONG[:100].rstrip() in search and LONG[:200] not in search
    response = first_submit(client)
    filled = {name: value_of(response, name) for name in ("company_name", "label", "postal_code", "city")}
    assert filled == {
        "company_name": LONG[:100],
        "label": LONG[:100],
        "postal_code": "7500900000",
        "city": LONG[:100].rstrip(),
    }
    data = {**LINKED_STRUCTURE, "company_name": LONG, "label": filled["label"], "postal_code": "75009"}
    page = follow(client, client.submit("/structure/nouvelle", data))
    assert "Votre compte est désormais actif" in page
    [structure] = structures(app)
    assert (structure.company_name, structure.label) == (LONG[:100], LONG[:100])


def test_attack_markup_in_the_directory_is_escaped_in_the_search_and_the_live_fill(
    htmx_client, mailbox, app, tmp_path
):
    """Names and places from INSEE's file are text wherever they are shown:
    the search's offer, the status line and fields of the fill under htmx."""
    script = "<script>alert(1)</script>"
    site = establishment(SIRET_NORMALISED, **HAUSSMANN, enseigne1Etablissement=script)
    site["libelleCommuneEtablissement"] = '"><img src=x onerror=alert(1)>'
    units = [legal_unit(SIRET_NORMALISED[:9], denominationUniteLegale=f"CURIE {script}")]
    load_directory(app, tmp_path, sites=[site], units=units)
    sign_up(htmx_client, mailbox)
    search = text_of(
        htmx_client.get(
            "/structure/rattachement",
            query_string={"identifier_type": "siret", "identifier": SIRET_NORMALISED},
        )
    )
    response = prefill(htmx_client, SIRET_NORMALISED)
    fill = text_of(response)
    for text in (search, fill):
        assert "<script>alert" not in text and "<img src=x" not in text and "CURIE &lt;script&gt;" in text
    # The quote that would end the value attribute (and open one of htmx's) is escaped too.
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in response.get_data(as_text=True)
    assert value_of(response, "label") == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_attack_a_siret_of_the_file_with_a_bad_check_digit_is_never_offered(marie, app, tmp_path):
    """The file may hold a SIRET whose Luhn key is wrong: loaded, it is never
    looked up, offered nor filled: the identifier's own check refuses it first."""
    bad = SIRET_NORMALISED[:-1] + "5"
    load_directory(app, tmp_path, sites=[establishment(bad, **HAUSSMANN)])
    response = first_submit(marie, bad)
    assert response.status_code == 422 and value_of(response, "sirene_siret") in ("", None)
    search = text_of(
        marie.get("/structure/rattachement", query_string={"identifier_type": "siret", "identifier": bad})
    )
    assert "HAUSSMANN" not in search and "/structure/nouvelle?siret=" not in search
