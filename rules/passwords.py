"""Passwords: the rule a new password must follow (length, kinds of
characters, not common, not the user's own names), and the checklist shown
next to the field."""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rules import RuleError, fold
from rules.i18n import LazyText, _

PASSWORD_MIN = 12
PASSWORD_MAX = 128
PASSWORD_MIN_KINDS = 3

PASSWORD_TOO_SHORT = _("Le mot de passe doit contenir au moins %(count)s caractères.", count=PASSWORD_MIN)
PASSWORD_TOO_LONG = _("Le mot de passe doit contenir au plus %(count)s caractères.", count=PASSWORD_MAX)
PASSWORD_KINDS = _(
    "Le mot de passe doit contenir au moins %(count)s types de caractères parmi : "
    "majuscules, minuscules, chiffres, caractères spéciaux.",
    count=PASSWORD_MIN_KINDS,
)
PASSWORD_COMMON = _("Ce mot de passe est trop courant. Choisissez-en un autre.")
PASSWORD_CONTEXT = _(
    "Le mot de passe ne doit contenir ni votre nom, ni votre prénom, ni votre adresse e-mail."
)
PASSWORD_UNCHANGED = _("Le nouveau mot de passe doit être différent du mot de passe actuel.")


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """One line of the rule shown next to the password field."""

    key: str
    label: LazyText
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


# Each kind is looked for among the distinct characters, not each of them:
# the live checklist reads whatever is typed or sent, up to the form's
# 64 KB (a loop over every character was 14 ms there, against 0.7).
_KINDS: tuple[tuple[str, LazyText, Callable[[str], bool]], ...] = (
    ("upper", _("Une majuscule"), _is_upper),
    ("lower", _("Une minuscule"), _is_lower),
    ("digit", _("Un chiffre"), _is_digit),
    ("special", _("Un caractère spécial"), _is_special),
)
_LENGTH_LABEL = _("%(count)s caractères minimum", count=PASSWORD_MIN)


def password_checks(password: str) -> list[PasswordCheck]:
    """Length, then the four kinds of characters, in that order."""
    password = password or ""
    characters = set(password)
    checks = [PasswordCheck("length", _LENGTH_LABEL, len(password) >= PASSWORD_MIN)]
    for key, label, test in _KINDS:
        checks.append(PasswordCheck(key, label, any(test(ch) for ch in characters)))
    return checks


def password_kinds(password: str) -> int:
    """How many of the four kinds (upper, lower, digit, special) the password has."""
    characters = set(password or "")
    return sum(1 for _key, _label, test in _KINDS if any(test(ch) for ch in characters))


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


def _zxcvbn_passwords() -> list[str]:
    """zxcvbn's 30,000 common passwords, read from its file without importing
    the package: importing it ranks every one of its lists (English words,
    names, films), 14 MB a worker would keep for this one list of 2.5 MB."""
    spec = importlib.util.find_spec("zxcvbn")
    if spec is None or spec.origin is None:
        raise RuntimeError("zxcvbn is not installed (requirements.txt)")
    with open(Path(spec.origin).with_name("frequency_lists.py"), encoding="utf-8") as source:
        for line in source:
            key, _, value = line.strip().partition(":")
            if key == '"passwords"':  # "passwords": "123456,password,…".split(","),
                listed = value.strip().removesuffix(",").removesuffix('.split(",")')
                return ast.literal_eval(listed).split(",")
    raise RuntimeError("zxcvbn's list of common passwords was not found")


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(_zxcvbn_passwords()) | FRENCH_COMMON_PASSWORDS


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
    if lowered in common or fold(lowered) in common:
        return True
    base = _strip_decoration(fold(lowered))
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
    return {word for word in _WORD_SPLIT.split(fold(text)) if len(word) >= _CONTEXT_MIN}


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
            folded_local = fold(local)
            if len(folded_local) >= _CONTEXT_MIN:
                words.add(folded_local)
            labels = [label for label in domain.split(".") if label]
            if len(labels) >= 2:
                words |= {word for word in _words(labels[-2]) if word not in _MAIL_PROVIDERS}
        else:
            words |= _words(item)
    return words


def check_password(password: str, context: Iterable[str] = ()) -> None:
    """Raises RuleError with the first rule the password breaks."""
    password = password or ""
    if len(password) < PASSWORD_MIN:
        raise RuleError(PASSWORD_TOO_SHORT)
    if len(password) > PASSWORD_MAX:
        raise RuleError(PASSWORD_TOO_LONG)
    if password_kinds(password) < PASSWORD_MIN_KINDS:
        raise RuleError(PASSWORD_KINDS)
    if is_common_password(password):
        raise RuleError(PASSWORD_COMMON)
    folded = fold(password)
    if any(word in folded for word in password_context_words(context)):
        raise RuleError(PASSWORD_CONTEXT)


def check_password_changes(password: str, is_current: Callable[[str], bool]) -> None:
    """Raises RuleError when the new password is the current one
    (``is_current`` says so: a comparison, or a check against the stored hash)."""
    if is_current(password or ""):
        raise RuleError(PASSWORD_UNCHANGED)
