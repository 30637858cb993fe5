"""Structure field rules of forms/validators.py, table-driven: the seven
identifier types, the cross-field country rules, postal codes, address lines,
the French country list."""

from __future__ import annotations

import pytest
from wtforms import Form, StringField

from forms.validators import AddressLine, Identifier, PhoneInCountry, PostalCode
from rules import RuleError as ValidationError
from rules.identifiers import IDENTIFIER_TYPES, check_identifier_country, normalize_identifier
from rules.places import (
    check_address_line,
    check_city,
    check_country,
    check_postal_code,
    country_choices,
    country_name,
    postal_city,
)


def error_of(rule, *args) -> str:
    with pytest.raises(ValidationError) as caught:
        rule(*args)
    return str(caught.value)


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("siret", "73282932000074", "73282932000074"),
        ("siret", " 732 829 320 00074 ", "73282932000074"),
        ("siret", "732.829.320.00074", "73282932000074"),
        ("siret", "35600000000048", "35600000000048"),  # La Poste, head office (Luhn)
        ("siret", "356 000 000 49837", "35600000049837"),  # La Poste: sum of digits, not Luhn
        ("ue", "DE136695976", "DE136695976"),
        ("ue", "de 136 695 976", "DE136695976"),
        ("ue", "BE 0403.170.701", "BE0403170701"),
        ("ue", "EL094259216", "EL094259216"),
        ("ue", "GR094259216", "EL094259216"),  # Greece's VAT prefix is EL
        ("ue", "nl004495445b01", "NL004495445B01"),
        ("hors_ue", "ab-12 345", "AB12345"),
        ("hors_ue", "A" * 18, "A" * 18),
        ("hors_ue", "123", "123"),
        ("ridet", "1234567.001", "1234567001"),
        ("ridet", "1 234 567 001", "1234567001"),
        ("ridet", "1234567-001", "1234567001"),
        ("tahiti", "A12345", "A12345"),
        ("tahiti", "a12345 001", "A12345001"),
        ("tahiti", "123456.001", "123456001"),
        ("en_cours", "ec 0123456789", "EC0123456789"),
        ("particulier", "PA0123456789", "PA0123456789"),
    ],
)
def test_valid_identifiers_are_normalised(kind, value, expected):
    assert normalize_identifier(kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("siret", "", "Ce champ est obligatoire."),
        ("siret", "7328293200007", "14 chiffres"),
        ("siret", "732829320000745", "14 chiffres"),
        ("siret", "73282932000075", "clé de contrôle"),
        ("siret", "35600000049838", "clé de contrôle"),  # La Poste, sum not a multiple of 5
        ("siret", "7328293200007A", "que des chiffres"),
        ("ue", "DE136695977", "n'est pas valide"),
        ("ue", "136695976", "code du pays"),
        ("ue", "US123456789", "code du pays"),
        ("ue", "XI925901618", "code du pays"),  # Northern Ireland: not a member state
        ("ue", "FR40303265045", "choisissez le type SIRET"),
        ("hors_ue", "A" * 19, "18 lettres"),
        ("hors_ue", "ÉCOLE1", "18 lettres"),
        ("hors_ue", "AB_12", "18 lettres"),
        # Upper case would make them other letters (SS, I): refused, not stored changed.
        ("hors_ue", "straße1", "18 lettres"),
        ("hors_ue", "ıstanbul1", "18 lettres"),
        ("ridet", "123456.001", "7 chiffres puis 3"),
        ("ridet", "1234567.01", "7 chiffres puis 3"),
        ("ridet", "A234567.001", "7 chiffres puis 3"),
        ("tahiti", "AB2345", "une lettre ou un chiffre puis 5 chiffres"),
        ("tahiti", "A1234", "une lettre ou un chiffre puis 5 chiffres"),
        ("tahiti", "A12345 01", "une lettre ou un chiffre puis 5 chiffres"),
        ("en_cours", "PA0123456789", "EC0123456789"),
        ("particulier", "PA123", "PA0123456789"),
        ("inconnu", "123", "type d'identifiant"),
    ],
)
def test_invalid_identifiers_are_refused_with_a_french_message(kind, value, message):
    assert message in error_of(normalize_identifier, kind, value)


