"""Field rules shared by the forms and the rest of the code.

Each rule is a plain function that returns the cleaned value or raises
``wtforms.validators.ValidationError`` with a French message; the WTForms
validator classes below only call those functions, so a form and any other
caller (a view, a CLI command, a model) apply exactly the same rule.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from wtforms.validators import ValidationError

__all__ = [
    "EMAIL_MAX",
    "NAME_MAX",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "PASSWORD_MIN_KINDS",
    "Email",
    "PasswordCheck",
    "PasswordRule",
    "PersonName",
    "Phone",
    "SameAs",
    "ValidationError",
    "check_password",
    "check_person_name",
    "is_common_password",
    "normalize_email",
    "normalize_phone",
    "password_checks",
    "password_context_words",
    "password_kinds",
]


def _fold(text: str) -> str:
    """Lower case without accents: « Élodie » -> « elodie »."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


# --------------------------------------------------------------------------- e-mail

EMAIL_MAX = 254
EMAIL_MESSAGE = "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."
EMAIL_ACCENTS = (
    "Les caractères accentués ou spéciaux ne sont pas acceptés avant le @. "
    "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."
)
EMAIL_TOO_LONG = f"L'adresse e-mail doit contenir au plus {EMAIL_MAX} caractères."


def _email_reason(text: str) -> str | None:
    """A short French reason for the obvious mistakes, else None."""
    if any(ch.isspace() for ch in text):
        return "L'adresse ne doit pas contenir d'espace."
    count = text.count("@")
    if count == 0:
        return "Il manque le caractère @."
    if count > 1:
        return "L'adresse ne doit contenir qu'un seul caractère @."
    local, domain = text.split("@")
    if not local:
        return "Il manque la partie située avant le @."
    if not domain:
        return "Il manque le nom de domaine après le @."
    if "." not in domain:
        return "Le nom de domaine après le @ doit contenir un point, par exemple exemple.fr."
    return None


