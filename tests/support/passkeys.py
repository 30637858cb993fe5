"""A passkey in software, for tests without a browser: a P-256 key that
answers a WebAuthn challenge as an authenticator would (packed « none »
attestation is not needed: the row is written directly). Chromium's virtual
authenticator drives the real ceremony in tests/browser."""

from __future__ import annotations

import hashlib
import json
import os
from base64 import urlsafe_b64encode

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from models import SecondFactor, User, utcnow


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftPasskey:
    """``sign_count`` stays at 0 when ``counting`` is off, as synced passkeys do."""

    def __init__(self, rp_id: str = "localhost", origin: str = "http://localhost", counting: bool = False):
        self.rp_id, self.origin, self.counting = rp_id, origin, counting
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.sign_count = 0

    def public_key(self) -> bytes:
        """The COSE key (EC2, ES256) a passkey row stores."""
        numbers = self.key.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        return cbor2.dumps(cose)

    def enrol(self, user: User, name: str = "Clé") -> SecondFactor:
        """The confirmed passkey row of ``user`` (inside an app context)."""
        now = utcnow()
        return SecondFactor.create(
            user=user, kind=SecondFactor.PASSKEY, name=name, credential_id=b64url(self.credential_id),
            public_key=b64url(self.public_key()), sign_count=0, created_at=now, confirmed_at=now,
        )  # fmt: skip

    def answer(self, challenge: str) -> str:
        """The credential JSON navigator.credentials.get would give for
        ``challenge`` (base64url, as the options carry it)."""
        if self.counting:
            self.sign_count += 1
        client_data = json.dumps(
            {"type": "webauthn.get", "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()
        flags = bytes([0x05])  # user present, user verified
        authenticator_data = (
            hashlib.sha256(self.rp_id.encode()).digest() + flags + self.sign_count.to_bytes(4, "big")
        )
        signed = authenticator_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data), "authenticatorData": b64url(authenticator_data),
                "signature": b64url(signature), "userHandle": None,
            },
            "clientExtensionResults": {},
        })  # fmt: skip

    def registration(self, challenge: str) -> str:
        """The credential JSON navigator.credentials.create would give for
        ``challenge``, with a « none » attestation (as most passkeys send)."""
        client_data = json.dumps(
            {"type": "webauthn.create", "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()
        flags = bytes([0x45])  # user present, user verified, attested credential data
        authenticator_data = (
            hashlib.sha256(self.rp_id.encode()).digest() + flags + self.sign_count.to_bytes(4, "big")
            + bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self.public_key()
        )  # fmt: skip
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": authenticator_data})
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation)},
            "clientExtensionResults": {},
        })  # fmt: skip


def passkey_alone_account(tmp_path, monkeypatch, htmx: bool):
    """An app where a passkey alone signs in (FLASK_PASSKEY_SIGN_IN), and a
    signed-up account with a passkey, signed out: (app, its client, the passkey)."""
    from tests.support.app import Client, HtmxClient, clean_environment, make_app, outbox, query
    from tests.support.structures import sign_up

    clean_environment(monkeypatch)
    app = make_app(tmp_path, PASSKEY_SIGN_IN=True)
    app.test_client_class = HtmxClient if htmx else Client
    client = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    passkey = SoftPasskey()
    query(app, lambda: passkey.enrol(User.get()))
    client.submit("/deconnexion")
    return app, client, passkey
