"""Captcha image and audio, drawn on demand, never cached."""

from __future__ import annotations

from flask import Blueprint, Response, abort

import challenges
from security import limit

bp = Blueprint("captcha", __name__, url_prefix="/captcha")


def _media(challenge_id: str, body: bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<challenge_id>.png")
@limit("CAPTCHA_MEDIA", methods=("GET",))
def image(challenge_id: str):
    if not challenges.is_live(challenge_id):
        abort(404)
    return _media(challenge_id, challenges.image_png(challenge_id), "image/png")


@bp.get("/<challenge_id>.wav")
@limit("CAPTCHA_MEDIA", methods=("GET",))
def audio(challenge_id: str):
    if not challenges.is_live(challenge_id):
        abort(404)
    return _media(challenge_id, challenges.audio_wav(challenge_id), "audio/wav")