def normalize_email(value: str) -> str:
    """The normalised address, entirely lower-cased (it is the login key)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError(EMAIL_MESSAGE)
    if len(text) > EMAIL_MAX:
        raise ValidationError(EMAIL_TOO_LONG)
    reason = _email_reason(text)
    if reason:
        raise ValidationError(f"{reason} {EMAIL_MESSAGE}")
    try:
        # Mail servers and Flask-Mail speak ASCII before the @ (no SMTPUTF8);
        # an internationalised domain is kept in its ASCII (punycode) form.
        info = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        if "before the @-sign" in str(error) and "Internationalized" in str(error):
            raise ValidationError(EMAIL_ACCENTS) from None
        raise ValidationError(EMAIL_MESSAGE) from None
    normalized = (info.ascii_email or info.normalized).lower()
    if len(normalized) > EMAIL_MAX:
        raise ValidationError(EMAIL_TOO_LONG)
    return normalized


class Cleans:
    """Base of the validators that check a filled-in field with a rule and
    replace its data by the rule's cleaned value. An empty field is left to
    ``Optional``/``DataRequired``."""

    def clean(self, form, value: str) -> str:
        raise NotImplementedError

    def __call__(self, form, field) -> None:
        if field.data:
            field.data = self.clean(form, field.data)


class Email(Cleans):
    """Replaces the data by the normalised address."""

    def clean(self, form, value: str) -> str:
        return normalize_email(value)


# --------------------------------------------------------------------------- confirmation


class SameAs:
    """The field must repeat another field of the form.

    ``case_sensitive=True`` (passwords): exact equality, nothing stripped.
    ``case_sensitive=False`` (e-mail): equality after strip, ignoring case."""

    def __init__(
        self,
        other_field_name: str,
        message: str = "Les deux valeurs saisies ne sont pas identiques.",
        case_sensitive: bool = True,
    ):
        self.other_field_name = other_field_name
        self.message = message
        self.case_sensitive = case_sensitive

    def _key(self, value) -> str:
        text = value if isinstance(value, str) else ("" if value is None else str(value))
        if self.case_sensitive:
            return text
        return unicodedata.normalize("NFC", text.strip()).casefold()

    def __call__(self, form, field) -> None:
        try:
            other = form[self.other_field_name]
        except KeyError:
            raise ValidationError(f"Champ inconnu : {self.other_field_name}.") from None
        if self._key(field.data) != self._key(other.data):
            raise ValidationError(self.message)


# --------------------------------------------------------------------------- person names

NAME_MAX = 100
NAME_TOO_LONG = f"Ce champ doit contenir au plus {NAME_MAX} caractères."
NAME_ALLOWED = "Utilisez uniquement des lettres, des espaces, des traits d'union (-) et des apostrophes (')."
NAME_NO_LETTER = "Ce champ doit contenir au moins une lettre."
NAME_EDGES = "Ce champ ne peut ni commencer ni se terminer par un trait d'union ou une apostrophe."
_NAME_PUNCTUATION = "-'’"


def check_person_name(value: str) -> str:
    """A first or last name, cleaned: outer spaces removed, inner runs of
    white space collapsed to one space. Letters of any script, spaces,
    hyphens and apostrophes."""
    text = value if isinstance(value, str) else ""
    cleaned = " ".join(unicodedata.normalize("NFC", text).split())
    if len(cleaned) > NAME_MAX:
        raise ValidationError(NAME_TOO_LONG)
    after_letter = False
    for ch in cleaned:
        # Combining marks that NFC cannot merge (Devanagari, Thai…) belong to
        # the letter before them.
        is_mark = after_letter and unicodedata.category(ch) in ("Mn", "Mc")
        if not (ch.isalpha() or is_mark or ch == " " or ch in _NAME_PUNCTUATION):
            if ch.isprintable():
                raise ValidationError(f"Le caractère « {ch} » n'est pas autorisé. {NAME_ALLOWED}")
            raise ValidationError(f"Ce champ contient un caractère non autorisé. {NAME_ALLOWED}")
        after_letter = ch.isalpha() or is_mark
    if not any(ch.isalpha() for ch in cleaned):
        raise ValidationError(NAME_NO_LETTER)
    if cleaned[0] in _NAME_PUNCTUATION or cleaned[-1] in _NAME_PUNCTUATION:
        raise ValidationError(NAME_EDGES)
    return cleaned


class PersonName(Cleans):
    """Replaces the data by the cleaned name."""

    def clean(self, form, value: str) -> str:
        return check_person_name(value)


# --------------------------------------------------------------------------- phone numbers

PHONE_MESSAGE = "Saisissez un numéro de téléphone valide, par exemple 01 23 45 67 89 ou +33 1 23 45 67 89."
_PHONE_MAX_INPUT = 50
_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]+")
# Overseas departments and collectivities dialled from France with the same
# ten-digit national format (0690…, 0262…): a number that is not valid in
# metropolitan France is tried there before being refused.
_FRENCH_OVERSEAS = ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF")


def _parse_valid(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalize_phone(value: str, region: str = "FR") -> str:
    """The number in E.164 (+33123456789). National numbers are read in
    ``region``; numbers starting with + or 00 are international."""
    text = value.strip() if isinstance(value, str) else ""
    if (
        not text
        or len(text) > _PHONE_MAX_INPUT
        or not _PHONE_CHARS.fullmatch(text)
        or not any(ch.isdigit() for ch in text)
    ):
        raise ValidationError(PHONE_MESSAGE)
    if text.startswith("00"):
        text = "+" + text[2:]
    number = _parse_valid(text, region)
    if number is None and region.upper() == "FR" and not text.startswith("+"):
        for overseas in _FRENCH_OVERSEAS:
            number = _parse_valid(text, overseas)
            if number is not None:
                break
    if number is None:
        raise ValidationError(PHONE_MESSAGE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Phone(Cleans):
    """Replaces the data by the E.164 number."""

    def __init__(self, region: str = "FR"):
        self.region = region

    def clean(self, form, value: str) -> str:
        return normalize_phone(value, self.region)


# --------------------------------------------------------------------------- passwords

PASSWORD_MIN = 12
PASSWORD_MAX = 128
PASSWORD_MIN_KINDS = 3

PASSWORD_TOO_SHORT = f"Le mot de passe doit contenir au moins {PASSWORD_MIN} caractères."
PASSWORD_TOO_LONG = f"Le mot de passe doit contenir au plus {PASSWORD_MAX} caractères."
PASSWORD_KINDS = (
    f"Le mot de passe doit contenir au moins {PASSWORD_MIN_KINDS} types de caractères parmi : "
    "majuscules, minuscules, chiffres, caractères spéciaux."
)
PASSWORD_COMMON = "Ce mot de passe est trop courant. Choisissez-en un autre."
PASSWORD_CONTEXT = "Le mot de passe ne doit contenir ni votre nom, ni votre prénom, ni votre adresse e-mail."


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """One line of the rule shown next to the password field."""

    key: str
    label: str
    ok: bool


def _is_upper(ch: str) -> bool:
    return ch.isupper()


def _is_lower(ch: str) -> bool:
    return ch.islower()


def _is_digit(ch: str) -> bool:
    return ch.isdigit()


def _is_special(ch: str) -> bool:
    # Anything that is neither a letter nor a digit, spaces included.
    return not (ch.isalpha() or ch.isdigit())


_KINDS: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("upper", "Une majuscule", _is_upper),
    ("lower", "Une minuscule", _is_lower),
    ("digit", "Un chiffre", _is_digit),
    ("special", "Un caractère spécial", _is_special),
)


def password_checks(password: str) -> list[PasswordCheck]:
    """Length, then the four kinds of characters, in that order."""
    password = password or ""
    checks = [PasswordCheck("length", f"{PASSWORD_MIN} caractères minimum", len(password) >= PASSWORD_MIN)]
    for key, label, test in _KINDS:
        checks.append(PasswordCheck(key, label, any(test(ch) for ch in password)))
    return checks


def password_kinds(password: str) -> int:
    """How many of the four kinds (upper, lower, digit, special) the password has."""
    password = password or ""
    return sum(1 for _key, _label, test in _KINDS if any(test(ch) for ch in password))


# Common French passwords (lower case, without accents), on top of zxcvbn's list.
FRENCH_COMMON_PASSWORDS = frozenset(
    {
        "azerty",
        "azertyui",
        "azertyuiop",
        "azerty123",
        "qsdfghjklm",
        "wxcvbn",
        "motdepasse",
        "mot2passe",
        "monmotdepasse",
        "soleil",
        "bonjour",
        "bonsoir",
        "salut",
        "coucou",
        "jetaime",
        "doudou",
        "loulou",
        "chouchou",
        "chocolat",
        "bisounours",
        "princesse",
        "bienvenue",
        "marseille",
        "allezlom",
        "paris",
        "toulouse",
        "bordeaux",
        "france",
        "liberte",
        "chorus",
        "choruspro",
        "chorus-pro",
        "facture",
        "factures",
        "facturation",
        "portail",
        "administrateur",
    }
)

# Common "leet" substitutions, undone before looking a base up.
_UNLEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_REPEATED = re.compile(r"(.+?)\1+")


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | FRENCH_COMMON_PASSWORDS


def _strip_decoration(text: str) -> str:
    """Drops leading and trailing digits and special characters (years, "123", "!!")."""
    start, end = 0, len(text)
    while start < end and not text[start].isalpha():
        start += 1
    while end > start and not text[end - 1].isalpha():
        end -= 1
    return text[start:end]


def is_common_password(password: str) -> bool:
    """True for a common password, even decorated with digits or special
    characters around it (« Azertyuiop123! », « Password2024!! »)."""
    common = _common_passwords()
    lowered = (password or "").lower()
    if lowered in common or _fold(lowered) in common:
        return True
    base = _strip_decoration(_fold(lowered))
    candidates = {base, base.translate(_UNLEET)}
    repeated = _REPEATED.fullmatch(base)
    if repeated:  # « azertyazerty »
        candidates.add(repeated.group(1))
    return any(len(candidate) >= 4 and candidate in common for candidate in candidates)


# Public mail providers: their domain says nothing about the user.
_MAIL_PROVIDERS = frozenset(
    {
        "aol",
        "bbox",
        "free",
        "gmail",
        "gmx",
        "googlemail",
        "hotmail",
        "icloud",
        "laposte",
        "live",
        "msn",
        "neuf",
        "orange",
        "outlook",
        "proton",
        "protonmail",
        "sfr",
        "wanadoo",
        "yahoo",
    }
)
_WORD_SPLIT = re.compile(r"[\W_]+")
_CONTEXT_MIN = 3


def _words(text: str) -> set[str]:
    return {word for word in _WORD_SPLIT.split(_fold(text)) if len(word) >= _CONTEXT_MIN}


def password_context_words(context: Iterable[str]) -> set[str]:
    """The words (folded, at least 3 characters) a password may not contain:
    each item split on non-alphanumerics; for an e-mail, its local part and
    the domain label before the top-level domain."""
    words: set[str] = set()
    for item in context or ():
        if not isinstance(item, str) or not item.strip():
            continue
        item = item.strip()
        if "@" in item:
            local, _, domain = item.rpartition("@")
            words |= _words(local)
            folded_local = _fold(local)
            if len(folded_local) >= _CONTEXT_MIN:
                words.add(folded_local)
            labels = [label for label in domain.split(".") if label]
            if len(labels) >= 2:
                words |= {word for word in _words(labels[-2]) if word not in _MAIL_PROVIDERS}
        else:
            words |= _words(item)
    return words


def check_password(password: str, context: Iterable[str] = ()) -> None:
    """Raises ValidationError with the first rule the password breaks."""
    password = password or ""
    if len(password) < PASSWORD_MIN:
        raise ValidationError(PASSWORD_TOO_SHORT)
    if len(password) > PASSWORD_MAX:
        raise ValidationError(PASSWORD_TOO_LONG)
    if password_kinds(password) < PASSWORD_MIN_KINDS:
        raise ValidationError(PASSWORD_KINDS)
    if is_common_password(password):
        raise ValidationError(PASSWORD_COMMON)
    folded = _fold(password)
    if any(word in folded for word in password_context_words(context)):
        raise ValidationError(PASSWORD_CONTEXT)


class PasswordRule:
    """Validates a new password. ``context`` returns the words the password
    may not contain (names, e-mail addresses); it is called at validation."""

    def __init__(self, context: Callable[[], Iterable[str]] | None = None):
        self.context = context

    def __call__(self, form, field) -> None:
        check_password(field.data or "", self.context() if self.context else ())


# --------------------------------------------------------------------------- countries


@cache
def _french_country_names() -> dict[str, str]:
    import gettext

    import pycountry

    translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    return {country.alpha_2: translation.gettext(country.name) for country in pycountry.countries}


@cache
def country_choices() -> tuple[tuple[str, str], ...]:
    """ISO 3166 countries as (alpha-2, French name): France first, then the
    others in French alphabetical order."""
    names = _french_country_names()
    others = sorted((code for code in names if code != "FR"), key=lambda code: _fold(names[code]))
    return (("FR", names["FR"]), *((code, names[code]) for code in others))


def country_name(code: str | None) -> str:
    """The French name of an ISO 3166 alpha-2 code (the code itself if unknown)."""
    return _french_country_names().get((code or "").upper(), code or "")


# France and the territories that use its postal system (97x, 98x), with the
# start every code there must have.
FRENCH_POSTAL_PREFIXES = {
    "FR": "",
    "GP": "971",
    "MQ": "972",
    "GF": "973",
    "RE": "974",
    "PM": "975",
    "YT": "976",
    "BL": "97133",
    "MF": "97150",
    "MC": "980",
    "TF": "984",
    "WF": "986",
    "PF": "987",
    "NC": "988",
}
# Where INSEE registers companies (SIRET): France, its overseas départements,
# and the collectivities that are in the SIRENE register.
SIRET_COUNTRIES = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"})
# The European Union: member states, plus the ISO codes of territories that
# are part of it (French outermost regions, Åland).
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
        "GP", "MQ", "GF", "RE", "YT", "MF", "AX",
    }
)  # fmt: skip
COUNTRY_UNKNOWN = "Choisissez un pays dans la liste."


def check_country(value: str) -> str:
    """An ISO 3166 alpha-2 code, upper case."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in _french_country_names():
        raise ValidationError(COUNTRY_UNKNOWN)
    return code