def test_the_seven_types_of_chorus_pro_in_order():
    assert [kind.name for kind in IDENTIFIER_TYPES.values()] == [
        "SIRET",
        "UE hors France",
        "Hors UE",
        "RIDET",
        "TAHITI",
        "En cours d'immatriculation",
        "Particulier",
    ]
    assert [code for code, kind in IDENTIFIER_TYPES.items() if kind.internal] == ["en_cours", "particulier"]
    labels = {kind.label for kind in IDENTIFIER_TYPES.values() if not kind.internal}
    assert len(labels) == 5  # the label follows the type
    assert IDENTIFIER_TYPES["siret"].label == "Identifiant Siret"


# --------------------------------------------------------------------------- country rules


@pytest.mark.parametrize(
    ("kind", "identifier", "country"),
    [
        ("siret", "73282932000074", "FR"),
        ("siret", "73282932000074", "RE"),
        ("siret", "73282932000074", "GP"),
        ("siret", "73282932000074", "YT"),
        ("ue", "DE136695976", "DE"),
        ("ue", "EL094259216", "GR"),
        ("ue", "", "BE"),
        ("hors_ue", "AB12345", "CH"),
        ("hors_ue", "AB12345", "US"),
        ("ridet", "1234567001", "NC"),
        ("tahiti", "A12345", "PF"),
        ("en_cours", "", "BE"),
        ("particulier", "", "FR"),
    ],
)
def test_country_rules_accept(kind, identifier, country):
    check_identifier_country(kind, identifier, country)


@pytest.mark.parametrize(
    ("kind", "identifier", "country", "message"),
    [
        ("siret", "73282932000074", "BE", "en France"),
        ("siret", "73282932000074", "NC", "en France"),
        ("ue", "DE136695976", "AT", "choisissez le pays correspondant (Allemagne)"),
        ("ue", "EL094259216", "FR", "(Grèce)"),
        # No VAT number yet: any member state but France may be right, no other country.
        ("ue", "", "FR", "autre que la France. Pour la France, choisissez le type « SIRET »."),
        ("ue", "", "RE", "Pour la France, choisissez le type « SIRET »."),
        ("ue", "", "CH", "doit être située dans un pays de l'Union européenne autre que la France."),
        ("ue", "", "AX", "autre que la France."),
        # The type that fits: « UE hors France » for Germany (SIRET takes France alone), SIRET for France.
        (
            "hors_ue",
            "AB12345",
            "DE",
            "Pour un pays de l'Union autre que la France, choisissez le type « UE hors France ».",
        ),
        ("hors_ue", "AB12345", "FR", "Pour la France, choisissez le type « SIRET »."),
        (
            "hors_ue",
            "AB12345",
            "RE",
            "Pour la France, choisissez le type « SIRET ».",
        ),  # an outermost region is in the EU
        ("ridet", "1234567001", "FR", "Nouvelle-Calédonie"),
        ("tahiti", "A12345", "NC", "Polynésie française"),
    ],
)
def test_country_rules_refuse(kind, identifier, country, message):
    assert message in error_of(check_identifier_country, kind, identifier, country)


# --------------------------------------------------------------------------- postal codes


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("75002", "FR", "75002"),
        (" 75 002 ", "FR", "75002"),
        ("20000", "FR", "20000"),
        ("97100", "GP", "97100"),
        ("97400", "RE", "97400"),
        ("97600", "YT", "97600"),
        ("97500", "PM", "97500"),
        ("98800", "NC", "98800"),
        ("98714", "PF", "98714"),
        ("98000", "MC", "98000"),
        ("1000", "BE", "1000"),
        ("sw1a 1aa", "GB", "SW1A 1AA"),
        ("K1A 0B1", "CA", "K1A 0B1"),
        ("1010-120", "PT", "1010-120"),
        ("ABCDE12345", "US", "ABCDE12345"),
    ],
)
def test_valid_postal_codes(value, country, expected):
    assert check_postal_code(value, country) == expected


@pytest.mark.parametrize(
    ("value", "country", "message"),
    [
        ("7500", "FR", "5 chiffres"),
        ("750022", "FR", "5 chiffres"),
        ("75OO2", "FR", "5 chiffres"),
        ("00100", "FR", "5 chiffres"),
        ("７５００２", "FR", "5 chiffres"),  # full-width digits
        ("97400", "GP", "commencer par 971"),
        ("75002", "NC", "commencer par 988"),
        ("ABCDE123456", "US", "au plus 10"),
        ("12_34", "DE", "au plus 10"),
        ("-1234", "DE", "au plus 10"),
        ("", "DE", "au plus 10"),
    ],
)
def test_invalid_postal_codes(value, country, message):
    assert message in error_of(check_postal_code, value, country)


