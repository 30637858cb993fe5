"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

from functools import cache

import argon2
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    # RFC_9106_LOW_MEMORY (argon2id, 64 MiB, t=3, p=4) exceeds OWASP's minimum;
    # CHEAPEST is for tests only.
    return PasswordHasher.from_parameters(getattr(argon2.profiles, profile))


@cache
def _dummy_hash_for(profile: str) -> str:
    return _hasher_for(profile).hash("dummy password, never valid")


def _profile() -> str:
    return current_app.config["PASSWORD_HASH_PROFILE"]


def hash_password(password: str) -> str:
    return _hasher_for(_profile()).hash(password)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, new hash if the stored one should be upgraded).

    Without a stored hash a dummy one is checked, so that the answer takes as
    long for an unknown account as for a wrong password."""
    hasher = _hasher_for(_profile())
    try:
        hasher.verify(password_hash or _dummy_hash_for(_profile()), password)
    except (VerificationError, InvalidHashError):
        return False, None
    if password_hash is None:
        return False, None
    if hasher.check_needs_rehash(password_hash):
        return True, hasher.hash(password)
    return True, None
