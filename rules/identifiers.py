"""Structure identifiers: the catalogue of Chorus Pro's seven identifier
types (names, labels, formats, the countries each belongs to, the types the
portal numbers itself), and the rules that check and normalise them."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from rules import RuleError
from rules.i18n import _
from rules.messages import REQUIRED, too_long
from rules.places import EU_COUNTRIES, country_name

SIRET = "siret"
UE = "ue"
HORS_UE = "hors_ue"
RIDET = "ridet"
TAHITI = "tahiti"
EN_COURS = "en_cours"
PARTICULIER = "particulier"


@dataclass(frozen=True, slots=True)
class IdentifierType:
    """One of Chorus Pro's seven identifier types. ``label``/``hint`` describe
    the identifier the user types; ``internal_prefix`` marks the types for
    which the portal assigns the identifier itself."""

    code: str
    name: str  # SIRET, RIDET and TAHITI are not translated; the others are
    label: str
    hint: str
    internal_prefix: str = ""

    @property
    def internal(self) -> bool:
        return bool(self.internal_prefix)


_ASSIGNED_LABEL = _("Identifiant attribué par le portail")
_ASSIGNED_HINT = _(
    "Pas d'identifiant à saisir : le portail attribue à la structure un identifiant interne, "
    "affiché après sa création. Vous pourrez renseigner son SIRET plus tard."
)
IDENTIFIER_TYPES: dict[str, IdentifierType] = {
    kind.code: kind
    for kind in (
        IdentifierType(
            SIRET,
            "SIRET",
            _("Identifiant Siret"),
            _("14 chiffres, par exemple 732 829 320 00074. Vérification du format faite par l'INSEE."),
        ),
        IdentifierType(
            UE,
            _("UE hors France"),
            _("Numéro de TVA intracommunautaire"),
            _("Avec le code du pays au début, par exemple DE136695976 ou BE0403170701."),
        ),
        IdentifierType(
            HORS_UE,
            _("Hors UE"),
            _("Numéro d'identification hors UE"),
            _("Le numéro d'immatriculation de la structure dans son pays : 18 lettres et chiffres au plus."),
        ),
        IdentifierType(
            RIDET,
            "RIDET",
            _("Numéro RIDET"),
            _("7 chiffres pour l'entreprise puis 3 pour l'établissement, par exemple 1234567.001."),
        ),
        IdentifierType(
            TAHITI,
            "TAHITI",
            _("Numéro TAHITI"),
            _(
                "6 caractères pour l'entreprise (une lettre ou un chiffre puis 5 chiffres), suivis "
                "le cas échéant des 3 chiffres de l'établissement, par exemple A12345 001."
            ),
        ),
        IdentifierType(
            EN_COURS,
            _("En cours d'immatriculation"),
            _ASSIGNED_LABEL,
            _ASSIGNED_HINT,
            internal_prefix="EC",
        ),
        IdentifierType(
            PARTICULIER,
            _("Particulier"),
            _ASSIGNED_LABEL,
            _ASSIGNED_HINT,
            internal_prefix="PA",
        ),
    )
}
# The types the portal numbers itself: their prefix and this many digits.
ASSIGNED_TYPES = tuple(code for code, kind in IDENTIFIER_TYPES.items() if kind.internal)
INTERNAL_DIGITS = 10
# Where INSEE registers companies (SIRET): France, its overseas départements,
# and the collectivities that are in the SIRENE register.
SIRET_COUNTRIES = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"})
# Where an intra-EU VAT number can place a structure « UE hors France »: not
# France and its outermost regions (SIRET), nor Åland (Finland's numbers).
UE_COUNTRIES = EU_COUNTRIES - SIRET_COUNTRIES - {"AX"}
IDENTIFIER_MAX_INPUT = 40
IDENTIFIER_TYPE_UNKNOWN = _("Choisissez un type d'identifiant dans la liste.")
SIRET_LENGTH = _("Le SIRET doit contenir 14 chiffres.")
SIRET_FORMAT = _("Le SIRET ne doit contenir que des chiffres (les espaces sont acceptés).")
SIRET_CHECKSUM = _(
    "Ce numéro SIRET n'est pas valide : vérifiez les chiffres saisis (clé de contrôle fausse)."
)
VAT_PREFIX = _(
    "Commencez le numéro par le code du pays membre de l'Union européenne, par exemple DE pour l'Allemagne."
)
VAT_FRANCE = _("Ce numéro de TVA est français : pour une structure française, choisissez le type SIRET.")
VAT_INVALID = _("Ce numéro de TVA intracommunautaire n'est pas valide : vérifiez les caractères saisis.")
HORS_UE_FORMAT = _("Saisissez 18 lettres (sans accent) et chiffres au plus.")
RIDET_FORMAT = _("Le numéro RIDET comporte 7 chiffres puis 3 chiffres, par exemple 1234567.001.")
TAHITI_FORMAT = _(
    "Le numéro TAHITI comporte une lettre ou un chiffre puis 5 chiffres, suivis le cas échéant "
    "des 3 chiffres de l'établissement, par exemple A12345 001."
)

# Greece's VAT numbers start with EL, its ISO code is GR.
_VAT_PREFIX_COUNTRY = {"EL": "GR"}
_SEPARATORS = re.compile(r"[\s.\-/]+")
_HORS_UE = re.compile(r"[A-Z0-9]{1,18}")
_RIDET = re.compile(r"\d{10}")
_TAHITI = re.compile(r"[A-Z0-9]\d{5}(?:\d{3})?")


def identifier_type(code: str) -> IdentifierType:
    kind = IDENTIFIER_TYPES.get(code) if isinstance(code, str) else None
    if kind is None:
        raise RuleError(IDENTIFIER_TYPE_UNKNOWN)
    return kind


def new_assigned_identifier(kind: IdentifierType) -> str:
    """A fresh identifier for a structure of a type the portal numbers
    itself: the type's prefix and random digits (EC0123456789)."""
    return kind.internal_prefix + "".join(secrets.choice("0123456789") for _ in range(INTERNAL_DIGITS))


