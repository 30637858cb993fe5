"""Recovery codes: ten single-use codes, shown once, stored hashed. Each has
50 random bits (10 characters of an alphabet without look-alikes), so a
plain SHA-256 is enough to store it."""

from __future__ import annotations

import secrets

from models import RecoveryCode, User
from rules.codes import without_separators

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no i, l, o, 0, 1
LENGTH = 10


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(code: str | None) -> str:
    raw = without_separators(code).lower()
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == LENGTH else raw


def regenerate(user: User) -> list[str]:
    """A new set of codes (the old set is revoked); the caller shows them once."""
    codes = [_new_code() for _ in range(COUNT)]
    RecoveryCode.replace_all(user, codes)
    return codes


def use(user: User, code: str) -> bool:
    return RecoveryCode.use(user, normalise(code))


def left(user: User) -> int:
    return RecoveryCode.left(user)
