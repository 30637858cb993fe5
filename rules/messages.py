"""Messages shared by several rules and forms, written once."""

from __future__ import annotations

REQUIRED = "Ce champ est obligatoire."
NOT_A_CHOICE = "Choisissez une valeur dans la liste."
VALUES_DIFFER = "Les deux valeurs saisies ne sont pas identiques."
EMAILS_DIFFER = "Les deux adresses e-mail ne sont pas identiques."
PASSWORDS_DIFFER = "Les deux mots de passe ne sont pas identiques."


def too_long(length: int, why: str = "") -> str:
    """« Ce champ doit contenir au plus 100 caractères. »; ``why`` goes
    before the full stop: « … 38 caractères (norme postale). »"""
    return f"Ce champ doit contenir au plus {length} caractères{why}."
