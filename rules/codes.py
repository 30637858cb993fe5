"""One-time codes of the second factor (an authenticator app's, or one
mailed): six digits, which people type with spaces or hyphens at will."""

from __future__ import annotations

import re

from rules.i18n import _

CODE_SHAPE = _("Le code compte 6 chiffres, par exemple 123 456.")
_SEPARATORS = re.compile(r"[\s-]")
_SIX_DIGITS = re.compile(r"\d{6}")


def without_separators(code: str | None) -> str:
    """The code as typed, its spaces and hyphens dropped (recovery codes too)."""
    return _SEPARATORS.sub("", code or "")


def six_digits(code: str | None) -> str | None:
    """The code's six digits, spaces and hyphens dropped; None for any other shape."""
    code = without_separators(code)
    return code if _SIX_DIGITS.fullmatch(code) else None
