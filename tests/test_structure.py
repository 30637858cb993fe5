"""Steps 5 and 6: the choice, the structure form (with and without htmx),
creation, uniqueness (also under concurrent submits), « Mon espace »."""

from __future__ import annotations

import re

import pytest

from models import Membership
from tests.support.concurrency import post_at_once
from tests.support.constants import EMAIL, PASSWORD
from tests.support.responses import error_of, follow, sent_to_sign_in, shown, text_of
from tests.support.structures import (
    PIERRE,
    SIRET_NORMALISED,
    STRUCTURE,
    create_structure,
    mails_to,
    memberships,
    new_client,
    sign_up,
    structures,
)

CREATED = "Votre compte est désormais actif et vous êtes rattaché à une structure."


@pytest.fixture
def signed_in(client, mailbox):
    return sign_up(client, mailbox)


# -- step 5: the choice ------------------------------------------------------------------


def test_step_5_says_the_account_is_created_right_after_activation_only(app, marie, mailbox):
    created = "Votre compte est maintenant créé"
    assert created in shown(marie, "/structure/")  # the step after activation
    assert created not in shown(marie, "/structure/")  # seen again later: no news
    marie.submit("/deconnexion")
    assert marie.submit("/connexion", {"email": EMAIL, "password": PASSWORD}).status_code in (204, 303)
    page = shown(marie, "/structure/")
    assert "Étape 5 sur 6" in page and created not in page


def test_the_choice_offers_to_create_or_to_ask_for_attachment(marie):
    text = shown(marie, "/structure/")
    assert "Étape 5 sur 6" in text
    assert "Créer une nouvelle structure" in text
    assert "et non le client public" in text
    assert 'action="/structure/rattachement" method="get"' in text
    assert "Type d'identifiant" in text and "Rechercher la structure" in text


def test_the_choice_needs_a_signed_in_user(any_client):
    sent_to_sign_in(any_client, any_client.get("/structure/nouvelle"))
    sent_to_sign_in(any_client, any_client.get("/espace/"))


def test_a_user_with_a_structure_lands_on_mon_espace(marie):
    create_structure(marie)
    response = marie.get("/structure/")
    assert response.status_code == 303 and response.headers["Location"] == "/espace/"


# -- step 6: the form --------------------------------------------------------------------


def test_the_stepper_shows_during_the_sign_up_only(marie):
    assert "Étape 6 sur 6" in shown(marie, "/structure/nouvelle")
    assert "Étape 6 sur 6" in shown(marie, "/structure/rattachement")
    assert create_structure(marie).status_code in (200, 303)
    # Attached already: a second structure, or a request, is no step of the sign-up.
    for path in ("/structure/nouvelle", "/structure/rattachement"):
        page = shown(marie, path)
        assert "<h1>" in page and "Étape 6 sur" not in page and 'class="stepper' not in page