# --------------------------------------------------------------------------- addresses, countries


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12 rue de la Paix", "12 rue de la Paix"),
        ("  12   rue\tde la  Paix ", "12 rue de la Paix"),
        ("x" * 38, "x" * 38),
        ("", ""),
    ],
)
def test_address_lines_are_cleaned(value, expected):
    assert check_address_line(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [("x" * 39, "au plus 38 caractères"), ("12 rue\u0000 de la Paix", "caractère non autorisé")],
)
def test_address_lines_are_at_most_38_characters(value, message):
    assert message in error_of(check_address_line, value)


def test_a_city_too_long_is_told_how_la_poste_shortens_it_not_to_use_the_complements():
    message = error_of(check_city, "Saint-Rémy-en-Bouzemont-Saint-Genest-et-Isson")
    assert "au plus 38 caractères" in message and "ST pour SAINT et STE pour SAINTE" in message
    assert "compléments d'adresse" not in message
    assert check_city(" Saint-Denis ") == "Saint-Denis"


@pytest.mark.parametrize(
    ("name", "shortened"),
    [
        ("SAINT-REMY-EN-BOUZEMONT-SAINT-GENEST-ET-ISSON", "ST-REMY-EN-BOUZEMONT-ST-GENEST-ET-ISSON"),
        ("Sainte-Marie-aux-Chênes-Saint-Privat-la-Mt", "Ste-Marie-aux-Chênes-St-Privat-la-Mt"),
        ("SAINTES-MARIES-DE-LA-MER-ET-UN-PEU-PLUS-LOIN", "SAINTES-MARIES-DE-LA-MER-ET-UN-PEU-PLUS-LOIN"),
        ("SAINT-DENIS", "SAINT-DENIS"),  # it fits: left whole
    ],
)
def test_a_commune_longer_than_the_line_is_shortened_as_la_poste_does(name, shortened):
    assert postal_city(name) == shortened


def test_countries_are_french_with_france_first():
    choices = country_choices()
    assert choices[0] == ("FR", "France")
    assert len(choices) == 249
    names = dict(choices)
    assert names["DE"] == "Allemagne" and names["NC"] == "Nouvelle-Calédonie"
    assert country_name("pf") == "Polynésie française"
    # French alphabetical order, accents ignored: Afrique du Sud before Åland and Albanie.
    order = [code for code, _ in choices]
    assert order.index("ZA") < order.index("AX") < order.index("AL")
    assert check_country(" be ") == "BE"
    assert "liste" in error_of(check_country, "XX")


# --------------------------------------------------------------------------- WTForms validators


class StructureLike(Form):
    identifier_type = StringField()
    identifier = StringField(validators=[Identifier("identifier_type")])
    lookup = StringField(validators=[Identifier("identifier_type", assigned_allowed=True)])
    address = StringField(validators=[AddressLine()])
    postal_code = StringField(validators=[PostalCode("country")])
    phone = StringField(validators=[PhoneInCountry("country")])
    country = StringField()


class Data(dict):
    def getlist(self, key):
        return [self[key]] if key in self else []


def form_with(**data) -> StructureLike:
    form = StructureLike(Data(data))
    form.validate()
    return form


def test_the_identifier_validator_follows_the_type():
    form = form_with(identifier_type="ue", identifier="de 136 695 976")
    assert form.identifier.data == "DE136695976" and not form.identifier.errors
    form = form_with(identifier_type="siret", identifier="de 136 695 976")
    assert form.identifier.errors == [
        "Le SIRET ne doit contenir que des chiffres (les espaces sont acceptés)."
    ]


def test_nothing_is_typed_for_an_identifier_the_portal_assigns():
    form = form_with(identifier_type="en_cours", identifier="n'importe quoi", lookup="ec 0123456789")
    assert form.identifier.data == "" and not form.identifier.errors
    assert form.lookup.data == "EC0123456789" and not form.lookup.errors


def test_postal_code_and_phone_follow_the_country():
    form = form_with(postal_code="1000", phone="02 511 22 33", country="BE", address="Rue Haute 1")
    assert not form.errors
    assert form.phone.data == "+3225112233" and form.postal_code.data == "1000"
    form = form_with(postal_code="1000", phone="02 511 22 33", country="FR")
    assert "5 chiffres" in form.postal_code.errors[0]
    assert "numéro de téléphone valide" in form.phone.errors[0]  # not a French number
    form = form_with(phone="+32 2 511 22 33", country="FR")
    assert form.phone.data == "+3225112233" and not form.phone.errors
    form = form_with(address="y" * 39)
    assert "38" in form.address.errors[0]
