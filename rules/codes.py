"""One-time codes of the second factor (an authenticator app's, or one
mailed): six digits, which people type with spaces or hyphens at will."""

from __future__ import annotations

import re
import unicodedata

from rules.i18n import _

CODE_SHAPE = _("Le code compte 6 chiffres, par exemple 123 456.")
_SEPARATORS = re.compile(r"[\s-]")
_SIX_DIGITS = re.compile(r"\d{6}")


def without_separators(code: str | None) -> str:
    """The code as typed, its spaces and hyphens dropped (recovery codes too).
    Compatibility forms are folded first (NFKC): the full-width letters,
    digits and hyphens an Asian keyboard types are the ASCII ones."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", code or ""))


def six_digits(code: str | None) -> str | None:
    """The code's six digits in ASCII, spaces and hyphens dropped; None for
    any other shape. Digits of another script (« ١٢٣٤٥٦ », typed with an
    Arabic keyboard) are the same digits: the shape accepts them, so the
    code is read with them."""
    code = without_separators(code)
    if not _SIX_DIGITS.fullmatch(code):
        return None
    return "".join(str(unicodedata.decimal(ch)) for ch in code)