# --------------------------------------------------------------------------- structure identifiers

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
    name: str
    label: str
    hint: str
    internal_prefix: str = ""

    @property
    def internal(self) -> bool:
        return bool(self.internal_prefix)


_ASSIGNED_HINT = (
    "Pas d'identifiant à saisir : le portail attribue à la structure un identifiant interne, "
    "affiché après sa création. Vous pourrez renseigner son SIRET plus tard."
)
IDENTIFIER_TYPES: dict[str, IdentifierType] = {
    kind.code: kind
    for kind in (
        IdentifierType(
            SIRET,
            "SIRET",
            "Identifiant Siret",
            "14 chiffres, par exemple 732 829 320 00074. Vérification du format faite par l'INSEE.",
        ),
        IdentifierType(
            UE,
            "UE hors France",
            "Numéro de TVA intracommunautaire",
            "Avec le code du pays au début, par exemple DE136695976 ou BE0403170701.",
        ),
        IdentifierType(
            HORS_UE,
            "Hors UE",
            "Numéro d'identification hors UE",
            "Le numéro d'immatriculation de la structure dans son pays : 18 lettres et chiffres au plus.",
        ),
        IdentifierType(
            RIDET,
            "RIDET",
            "Numéro RIDET",
            "7 chiffres pour l'entreprise puis 3 pour l'établissement, par exemple 1234567.001.",
        ),
        IdentifierType(
            TAHITI,
            "TAHITI",
            "Numéro TAHITI",
            "6 caractères pour l'entreprise (une lettre ou un chiffre puis 5 chiffres), suivis "
            "le cas échéant des 3 chiffres de l'établissement, par exemple A12345 001.",
        ),
        IdentifierType(
            EN_COURS,
            "En cours d'immatriculation",
            "Identifiant attribué par le portail",
            _ASSIGNED_HINT,
            internal_prefix="EC",
        ),
        IdentifierType(
            PARTICULIER,
            "Particulier",
            "Identifiant attribué par le portail",
            _ASSIGNED_HINT,
            internal_prefix="PA",
        ),
    )
}
INTERNAL_DIGITS = 10
IDENTIFIER_TYPE_UNKNOWN = "Choisissez un type d'identifiant dans la liste."
SIRET_LENGTH = "Le SIRET doit contenir 14 chiffres."
SIRET_FORMAT = "Le SIRET ne doit contenir que des chiffres (les espaces sont acceptés)."
SIRET_CHECKSUM = "Ce numéro SIRET n'est pas valide : vérifiez les chiffres saisis (clé de contrôle fausse)."
VAT_PREFIX = (
    "Commencez le numéro par le code du pays membre de l'Union européenne, par exemple DE pour l'Allemagne."
)
VAT_FRANCE = "Ce numéro de TVA est français : pour une structure française, choisissez le type SIRET."
VAT_INVALID = "Ce numéro de TVA intracommunautaire n'est pas valide : vérifiez les caractères saisis."
HORS_UE_FORMAT = "Saisissez 18 lettres (sans accent) et chiffres au plus."
RIDET_FORMAT = "Le numéro RIDET comporte 7 chiffres puis 3 chiffres, par exemple 1234567.001."
TAHITI_FORMAT = (
    "Le numéro TAHITI comporte une lettre ou un chiffre puis 5 chiffres, suivis le cas échéant "
    "des 3 chiffres de l'établissement, par exemple A12345 001."
)
IDENTIFIER_REQUIRED = "Ce champ est obligatoire."

