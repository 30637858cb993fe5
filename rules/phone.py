"""Phone numbers, stored in E.164 (+33123456789)."""

from __future__ import annotations

import re

import phonenumbers

from rules import RuleError
from rules.i18n import _

PHONE_MESSAGE = _("Saisissez un numéro de téléphone valide, par exemple 01 23 45 67 89 ou +33 1 23 45 67 89.")
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
        raise RuleError(PHONE_MESSAGE)
    if text.startswith("00"):
        text = "+" + text[2:]
    number = _parse_valid(text, region)
    if number is None and region.upper() == "FR" and not text.startswith("+"):
        for overseas in _FRENCH_OVERSEAS:
            number = _parse_valid(text, overseas)
            if number is not None:
                break
    if number is None:
        raise RuleError(PHONE_MESSAGE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def shown_phone(value: str | None) -> str:
    """A stored E.164 number as people write it: a French one « 01 23 45 67
    89 », others in international form « +32 2 511 22 33 »; anything else
    (a number as typed, not valid) as it is."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value)
    except phonenumbers.NumberParseException:
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