def test_the_structure_form_shows_the_seed_labels_in_two_fieldsets(marie):
    text = shown(marie, "/structure/nouvelle")
    assert "Étape 6 sur 6" in text
    assert "<legend>Informations générales</legend>" in text
    assert "<legend>Adresse postale</legend>" in text
    assert text.index("Informations générales") < text.index("Raison sociale") < text.index("Adresse postale")
    for label in (
        "Type d'identifiant",
        "Identifiant Siret",
        "Vérification du format faite par l'INSEE",
        "Raison sociale",
        "Libellé de la structure",
        "Adresse électronique",
        "Téléphone",
        "Adresse",
        "Complément d'adresse 1",
        "Complément d'adresse 2",
        "Ville",
        "Code postal",
        "Pays",
        "Non diffusible",
        "Soumettre",
    ):
        assert label in text, label
    types = re.search(r'<select[^>]*id="identifier_type".*?</select>', text, re.S).group(0)
    assert re.findall(r">([^<]+)</option>", types) == [
        "Sélectionner le type d'identifiant",  # value="": HTML's placeholder of a required select
        "SIRET",
        "UE hors France",
        "Hors UE",
        "RIDET",
        "TAHITI",
        "En cours d'immatriculation",
        "Particulier",
    ]
    assert '<option selected value="siret">' in types
    # Under htmx, changing the type swaps the identifier's block alone.
    assert 'data-hx-trigger="change"' in types and 'data-hx-target="#identifier-block"' in types
    assert 'data-hx-post="/structure/nouvelle/identifiant"' in types
    countries = re.search(r'<select[^>]*id="country".*?</select>', text, re.S).group(0)
    options = re.findall(r'<option( selected)? value="(\w\w)">([^<]+)</option>', countries)
    assert '<option value="">Sélectionner le pays</option>' in countries  # HTML's placeholder
    # SIRET, the type selected, accepts France and the territories INSEE registers, and no other.
    assert options == [
        (" selected", "FR", "France"), ("", "GP", "Guadeloupe"), ("", "GF", "Guyane française"),
        ("", "MQ", "Martinique"), ("", "YT", "Mayotte"), ("", "RE", "Réunion, Île de la"),
        ("", "BL", "Saint-Barthélemy"), ("", "MF", "Saint-Martin (partie française)"),
        ("", "PM", "Saint-Pierre-et-Miquelon"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "label", "hint"),
    [
        ("siret", "Identifiant Siret", "14 chiffres"),
        ("ue", "Numéro de TVA intracommunautaire", "code du pays"),
        ("hors_ue", "Numéro d'identification hors UE", "18 lettres et chiffres"),
        ("ridet", "Numéro RIDET", "7 chiffres"),
        ("tahiti", "Numéro TAHITI", "6 caractères"),
    ],
)
def test_changing_the_type_swaps_the_identifier_block_under_htmx(
    app, htmx_client, mailbox, kind, label, hint
):
    sign_up(htmx_client, mailbox)
    response = htmx_client.submit(
        "/structure/nouvelle/identifiant", {**STRUCTURE, "identifier_type": kind, "identifier": "12 34"}
    )
    text = text_of(response)
    block = text.split("data-hx-swap-oob")[0]  # the target's part, before what comes out of band
    assert response.status_code == 200
    assert f'<label for="identifier">{label}' in block and hint in block
    assert 'value="12 34"' in block  # what was typed stays
    assert "Raison sociale" not in block and "<form" not in text and "<title>" not in text


@pytest.mark.parametrize("kind", ["en_cours", "particulier"])
def test_an_assigned_identifier_needs_no_input_but_keeps_what_was_typed(htmx_client, mailbox, kind):
    sign_up(htmx_client, mailbox)
    response = htmx_client.submit(
        "/structure/nouvelle/identifiant", {"identifier_type": kind, "identifier": "732 829"}
    )
    text = text_of(response).split("data-hx-swap-oob")[0]  # the identifier's block
    assert "identifiant interne" in text and "SIRET plus tard" in text
    assert 'type="text"' not in text
    assert '<input type="hidden" name="identifier" value="732 829">' in text


def test_without_javascript_the_label_follows_the_type_after_a_submit(signed_in):
    response = create_structure(signed_in, identifier_type="ue", identifier="732 829 320 00074")
    text = text_of(response)
    assert response.status_code == 422
    assert '<label for="identifier">Numéro de TVA intracommunautaire' in text
    assert "code du pays" in error_of(response, "identifier")
    assert structures(signed_in.application) == []


# -- creation ----------------------------------------------------------------------------


def test_soumettre_creates_the_structure_and_its_manager(app, marie, mailbox):
    response = create_structure(marie)
    if marie.htmx:
        assert response.headers["HX-Push-Url"] == "/espace/"
    else:
        assert response.headers["Location"] == "/espace/"
    text = follow(marie, response)
    assert CREATED in text
    # Said once: the page's own summary of the account stays out under the confirmation.
    assert text.count("vous êtes rattaché à une structure") == 1
    assert "Mon espace" in text and "Ateliers Curie" in text and "Gestionnaire principal" in text
    assert "Votre compte est actif et vous êtes rattaché à une structure." in text_of(marie.get("/espace/"))
    [structure] = structures(app)
    assert structure.identifier_type == "siret" and structure.identifier == SIRET_NORMALISED
    assert structure.company_name == "Ateliers Curie" and structure.country == "FR"
    assert structure.phone == "+33123456789" and structure.postal_code == "75002"
    assert structure.address_3 is None and structure.non_diffusible is False
    [membership] = memberships(app)
    assert membership.role == Membership.MANAGER and membership.status == Membership.ACTIVE
    assert membership.structure_id == structure.id
    [mail] = mails_to(mailbox, "marie.curie@exemple.fr")
    assert mail.subject == "Votre structure est créée"
    assert SIRET_NORMALISED in mail.body_text and "gestionnaire principal" in mail.body_text


