"""Signing at the cost of one HMAC: the session cookie and the CSRF token.

Both are signed by itsdangerous, which on every request builds its
serializer again (Flask's tests it by serializing an empty dict), builds a
signer per call, derives the key from the secret again (one more HMAC),
signs with the pure-Python HMAC (the digest is given as a function, not a
name) and tries zlib on every payload, however short. Flask-WTF builds its
serializer on every token. The same signatures, the same keys, the same
payloads and the same checks (fallback keys, timestamps) here, with each of
those done once per process: a cookie or a token from either side passes on
the other (tests/test_signing.py)."""

from __future__ import annotations

import hmac
import secrets
import zlib

import itsdangerous.serializer
from flask import current_app, g, session
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer, want_bytes
from itsdangerous.encoding import base64_decode, base64_encode, int_to_bytes
from itsdangerous.signer import HMACAlgorithm

_DERIVED_KEYS: dict[tuple, bytes] = {}
_DERIVED_KEYS_KEPT = 64  # one per secret and purpose; tests make many apps


class _HMAC(HMACAlgorithm):
    """HMACAlgorithm in one call to OpenSSL: the same signature."""

    def __init__(self, digest_method, name: str):
        super().__init__(digest_method)
        self.name = name

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, self.name)


class Signer(TimestampSigner):
    """itsdangerous' TimestampSigner with its derived keys kept and its HMAC in C."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if type(self.algorithm) is HMACAlgorithm:
            self.algorithm = _HMAC(self.digest_method, self.digest_method().name)

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        key = (secret, self.salt, self.key_derivation, self.digest_method)
        derived = _DERIVED_KEYS.get(key)
        if derived is None:
            derived = super().derive_key(secret)
            if len(_DERIVED_KEYS) < _DERIVED_KEYS_KEPT:
                _DERIVED_KEYS[key] = derived
        return derived

    def sign(self, value: str | bytes) -> bytes:
        """TimestampSigner.sign in one expression: the same bytes."""
        if type(self.algorithm) is not _HMAC:
            return super().sign(value)
        sep = want_bytes(self.sep)
        value = want_bytes(value) + sep + base64_encode(int_to_bytes(self.get_timestamp()))
        return value + sep + base64_encode(self.algorithm.get_signature(self.derive_key(), value))


# A payload shorter than this is not tried with zlib: its header and checksum
# take 6 bytes, so it could save a few bytes at most, for as much CPU as the
# signature. A new visitor's session (57 bytes of JSON: the CSRF secret's 40
# random hex digits) and a CSRF token (42) never shrink, so their payloads
# are the stock ones; itsdangerous reads either form.
COMPRESSED_FROM = 64
# A signed payload that unpacks to more than this is read as no payload at
# all (BadSignature: a fresh session, a refused token). A browser keeps a
# cookie of 4 KB at most; the largest session of the sweeps that repeat
# every page and form (tests/test_attack_session_swelling.py) unpacks to
# about 0.9 KB.
# Payloads of repeated text shrink a thousandfold under zlib: a cookie of a
# few kilobytes signed by an earlier version, its queue of messages swollen
# (sessions.FLASHES_KEPT), would otherwise cost every request that sends it
# the reading of megabytes.
LARGEST_PAYLOAD = 8192


class PayloadTooLarge(BadSignature):
    """A signed payload that unpacks to more than LARGEST_PAYLOAD bytes."""


class Serializer(URLSafeTimedSerializer):
    default_signer = Signer

    def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
        """One signer per serializer and salt (itsdangerous builds one per call)."""
        signers = self.__dict__.setdefault("_signers", {})
        signer = signers.get(salt)
        if signer is None:
            signer = signers[salt] = super().make_signer(salt)
        return signer

    def load_payload(self, payload: bytes, *args, **kwargs):
        """itsdangerous' load_payload, a compressed payload unpacked no further
        than LARGEST_PAYLOAD bytes (and once, where itsdangerous' reads it
        whole)."""
        if not payload.startswith(b"."):
            if len(payload) > LARGEST_PAYLOAD * 4 // 3 + 4:
                raise PayloadTooLarge(f"the payload is more than {LARGEST_PAYLOAD} bytes")
            return super().load_payload(payload, *args, **kwargs)
        unpacking = zlib.decompressobj()
        try:
            json = unpacking.decompress(base64_decode(payload[1:]), LARGEST_PAYLOAD)
        except Exception:  # not base64, not zlib: itsdangerous says which
            return super().load_payload(payload, *args, **kwargs)
        if unpacking.unconsumed_tail or (len(json) >= LARGEST_PAYLOAD and not unpacking.eof):
            raise PayloadTooLarge(f"the payload unpacks to more than {LARGEST_PAYLOAD} bytes")
        if not unpacking.eof:  # cut short: itsdangerous says so
            return super().load_payload(payload, *args, **kwargs)
        return itsdangerous.serializer.Serializer.load_payload(self, json, *args, **kwargs)

    def dump_payload(self, obj) -> bytes:
        json = want_bytes(self.serializer.dumps(obj, **self.serializer_kwargs))
        if len(json) >= COMPRESSED_FROM:
            compressed = zlib.compress(json)
            if len(compressed) < len(json) - 1:
                return b"." + base64_encode(compressed)
        return base64_encode(json)


# -- the CSRF token ---------------------------------------------------------------------
CSRF_SALT = "wtf-csrf-token"  # Flask-WTF's: its validate_csrf reads these tokens
_CSRF_SERIALIZERS: dict[str | bytes, Serializer] = {}
_CSRF_SERIALIZERS_KEPT = 16  # one per secret; tests make many apps


def csrf_field() -> str:
    """Flask-WTF's name for the CSRF token: in forms, in the session, and in
    ``g``, where the request's signed token is kept."""
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def forget_request_token() -> None:
    """The next token of this request is made afresh (a new session's)."""
    g.pop(csrf_field(), None)


def generate_csrf(secret_key=None, token_key=None) -> str:
    """Flask-WTF's generate_csrf, the same token (a random secret of 40 hex
    digits kept in the session, signed with the time), made once per request
    and kept in ``g``; its serializer built once per secret."""
    app = current_app._get_current_object()
    if secret_key is None:
        secret_key = app.config.get("WTF_CSRF_SECRET_KEY", app.secret_key)
    if token_key is None:
        token_key = csrf_field()
    if secret_key is None:
        raise RuntimeError("A secret key is required to use CSRF.")
    if token_key is None:
        raise RuntimeError("A field name is required to use CSRF.")
    request_globals = g._get_current_object()
    token = request_globals.get(token_key)
    if token is None:
        serializer = _CSRF_SERIALIZERS.get(secret_key)
        if serializer is None:
            serializer = Serializer(secret_key, salt=CSRF_SALT)
            if len(_CSRF_SERIALIZERS) < _CSRF_SERIALIZERS_KEPT:
                _CSRF_SERIALIZERS[secret_key] = serializer
        data = session._get_current_object()
        if token_key not in data:
            data[token_key] = secrets.token_hex(20)
        try:
            token = serializer.dumps(data[token_key])
        except TypeError:  # a secret that is not JSON: a new one
            data[token_key] = secrets.token_hex(20)
            token = serializer.dumps(data[token_key])
        setattr(request_globals, token_key, token)
    return token