# Greece's VAT numbers start with EL, its ISO code is GR.
_VAT_PREFIX_COUNTRY = {"EL": "GR"}
_SEPARATORS = re.compile(r"[\s.\-/]+")
_HORS_UE = re.compile(r"[A-Z0-9]{1,18}")
_RIDET = re.compile(r"\d{10}")
_TAHITI = re.compile(r"[A-Z0-9]\d{5}(?:\d{3})?")


def identifier_type(code: str) -> IdentifierType:
    kind = IDENTIFIER_TYPES.get(code) if isinstance(code, str) else None
    if kind is None:
        raise ValidationError(IDENTIFIER_TYPE_UNKNOWN)
    return kind


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


def _check_siret(text: str) -> str:
    from stdnum.exceptions import InvalidChecksum, InvalidLength
    from stdnum.exceptions import ValidationError as StdnumError
    from stdnum.fr import siret

    try:
        return siret.validate(_compact(text))
    except InvalidLength:
        raise ValidationError(SIRET_LENGTH) from None
    except InvalidChecksum:
        raise ValidationError(SIRET_CHECKSUM) from None
    except StdnumError:
        raise ValidationError(SIRET_FORMAT) from None


def _check_vat(text: str) -> str:
    from stdnum.eu import vat
    from stdnum.exceptions import ValidationError as StdnumError

    number = _compact(text)
    prefix = number[:2]
    if prefix == "GR":
        number, prefix = "EL" + number[2:], "EL"
    if prefix == "FR":
        raise ValidationError(VAT_FRANCE)
    if not prefix.isalpha() or _VAT_PREFIX_COUNTRY.get(prefix, prefix) not in EU_COUNTRIES:
        raise ValidationError(VAT_PREFIX)
    try:
        return vat.validate(number)
    except StdnumError:
        raise ValidationError(VAT_INVALID) from None