def _compact(value: str) -> str:
    """Without spaces and separators, in upper case. Only ASCII is put in
    upper case: elsewhere it turns a letter into others (ß into SS, ı into I),
    and the identifier stored would not be the one typed."""
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    return compact.upper() if compact.isascii() else compact


def _check_siret(text: str) -> str:
    from stdnum.exceptions import InvalidChecksum, InvalidLength
    from stdnum.exceptions import ValidationError as StdnumError
    from stdnum.fr import siret

    try:
        return siret.validate(_compact(text))
    except InvalidLength:
        raise RuleError(SIRET_LENGTH) from None
    except InvalidChecksum:
        raise RuleError(SIRET_CHECKSUM) from None
    except StdnumError:
        raise RuleError(SIRET_FORMAT) from None


def _check_vat(text: str) -> str:
    from stdnum.eu import vat
    from stdnum.exceptions import ValidationError as StdnumError

    number = _compact(text)
    prefix = number[:2]
    if prefix == "GR":
        number, prefix = "EL" + number[2:], "EL"
    if prefix == "FR":
        raise RuleError(VAT_FRANCE)
    if not prefix.isalpha() or _VAT_PREFIX_COUNTRY.get(prefix, prefix) not in EU_COUNTRIES:
        raise RuleError(VAT_PREFIX)
    try:
        return vat.validate(number)
    except StdnumError:
        raise RuleError(VAT_INVALID) from None


def _check_pattern(text: str, pattern: re.Pattern, message: object) -> str:
    number = _compact(text)
    if not pattern.fullmatch(number):
        raise RuleError(message)
    return number


