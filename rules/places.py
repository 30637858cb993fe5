"""Places: countries (ISO 3166, named in the page's language), postal
address lines and postal codes."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from rules import RuleError, fold
from rules.i18n import _, language


@cache
def country_names(language: str) -> dict[str, str]:
    """ISO 3166 alpha-2 code -> the country's name in ``language``: French
    from pycountry's translations, English its common name (« South Korea »,
    not « Korea, Republic of ») where it has one."""
    import gettext

    import pycountry

    if language == "fr":
        translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
        return {country.alpha_2: translation.gettext(country.name) for country in pycountry.countries}
    return {
        country.alpha_2: getattr(country, "common_name", "") or country.name
        for country in pycountry.countries
    }


def _names() -> dict[str, str]:
    return country_names("en" if language() == "en" else "fr")


@cache
def _country_choices(language: str) -> tuple[tuple[str, str], ...]:
    names = country_names(language)
    others = sorted((code for code in names if code != "FR"), key=lambda code: fold(names[code]))
    return (("FR", names["FR"]), *((code, names[code]) for code in others))


def country_choices() -> tuple[tuple[str, str], ...]:
    """ISO 3166 countries as (alpha-2, name in the page's language): France
    first, then the others in that language's alphabetical order."""
    return _country_choices("en" if language() == "en" else "fr")


def country_name(code: str | None) -> str:
    """The name of an ISO 3166 alpha-2 code in the page's language (the code
    itself if unknown)."""
    return _names().get((code or "").upper(), code or "")


def is_country(code: object) -> bool:
    """Whether ``code`` is an ISO 3166 alpha-2 code, as stored (upper case)."""
    return isinstance(code, str) and code in country_names("fr")


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
# The European Union: member states, plus the ISO codes of territories that
# are part of it (French outermost regions, Åland).
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
        "GP", "MQ", "GF", "RE", "YT", "MF", "AX",
    }
)  # fmt: skip
COUNTRY_UNKNOWN = _("Choisissez un pays dans la liste.")


def check_country(value: str) -> str:
    """An ISO 3166 alpha-2 code, upper case."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if not is_country(code):
        raise RuleError(COUNTRY_UNKNOWN)
    return code


ADDRESS_LINE_MAX = 38
ADDRESS_LINE_TOO_LONG = _(
    "Ce champ doit contenir au plus %(max)s caractères (norme postale). "
    "Utilisez les compléments d'adresse pour la suite.",
    max=ADDRESS_LINE_MAX,
)
# A commune's name longer than the line: the complements are no place for
# the rest of it, La Poste's abbreviations are (« ST-REMY-… »).
CITY_TOO_LONG = _(
    "Ce champ doit contenir au plus %(max)s caractères (norme postale). "
    "Abrégez le nom comme le fait La Poste, par exemple ST pour SAINT et STE pour SAINTE.",
    max=ADDRESS_LINE_MAX,
)
ADDRESS_LINE_CHARS = _("Ce champ contient un caractère non autorisé.")
POSTAL_CODE_FRENCH = _("Le code postal doit contenir 5 chiffres, par exemple 75001.")
POSTAL_CODE_OTHER = _("Le code postal doit contenir au plus 10 lettres, chiffres, espaces ou traits d'union.")
_POSTAL_OTHER = re.compile(r"[A-Z0-9](?:[A-Z0-9 \-]{0,8}[A-Z0-9])?")


def check_address_line(value: str, too_long=ADDRESS_LINE_TOO_LONG) -> str:
    """A line of a postal address: white space collapsed, printable
    characters only, at most 38 characters (NF Z10-011)."""
    text = value if isinstance(value, str) else ""
    cleaned = " ".join(unicodedata.normalize("NFC", text).split())
    if any(not ch.isprintable() for ch in cleaned):
        raise RuleError(ADDRESS_LINE_CHARS)
    if len(cleaned) > ADDRESS_LINE_MAX:
        raise RuleError(too_long)
    return cleaned


def check_city(value: str) -> str:
    """The address's commune: a line of it, whose message for a name too
    long says how to shorten it."""
    return check_address_line(value, CITY_TOO_LONG)


_SAINT = re.compile(r"\b(S)(AINT|aint)(E|e)?\b")


def postal_city(name: str) -> str:
    """A commune's name shortened as La Poste does when it is longer than
    the address line: SAINT becomes ST, SAINTE STE (« Saint-Rémy-… »,
    « SAINTES » is left whole); unchanged when it fits."""
    if len(name) <= ADDRESS_LINE_MAX:
        return name
    return _SAINT.sub(lambda m: m[1] + m[2][-1] + (m[3] or ""), name)


def check_postal_code(value: str, country: str) -> str:
    """The postal code for that country, normalised (upper case, single spaces):
    5 digits for France and the territories using its postal system,
    elsewhere up to 10 letters, digits, spaces and hyphens."""
    text = " ".join(value.split()).upper() if isinstance(value, str) else ""
    if country in FRENCH_POSTAL_PREFIXES:
        code = text.replace(" ", "")
        if not (len(code) == 5 and code.isascii() and code.isdigit()) or code.startswith("00"):
            raise RuleError(POSTAL_CODE_FRENCH)
        prefix = FRENCH_POSTAL_PREFIXES[country]
        if not code.startswith(prefix):
            raise RuleError(
                _(
                    "Le code postal ne correspond pas au pays choisi (%(country)s) : "
                    "il doit commencer par %(prefix)s.",
                    country=country_name(country),
                    prefix=prefix,
                )
            )
        return code
    if not _POSTAL_OTHER.fullmatch(text):
        raise RuleError(POSTAL_CODE_OTHER)
    return text
