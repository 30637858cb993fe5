"""Passkeys and security keys (WebAuthn, py_webauthn): the options a
browser needs to create or use one, and the checks of its answers. The
relying party is the portal's host: EXTERNAL_BASE_URL's when set, else the
request's (a relying-party id cannot be an IP address: use localhost)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import current_app, request, session

from models import SecondFactor, User, utcnow

# py_webauthn (with cryptography, cbor2, pyOpenSSL: about 13 MB in each
# worker) is imported by the functions below, on the first use of a passkey.
if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

REGISTER_KEY = "webauthn_register"
AUTHENTICATE_KEY = "webauthn_authenticate"
MAX_CREDENTIAL_JSON = 16 * 1024


def _relying_party() -> tuple[str, str]:
    """(rp id, expected origin)."""
    base = current_app.config.get("EXTERNAL_BASE_URL") or request.host_url
    parts = urlsplit(base)
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    return [
        PublicKeyCredentialDescriptor(id=base64url_to_bytes(factor.credential_id))
        for factor in SecondFactor.confirmed(user).where(SecondFactor.kind == SecondFactor.PASSKEY)
    ]


def registration_options(user: User) -> str:
    """The options for navigator.credentials.create, as JSON; the challenge
    is kept in the session for ``register``."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    rp_id, _ = _relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config["PORTAL_NAME"],
        user_id=f"portail-user-{user.id}".encode(),
        user_name=user.email,
        user_display_name=user.full_name,
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    session[REGISTER_KEY] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


def verified_registration(credential: str | None) -> dict | None:
    """The new credential's fields if the browser's answer is valid for the
    challenge this session was given (used once), else None."""
    from webauthn import verify_registration_response
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
    from webauthn.helpers.exceptions import WebAuthnException

    challenge = session.pop(REGISTER_KEY, None)
    if not challenge or not credential or len(credential) > MAX_CREDENTIAL_JSON:
        return None
    rp_id, origin = _relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None
    return {
        "credential_id": bytes_to_base64url(verified.credential_id),
        "public_key": bytes_to_base64url(verified.credential_public_key),
        "sign_count": verified.sign_count,
    }


def authentication_options(user: User | None) -> str:
    """The options for navigator.credentials.get: ``user``'s passkeys, or
    any passkey of the portal (sign-in with a passkey alone)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.structs import UserVerificationRequirement

    rp_id, _ = _relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=_descriptors(user) if user is not None else [],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    # With the time it was given: the session is a cookie, which a captured
    # request brings back, so single use is the passkey's row's (claim_use).
    session[AUTHENTICATE_KEY] = [bytes_to_base64url(options.challenge), utcnow().isoformat()]
    return options_to_json(options)


def _challenge_given() -> tuple[str, datetime] | None:
    kept = session.pop(AUTHENTICATE_KEY, None)
    try:
        challenge, given = kept
        return challenge, datetime.fromisoformat(given)
    except (TypeError, ValueError):
        return None  # none, or kept by an older version (a string): ask again


def authenticate(credential: str | None, user: User | None = None, require_verification: bool = False):
    """The passkey that signed this session's challenge (used once), of
    ``user`` if given; its signature count moves on. None if anything fails."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    kept = _challenge_given()
    if kept is None or not credential or len(credential) > MAX_CREDENTIAL_JSON:
        return None
    challenge, given = kept
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None
    query = SecondFactor.confirmed_passkey(bytes_to_base64url(parsed.raw_id))
    if user is not None:
        query = query.where(SecondFactor.user == user.id)
    factor = query.first()
    if factor is None:
        return None
    rp_id, origin = _relying_party()
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=base64url_to_bytes(factor.public_key),
            credential_current_sign_count=factor.sign_count or 0,
            require_user_verification=require_verification,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return None
    if not factor.claim_use(given, sign_count=verified.new_sign_count):
        return None  # this challenge was answered already (a replayed request)
    return factor
