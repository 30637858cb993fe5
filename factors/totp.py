"""Authenticator apps (TOTP, RFC 6238: 6 digits, 30-second steps, SHA-1, as
every app reads them): the secret, its QR code and the check of a code,
accepted once (no replay), with one step of clock drift either way."""

from __future__ import annotations

import io
import re
import time

import pyotp
from flask import current_app
from flask_babel import gettext as _
from markupsafe import escape
from pyotp import utils

from factors.sealed import seal, unseal
from models import SecondFactor, User
from rules.codes import six_digits

DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def seal_secret(user: User, secret: str) -> str:
    return seal(secret, f"totp:{user.id}")


def secret_of(factor: SecondFactor) -> str | None:
    return unseal(factor.secret, f"totp:{factor.user_id}")


def grouped(secret: str) -> str:
    """The secret by groups of four, to type it by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["PORTAL_NAME"])


def qr_svg(uri: str) -> str:
    """The QR code as an inline SVG (one path: no script, no style attribute
    the CSP would refuse)."""
    import qrcode  # on first use: only an enrolment draws one
    import qrcode.image.svg

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    label = escape(_("QR code à scanner"))
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step ``code`` belongs to, within the drift, else None."""
    code = six_digits(code)
    if code is None:
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(time.time() if at is None else at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if utils.strings_equal(code, totp.generate_otp(step)):
            return step
    return None


def check(factor: SecondFactor, code: str) -> bool:
    """A right code of a step later than the last one accepted; that step is
    then spent (a code seen over a shoulder cannot be played again)."""
    secret = secret_of(factor)
    if secret is None:
        return False
    step = matching_step(secret, code)
    return step is not None and factor.claim_step(step)
