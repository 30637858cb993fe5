"""Captcha image and audio, drawn on demand, never cached, each fetched only
a few times per challenge and only by the session that opened it."""

from __future__ import annotations

from flask import Blueprint, Response, abort

import challenges
from security import limit

bp = Blueprint("captcha", __name__, url_prefix="/captcha")


def _media(challenge_id: str, medium: str) -> None:
    # Counting a fetch matches live challenges of this session only: one
    # query when it is allowed; a second says why it is not.
    if not challenges.count_fetch(challenge_id, medium):
        abort(429 if challenges.is_live(challenge_id) else 404)


def _response(body: bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<challenge_id>.png")
@limit("CAPTCHA_MEDIA", methods=("GET",))
def image(challenge_id: str):
    _media(challenge_id, "image")
    return _response(challenges.image_png(challenge_id), "image/png")


@bp.get("/<challenge_id>.wav")
@limit("CAPTCHA_MEDIA", methods=("GET",))
@limit("CAPTCHA_AUDIO", methods=("GET",))
def audio(challenge_id: str):
    _media(challenge_id, "audio")
    return _response(challenges.audio_wav(challenge_id), "audio/wav")
