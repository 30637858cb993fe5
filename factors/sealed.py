"""Secrets stored encrypted (the TOTP secrets; new recovery codes kept in the
session a while, factors/shown_codes.py): AES-256-GCM under a key
derived by HKDF-SHA256 from ``TWO_FACTOR_KEY`` when it is set, else from
``SECRET_KEY``, with a label of its own, so the stored secrets never share
a key with the cookie signatures. Changing the setting the key derives from
makes the stored secrets unreadable: those authenticator apps must be
enrolled again."""

from __future__ import annotations

import base64
import os

from flask import current_app

# cryptography is imported on first use (an authenticator app's enrolment or
# sign-in): most workers never need it.

INFO = b"portail second factor: totp secret v1"
VERSION = "v1"


def _key() -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    material = current_app.config.get("TWO_FACTOR_KEY") or current_app.config["SECRET_KEY"]
    if isinstance(material, str):
        material = material.encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(material)


def seal(plain: str, context: str) -> str:
    """``plain`` encrypted, bound to ``context`` (e.g. the account): a sealed
    value copied to another account does not open."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    data = AESGCM(_key()).encrypt(nonce, plain.encode(), context.encode())
    return f"{VERSION}:{base64.urlsafe_b64encode(nonce + data).decode()}"


def unseal(sealed: str, context: str) -> str | None:
    """The plain text, or None if it does not open (other key, other context)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version, _, body = (sealed or "").partition(":")
    if version != VERSION:
        return None
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        return AESGCM(_key()).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except (InvalidTag, ValueError):
        return None