@pytest.mark.parametrize("kind", ["en_cours", "particulier"])
def test_a_structure_without_identifier_gets_one_from_the_portal(app, marie, kind):
    response = create_structure(
        marie, identifier_type=kind, identifier="", country="BE", postal_code="1000", phone=""
    )
    text = follow(marie, response)
    [structure] = structures(app)
    assert re.fullmatch(r"(EC|PA)\d{10}", structure.identifier)
    assert CREATED in text and f"Identifiant attribué à la structure : {structure.identifier}" in text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"identifier": ""}, "identifier", "Ce champ est obligatoire."),
        ({"identifier": "73282932000075"}, "identifier", "clé de contrôle"),
        ({"identifier_type": "autre"}, "identifier_type", "Choisissez une valeur dans la liste."),
        ({"identifier_type": ""}, "identifier_type", "Ce champ est obligatoire."),  # the placeholder
        ({"country": ""}, "country", "Ce champ est obligatoire."),  # the placeholder
        ({"company_name": "  "}, "company_name", "Ce champ est obligatoire."),
        ({"company_name": "A" * 101}, "company_name", "au plus 100 caractères"),
        ({"email": "contact@"}, "email", "adresse e-mail valide"),
        ({"phone": "12"}, "phone", "numéro de téléphone valide"),
        ({"address": ""}, "address", "Ce champ est obligatoire."),
        ({"address": "12 " + "x" * 36}, "address", "au plus 38 caractères"),
        ({"address_2": "y" * 39}, "address_2", "au plus 38 caractères"),
        ({"city": ""}, "city", "Ce champ est obligatoire."),
        ({"postal_code": "7500"}, "postal_code", "5 chiffres"),
        ({"country": "XX"}, "country", "Choisissez une valeur dans la liste."),
        # Cross-field country rules: the error is shown next to « Pays ».
        ({"country": "BE", "postal_code": "1000"}, "country", "en France"),
        ({"identifier_type": "ue", "identifier": "DE136695976"}, "country", "(Allemagne)"),
        ({"identifier_type": "hors_ue", "identifier": "CHE123"}, "country", "hors de l'Union"),
        ({"identifier_type": "ridet", "identifier": "1234567.001"}, "country", "Nouvelle-Calédonie"),
        ({"identifier_type": "tahiti", "identifier": "A12345"}, "country", "Polynésie française"),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_lost(app, marie, changes, field, message):
    response = create_structure(marie, **changes)
    text = text_of(response)
    assert response.status_code == 422
    assert message in error_of(response, field)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', text)
    assert 'class="error-summary"' in text and f'href="#{field}"' in text
    for name in ("company_name", "city", "address"):
        value = changes.get(name, STRUCTURE[name])
        if value.strip():
            assert f'value="{value}"' in text
    assert structures(app) == [] and memberships(app) == []


@pytest.mark.parametrize(
    ("changes", "identifier"),
    [
        (
            {
                "identifier_type": "ue",
                "identifier": "de 136 695 976",
                "country": "DE",
                "postal_code": "10115",
                "phone": "+49 30 1234567",
            },
            "DE136695976",
        ),
        (
            {
                "identifier_type": "hors_ue",
                "identifier": "che-123.456",
                "country": "CH",
                "postal_code": "8001",
                "phone": "+41 44 668 18 00",
            },
            "CHE123456",
        ),
        (
            {
                "identifier_type": "ridet",
                "identifier": "1234567.001",
                "country": "NC",
                "postal_code": "98800",
                "phone": "",
            },
            "1234567001",
        ),
        (
            {
                "identifier_type": "tahiti",
                "identifier": "a12345 001",
                "country": "PF",
                "postal_code": "98714",
                "phone": "",
            },
            "A12345001",
        ),
        ({"country": "RE", "postal_code": "97400", "phone": "0262 12 34 56"}, SIRET_NORMALISED),
    ],
)
def test_each_type_is_created_with_its_country(app, client, mailbox, changes, identifier):
    sign_up(client, mailbox)
    response = create_structure(client, **changes)
    assert response.status_code == 303, text_of(response)
    [structure] = structures(app)
    assert structure.identifier == identifier and structure.country == changes["country"]


