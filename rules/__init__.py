"""The domain's rules: what a valid e-mail address, name, phone number,
password, postal address, country and structure identifier is.

Plain functions that return the cleaned value or raise ``RuleError`` with the
French message a user reads; they know neither Flask nor WTForms, so a form
(through ``forms.validators``), a use case, a model or a CLI command apply
exactly the same rule. One module per concern: ``email``, ``names``,
``phone``, ``passwords``, ``places``, ``identifiers``; ``messages`` holds the
messages several of them share.
"""

from __future__ import annotations

import unicodedata

__all__ = ["RuleError", "fold"]


class RuleError(ValueError):
    """A value breaks a rule; ``str(error)`` is the French message to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def fold(text: str) -> str:
    """Lower case without accents: « Élodie » -> « elodie »."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
