"""First and last names of people."""

from __future__ import annotations

import unicodedata

from rules import RuleError
from rules.i18n import _
from rules.messages import too_long
from rules.text import check_single_script, check_text

NAME_MAX = 100
NAME_TOO_LONG = too_long(NAME_MAX)
NAME_ALLOWED = _(
    "Utilisez uniquement des lettres, des espaces, des traits d'union (-) et des apostrophes (')."
)
NAME_NO_LETTER = _("Ce champ doit contenir au moins une lettre.")
NAME_EDGES = _("Ce champ ne peut ni commencer ni se terminer par un trait d'union ou une apostrophe.")
_NAME_PUNCTUATION = "-'’"


def check_person_name(value: str) -> str:
    """A first or last name, cleaned: outer spaces removed, inner runs of
    white space collapsed to one space, NFC. Letters of one script (or of
    scripts written together, such as Japanese), spaces, hyphens and
    apostrophes."""
    cleaned = " ".join(check_text(value).split())
    if len(cleaned) > NAME_MAX:
        raise RuleError(NAME_TOO_LONG)
    after_letter = False
    for ch in cleaned:
        # Combining marks that NFC cannot merge (Devanagari, Thai…) belong to
        # the letter before them.
        is_mark = after_letter and unicodedata.category(ch) in ("Mn", "Mc")
        if not (ch.isalpha() or is_mark or ch == " " or ch in _NAME_PUNCTUATION):
            if ch.isprintable():
                raise RuleError(
                    _("Le caractère « %(ch)s » n'est pas autorisé. %(allowed)s", ch=ch, allowed=NAME_ALLOWED)
                )
            raise RuleError(
                _("Ce champ contient un caractère non autorisé. %(allowed)s", allowed=NAME_ALLOWED)
            )
        after_letter = ch.isalpha() or is_mark
    if not any(ch.isalpha() for ch in cleaned):
        raise RuleError(NAME_NO_LETTER)
    if cleaned[0] in _NAME_PUNCTUATION or cleaned[-1] in _NAME_PUNCTUATION:
        raise RuleError(NAME_EDGES)
    return check_single_script(cleaned)
