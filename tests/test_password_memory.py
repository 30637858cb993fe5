"""The password hasher maps argon2id's block of memory itself (passwords.py,
issue 11 P5): its hashes must be argon2-cffi's, byte for byte, and a worker
must not keep the 19 MiB once a hash is done."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import argon2
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

import passwords

ROOT = Path(__file__).resolve().parent.parent
PROFILES = {"OWASP": passwords.OWASP, "CHEAPEST": argon2.profiles.CHEAPEST}


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_mapped_hash_is_argon2_cffis_byte_for_byte(profile):
    ours, theirs = passwords._hasher_for(profile), PasswordHasher.from_parameters(PROFILES[profile])
    salt = b"sixteen byte salt"[:16]
    for password in ("Velo-Rouge-Matin-2048", "", "é" * 40, b"\x00bytes\xff"):
        assert ours.hash(password, salt=salt) == theirs.hash(password, salt=salt)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_side_verifies_the_others_hash(profile):
    ours, theirs = passwords._hasher_for(profile), PasswordHasher.from_parameters(PROFILES[profile])
    assert theirs.verify(ours.hash("Velo-Rouge"), "Velo-Rouge")
    assert ours.verify(theirs.hash("Velo-Rouge"), "Velo-Rouge")
    assert not ours.check_needs_rehash(theirs.hash("x"))


def test_a_wrong_password_or_a_tampered_hash_does_not_verify():
    hasher = passwords._hasher_for("CHEAPEST")
    stored = hasher.hash("Velo-Rouge")
    with pytest.raises(VerifyMismatchError):
        hasher.verify(stored, "Velo-rouge")
    head, digest = stored.rsplit("$", 1)
    tampered = head + "$" + ("A" if digest[0] != "A" else "B") + digest[1:]
    with pytest.raises(VerifyMismatchError):
        hasher.verify(tampered, "Velo-Rouge")
    for broken in ("", "$argon2id$v=19$m=8,t=1,p=1$!!!$AAAA", "$argon2id$v=19$m=8,t=1$c2FsdHNhbHQ$AAAA"):
        with pytest.raises((InvalidHashError, VerificationError)):
            hasher.verify(broken, "Velo-Rouge")


def test_hashes_of_other_types_are_verified_by_argon2_cffi():
    argon2i = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=argon2.Type.I)
    stored = argon2i.hash("Velo-Rouge")
    hasher = passwords._hasher_for("CHEAPEST")
    assert hasher.verify(stored, "Velo-Rouge")
    with pytest.raises(VerifyMismatchError):
        hasher.verify(stored, "nope")


def test_the_block_is_unmapped_after_each_hash_even_from_several_threads():
    hasher = passwords._hasher_for("OWASP")
    results = []

    def work(n):
        stored = hasher.hash(f"password {n}")
        results.append(hasher.verify(stored, f"password {n}"))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True, True, True]
    assert passwords._blocks == {}


def test_a_process_does_not_keep_the_19_mib_after_its_hashes():
    script = (
        "import passwords\n"
        "def rss():\n    return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20\n"
        "hasher = passwords._hasher_for('OWASP')\nhasher.hash('warm-up')\nbefore = rss()\n"
        "for n in range(5):\n    hasher.verify(hasher.hash(f'p{n}'), f'p{n}')\nprint(rss() - before)"
    )
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", script],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 4, f"{done.stdout} MB kept"