def normalize_identifier(code: str, value: str) -> str:
    """The identifier of that type, normalised (no spaces or separators,
    upper case). For the types the portal numbers itself, the identifier it
    assigned (EC…, PA…), e.g. to find the structure."""
    kind = identifier_type(code)
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise RuleError(REQUIRED)
    if len(text) > IDENTIFIER_MAX_INPUT:
        raise RuleError(too_long(IDENTIFIER_MAX_INPUT))
    if kind.code == SIRET:
        return _check_siret(text)
    if kind.code == UE:
        return _check_vat(text)
    if kind.code == HORS_UE:
        return _check_pattern(text, _HORS_UE, HORS_UE_FORMAT)
    if kind.code == RIDET:
        return _check_pattern(text, _RIDET, RIDET_FORMAT)
    if kind.code == TAHITI:
        return _check_pattern(text, _TAHITI, TAHITI_FORMAT)
    example = kind.internal_prefix + "0123456789"
    pattern = re.compile(rf"{kind.internal_prefix}\d{{{INTERNAL_DIGITS}}}")
    return _check_pattern(
        text,
        pattern,
        _("Saisissez l'identifiant attribué par le portail, par exemple %(example)s.", example=example),
    )


def same_identifier(code: str, typed: str, other: str) -> bool:
    """Whether two identifiers of that type are the same once normalised
    (« 732 829 320 00074 » and « 73282932000074 »); one that is not valid
    is compared as typed, without its spaces and separators."""

    def normalised(value: str) -> str:
        try:
            return normalize_identifier(code, value)
        except RuleError:
            return _compact(value) if isinstance(value, str) else ""

    return normalised(typed) == normalised(other) != ""


def vat_country(vat_number: str) -> str:
    """The ISO country of a normalised intra-EU VAT number."""
    prefix = vat_number[:2]
    return _VAT_PREFIX_COUNTRY.get(prefix, prefix)


def check_identifier_country(code: str, identifier: str, country: str) -> None:
    """The cross-field rule between the identifier and the country of the
    structure; raises a message meant for the country field."""
    if code == SIRET and country not in SIRET_COUNTRIES:
        raise RuleError(
            _(
                "Une structure identifiée par un SIRET doit être située en France "
                "ou dans un département ou une collectivité d'outre-mer."
            )
        )
    if code == UE and not identifier and country not in UE_COUNTRIES:
        # No VAT number yet to name the country, but these it never names.
        raise RuleError(
            _(
                "Une structure « UE hors France » doit être située dans un pays de l'Union européenne "
                "autre que la France. Pour la France, choisissez le type « SIRET »."
            )
            if country in SIRET_COUNTRIES
            else _(
                "Une structure « UE hors France » doit être située dans un pays de l'Union européenne "
                "autre que la France."
            )
        )
    if code == UE and identifier and country != vat_country(identifier):
        expected = vat_country(identifier)
        raise RuleError(
            _(
                "Le numéro de TVA commence par %(prefix)s : choisissez le pays correspondant (%(country)s).",
                prefix=identifier[:2],
                country=country_name(expected),
            )
        )
    if code == HORS_UE and country in EU_COUNTRIES:
        # The type that fits the country chosen: SIRET takes France alone.
        raise RuleError(
            _(
                "Une structure « Hors UE » doit être située hors de l'Union européenne. Pour la France, "
                "choisissez le type « SIRET »."
            )
            if country in SIRET_COUNTRIES
            else _(
                "Une structure « Hors UE » doit être située hors de l'Union européenne. Pour un pays "
                "de l'Union autre que la France, choisissez le type « UE hors France »."
            )
        )
    if code == RIDET and country != "NC":
        raise RuleError(
            _("Une structure identifiée par un numéro RIDET doit être située en Nouvelle-Calédonie.")
        )
    if code == TAHITI and country != "PF":
        raise RuleError(
            _("Une structure identifiée par un numéro TAHITI doit être située en Polynésie française.")
        )
