"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

from functools import cache

import argon2
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# OWASP's Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
OWASP = argon2.Parameters(
    type=argon2.Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=2,
    memory_cost=19 * 1024,
    parallelism=1,
)


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    """OWASP by default; any of argon2.profiles by name (CHEAPEST for tests)."""
    parameters = OWASP if profile == "OWASP" else getattr(argon2.profiles, profile)
    return PasswordHasher.from_parameters(parameters)


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