def _check_pattern(text: str, pattern: re.Pattern, message: str) -> str:
    number = _compact(text)
    if not pattern.fullmatch(number):
        raise ValidationError(message)
    return number


def normalize_identifier(code: str, value: str) -> str:
    """The identifier of that type, normalised (no spaces or separators,
    upper case). For the types the portal numbers itself, the identifier it
    assigned (EC…, PA…), e.g. to find the structure."""
    kind = identifier_type(code)
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError(IDENTIFIER_REQUIRED)
    if len(text) > 40:
        raise ValidationError("Ce champ doit contenir au plus 40 caractères.")
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
        text, pattern, f"Saisissez l'identifiant attribué par le portail, par exemple {example}."
    )


def vat_country(vat_number: str) -> str:
    """The ISO country of a normalised intra-EU VAT number."""
    prefix = vat_number[:2]
    return _VAT_PREFIX_COUNTRY.get(prefix, prefix)


def check_identifier_country(code: str, identifier: str, country: str) -> None:
    """The cross-field rule between the identifier and the country of the
    structure; raises a message meant for the country field."""
    if code == SIRET and country not in SIRET_COUNTRIES:
        raise ValidationError(
            "Une structure identifiée par un SIRET doit être située en France "
            "ou dans un département ou une collectivité d'outre-mer."
        )
    if code == UE and identifier and country != vat_country(identifier):
        expected = vat_country(identifier)
        raise ValidationError(
            f"Le numéro de TVA commence par {identifier[:2]} : choisissez le pays "
            f"correspondant ({country_name(expected)})."
        )
    if code == HORS_UE and country in EU_COUNTRIES:
        raise ValidationError(
            "Une structure « Hors UE » doit être située hors de l'Union européenne. Pour un pays "
            "de l'Union, choisissez le type « UE hors France » ou « SIRET »."
        )
    if code == RIDET and country != "NC":
        raise ValidationError(
            "Une structure identifiée par un numéro RIDET doit être située en Nouvelle-Calédonie."
        )
    if code == TAHITI and country != "PF":
        raise ValidationError(
            "Une structure identifiée par un numéro TAHITI doit être située en Polynésie française."
        )