# -- uniqueness --------------------------------------------------------------------------


def test_an_existing_structure_is_not_created_twice_and_attachment_is_offered(app, any_client, mailbox):
    pierre = new_client(app, mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    sent = len(mailbox())
    marie = sign_up(any_client, mailbox)
    before = len(mailbox())
    response = create_structure(marie, identifier="73282932000074", company_name="Autre nom")
    text = text_of(response)
    assert response.status_code == 422
    assert "Cette structure existe déjà" in error_of(response, "identifier")
    assert 'id="attachment-offer"' in text and "Demander le rattachement" in text
    assert 'value="Autre nom"' in text  # nothing typed is lost
    assert len(structures(app)) == 1 and len(memberships(app)) == 1
    assert len(mailbox()) == before and before > sent  # only Marie's activation mail
    # The offer sends the attachment request.
    offer = re.search(r'<div class="notice notice--error" id="attachment-offer".*?</form>', text, re.S).group(
        0
    )
    fields = dict(re.findall(r'name="(identifier_type|identifier)" type="hidden" value="([^"]*)"', offer))
    assert fields == {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    response = marie.submit("/structure/rattachement/demande", fields)
    assert "Votre demande de rattachement a été transmise" in follow(marie, response)
    assert [m.status for m in memberships(app)] == [Membership.ACTIVE, Membership.PENDING]


def test_step_6_sent_again_by_its_creator_goes_to_mon_espace_attack_replayed_creation(app, marie, mailbox):
    """A second « Soumettre » (a slow network, the form sent again): the
    structure is the person's already, so no « existe déjà » and no draft."""
    assert create_structure(marie).status_code in (200, 303)
    response = create_structure(marie)
    if marie.htmx:
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/espace/"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/espace/"
    text = follow(marie, response)
    assert "Vous êtes déjà rattaché à la structure Ateliers Curie." in text
    assert "existe déjà" not in text and "Brouillon enregistré" not in shown(marie, "/structure/nouvelle")
    assert len(structures(app)) == 1 and len(memberships(app)) == 1
    assert len([m for m in mailbox() if m.subject == "Votre structure est créée"]) == 1
    # Its identifier with other details is a mistake to correct, not a resubmission.
    response = create_structure(marie, company_name="Autre nom")
    assert response.status_code == 422 and "Cette structure existe déjà" in error_of(response, "identifier")
    assert 'value="Autre nom"' in text_of(response)


def test_two_creations_at_once_by_one_person_make_one_and_both_go_to_mon_espace(app, mailbox):
    pierre = new_client(app, mailbox, PIERRE)
    form = {**STRUCTURE, "csrf_token": pierre.csrf_token()}
    responses = post_at_once("/structure/nouvelle", [pierre, pierre], [form, form])
    assert [r.status_code for r in responses] == [303, 303]
    assert {r.headers["Location"] for r in responses} == {"/espace/"}
    assert len(structures(app)) == 1 and len(memberships(app)) == 1


def test_two_concurrent_creations_of_the_same_structure_make_one(app, mailbox):
    clients = [new_client(app, mailbox, PIERRE), new_client(app, mailbox, {**PIERRE, **LUCIE_CHANGES})]
    forms = [{**STRUCTURE, "csrf_token": c.csrf_token()} for c in clients]
    responses = post_at_once("/structure/nouvelle", clients, forms)
    assert sorted(r.status_code for r in responses) == [303, 422]
    loser = next(r for r in responses if r.status_code == 422)
    assert "Cette structure existe déjà" in text_of(loser)
    assert len(structures(app)) == 1 and len(memberships(app)) == 1
    assert len([m for m in mailbox() if m.subject == "Votre structure est créée"]) == 1


LUCIE_CHANGES = {
    "email": "lucie.martin@exemple.fr",
    "email_confirm": "lucie.martin@exemple.fr",
    "first_name": "Lucie",
    "last_name": "Martin",
    "contact_email": "",
}


# -- « Mon espace » ----------------------------------------------------------------------


def test_mon_espace_without_structure_offers_both_paths(marie):
    text = shown(marie, "/espace/")
    assert "Mon espace" in text and "aucune structure" in text
    assert 'href="/structure/nouvelle"' in text and 'href="/structure/rattachement"' in text
    assert "Approbations" not in text
