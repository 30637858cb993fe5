"""Password hashing with argon2id (argon2-cffi).

Each hash fills a block of 19 MiB. Allocated by libargon2 with malloc, glibc
keeps that block in the worker's heap once freed (its mmap threshold rises to
the largest block freed), and what is allocated around it makes the heap grow
further: 20 to 40 MB of a worker's memory that no request uses. Giving it
back every time (a fixed M_MMAP_THRESHOLD, or malloc_trim) costs the next
hash 4,864 page faults, about 7 ms (18 -> 25 ms on the development machine).
So the block is mapped here instead, aligned on 2 MiB and advised for
transparent huge pages: about ten page faults, the same 18 ms as a block kept
warm, and unmapped when the hash ends. Where huge pages are not available the
hash is as correct, only slower by those faults. The hashes are argon2-cffi's
own (same parameters, same encoding; checked against it in the tests).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import mmap
import os
from dataclasses import replace
from functools import cache
from typing import Literal

import argon2
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import HashingError, InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import error_to_str, ffi, lib
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

HUGE_PAGE = 2 * 1024 * 1024
_blocks: dict[int, tuple[mmap.mmap, object]] = {}  # address given to libargon2 -> its mapping


def _allocate(memory, size):
    """libargon2's allocator: a private anonymous mapping, its used part
    aligned on a huge page (the pages before it are address space, never touched)."""
    rounded = -(-size // HUGE_PAGE) * HUGE_PAGE  # whole huge pages: 19 MiB takes 10
    block = mmap.mmap(-1, rounded + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    whole = ffi.from_buffer(block)
    offset = -int(ffi.cast("uintptr_t", whole)) % HUGE_PAGE
    if hasattr(mmap, "MADV_HUGEPAGE"):
        # Without transparent huge pages here: 4 KiB pages, the same hash.
        with contextlib.suppress(OSError):
            block.madvise(mmap.MADV_HUGEPAGE, offset, rounded)
    start = ffi.cast("uint8_t *", whole) + offset
    _blocks[int(ffi.cast("uintptr_t", start))] = (block, whole)
    memory[0] = start
    return lib.ARGON2_OK


def _free(memory, size):
    # libargon2 has wiped the block already (its default).
    block, whole = _blocks.pop(int(ffi.cast("uintptr_t", memory)))
    ffi.release(whole)
    block.close()


try:
    _ALLOCATE = ffi.callback("int(uint8_t **, size_t)", _allocate, error=lib.ARGON2_MEMORY_ALLOCATION_ERROR)
    _FREE = ffi.callback("void(uint8_t *, size_t)", _free)
except (MemoryError, RuntimeError):  # a system refusing libffi's closures
    _ALLOCATE = _FREE = None


def _raw_hash(password: bytes, salt: bytes, parameters: argon2.Parameters) -> bytes:
    """libargon2's argon2_ctx with the allocator above."""
    out = ffi.new("uint8_t[]", parameters.hash_len)
    secret = ffi.new("uint8_t[]", password)
    salt_buffer = ffi.new("uint8_t[]", salt)
    context = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": parameters.hash_len,
            "pwd": secret,
            "pwdlen": len(password),
            "salt": salt_buffer,
            "saltlen": len(salt),
            "secret": ffi.NULL,
            "secretlen": 0,
            "ad": ffi.NULL,
            "adlen": 0,
            "t_cost": parameters.time_cost,
            "m_cost": parameters.memory_cost,
            "lanes": parameters.parallelism,
            "threads": parameters.parallelism,
            "version": parameters.version,
            "allocate_cbk": _ALLOCATE,
            "free_cbk": _FREE,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    error = lib.argon2_ctx(context, parameters.type.value)
    if error != lib.ARGON2_OK:
        raise HashingError(error_to_str(error))
    return bytes(ffi.buffer(out, parameters.hash_len))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidHashError from None


class MappedHasher(PasswordHasher):
    """argon2-cffi's PasswordHasher, argon2id's block of memory mapped by
    ``_allocate``. Other types of hash are verified by argon2-cffi itself."""

    __slots__ = ()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        parameters = self._parameters
        if parameters.type is not Type.ID or parameters.version != argon2.low_level.ARGON2_VERSION:
            return super().hash(password, salt=salt)
        salt = salt or os.urandom(parameters.salt_len)
        if isinstance(password, str):
            password = password.encode(self.encoding)
        digest = _raw_hash(password, salt, parameters)
        return (
            f"$argon2id$v={parameters.version}$m={parameters.memory_cost},"
            f"t={parameters.time_cost},p={parameters.parallelism}${_b64(salt)}${_b64(digest)}"
        )

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        if isinstance(hash, bytes):
            hash = hash.decode("ascii", "replace")
        parameters = extract_parameters(hash)  # InvalidHashError
        if parameters.type is not Type.ID or parameters.version != argon2.low_level.ARGON2_VERSION:
            return super().verify(hash, password)
        salt_text, digest_text = hash.rsplit("$", 2)[-2:]
        salt, expected = _unb64(salt_text), _unb64(digest_text)
        if isinstance(password, str):
            password = password.encode(self.encoding)
        try:
            digest = _raw_hash(password, salt, replace(parameters, hash_len=len(expected)))
        except HashingError as error:
            raise VerificationError(str(error)) from None
        if not hmac.compare_digest(digest, expected):
            raise VerifyMismatchError("The password does not match the supplied hash")
        return True


# argon2id profiles fit for production (OWASP's, or heavier); CHEAPEST only
# under TESTING, where it keeps the suite fast.
PRODUCTION_PROFILES = ("OWASP", "RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "PRE_21_2")
TEST_PROFILES = ("CHEAPEST",)


def profile_names(testing: bool) -> tuple[str, ...]:
    """The FLASK_PASSWORD_HASH_PROFILE values accepted (config checks it at start)."""
    return PRODUCTION_PROFILES + TEST_PROFILES if testing else PRODUCTION_PROFILES


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    """OWASP by default; any of argon2.profiles by name (CHEAPEST for tests)."""
    parameters = OWASP if profile == "OWASP" else getattr(argon2.profiles, profile)
    if _ALLOCATE is None:
        return PasswordHasher.from_parameters(parameters)  # libargon2's malloc, kept by glibc
    return MappedHasher.from_parameters(parameters)


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