class Identifier:
    """Validates the identifier for the type chosen in ``type_field`` and
    replaces its data by the normalised identifier. For the types the portal
    numbers itself, nothing is typed: the data becomes empty."""

    def __init__(self, type_field: str = "identifier_type", assigned_allowed: bool = False):
        self.type_field = type_field
        # True when looking a structure up: its assigned identifier is typed.
        self.assigned_allowed = assigned_allowed

    def __call__(self, form, field) -> None:
        code = form[self.type_field].data
        if code not in IDENTIFIER_TYPES:
            field.data = ""
            return  # the type field reports it
        if IDENTIFIER_TYPES[code].internal and not self.assigned_allowed:
            field.data = ""
            return
        field.data = normalize_identifier(code, field.data)


# --------------------------------------------------------------------------- postal addresses

ADDRESS_LINE_MAX = 38
ADDRESS_LINE_TOO_LONG = (
    f"Ce champ doit contenir au plus {ADDRESS_LINE_MAX} caractères (norme postale). "
    "Utilisez les compléments d'adresse pour la suite."
)
ADDRESS_LINE_CHARS = "Ce champ contient un caractère non autorisé."
POSTAL_CODE_FRENCH = "Le code postal doit contenir 5 chiffres, par exemple 75001."
POSTAL_CODE_OTHER = "Le code postal doit contenir au plus 10 lettres, chiffres, espaces ou traits d'union."
_POSTAL_OTHER = re.compile(r"[A-Z0-9](?:[A-Z0-9 \-]{0,8}[A-Z0-9])?")


