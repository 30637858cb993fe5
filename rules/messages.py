"""Messages shared by several rules and forms, written once."""

from __future__ import annotations

from rules.i18n import LazyText, _

REQUIRED = _("Ce champ est obligatoire.")
NOT_A_CHOICE = _("Choisissez une valeur dans la liste.")
VALUES_DIFFER = _("Les deux valeurs saisies ne sont pas identiques.")
EMAILS_DIFFER = _("Les deux adresses e-mail ne sont pas identiques.")
PASSWORDS_DIFFER = _("Les deux mots de passe ne sont pas identiques.")


def too_long(length: int, why: object = "") -> LazyText:
    """« Ce champ doit contenir au plus 100 caractères. »; ``why`` goes
    before the full stop: « … 38 caractères (norme postale). »"""
    return _("Ce champ doit contenir au plus %(length)s caractères%(why)s.", length=length, why=why)


def then(first: object, second: object) -> LazyText:
    """Two messages shown one after the other (« reason. What to do. »),
    each in the language of the moment."""
    return LazyText(_joined, first, second, enable_cache=False)


def _joined(first: object, second: object) -> str:
    return f"{first} {second}"