def check_address_line(value: str) -> str:
    """A line of a postal address: white space collapsed, printable
    characters only, at most 38 characters (NF Z10-011)."""
    text = value if isinstance(value, str) else ""
    cleaned = " ".join(unicodedata.normalize("NFC", text).split())
    if any(not ch.isprintable() for ch in cleaned):
        raise ValidationError(ADDRESS_LINE_CHARS)
    if len(cleaned) > ADDRESS_LINE_MAX:
        raise ValidationError(ADDRESS_LINE_TOO_LONG)
    return cleaned


def check_postal_code(value: str, country: str) -> str:
    """The postal code for that country, normalised (upper case, single spaces):
    5 digits for France and the territories using its postal system,
    elsewhere up to 10 letters, digits, spaces and hyphens."""
    text = " ".join(value.split()).upper() if isinstance(value, str) else ""
    if country in FRENCH_POSTAL_PREFIXES:
        code = text.replace(" ", "")
        if not (len(code) == 5 and code.isascii() and code.isdigit()) or code.startswith("00"):
            raise ValidationError(POSTAL_CODE_FRENCH)
        prefix = FRENCH_POSTAL_PREFIXES[country]
        if not code.startswith(prefix):
            raise ValidationError(
                f"Le code postal ne correspond pas au pays choisi ({country_name(country)}) : "
                f"il doit commencer par {prefix}."
            )
        return code
    if not _POSTAL_OTHER.fullmatch(text):
        raise ValidationError(POSTAL_CODE_OTHER)
    return text


class AddressLine(Cleans):
    """Replaces the data by the cleaned line."""

    def clean(self, form, value: str) -> str:
        return check_address_line(value)


class PostalCode(Cleans):
    """Validates a postal code for the country chosen in ``country_field``."""

    def __init__(self, country_field: str = "country"):
        self.country_field = country_field

    def clean(self, form, value: str) -> str:
        country = form[self.country_field].data
        return check_postal_code(value, country if isinstance(country, str) else "")


class PhoneInCountry(Cleans):
    """Validates a phone number read in the country chosen in ``country_field``
    (national numbers are that country's) and replaces it by E.164."""

    def __init__(self, country_field: str = "country"):
        self.country_field = country_field

    def clean(self, form, value: str) -> str:
        country = form[self.country_field].data
        region = country if isinstance(country, str) and country in _french_country_names() else "FR"
        return normalize_phone(value, region)


__all__ += [
    "EU_COUNTRIES",
    "FRENCH_POSTAL_PREFIXES",
    "IDENTIFIER_TYPES",
    "SIRET_COUNTRIES",
    "AddressLine",
    "Identifier",
    "IdentifierType",
    "PhoneInCountry",
    "PostalCode",
    "check_address_line",
    "check_country",
    "check_identifier_country",
    "check_postal_code",
    "country_choices",
    "country_name",
    "identifier_type",
    "normalize_identifier",
    "vat_country",
]
