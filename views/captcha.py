"""Captcha image and audio, drawn on demand, never cached, each fetched only
a few times per challenge and only by the session that opened it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, request

import challenges
from security import limit

bp = Blueprint("captcha", __name__, url_prefix="/captcha")


def _media(challenge_id: str, medium: str) -> None:
    # Counting a fetch matches live challenges of this session only: one
    # query when it is allowed; a second says why it is not.
    if not challenges.count_fetch(challenge_id, medium):
        if not challenges.is_live(challenge_id):
            abort(404)
        g.challenge_spent = True  # its own count, not the client's limit: a new image helps
        abort(429)


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


@bp.after_request
def _spoken_refusal(response: Response) -> Response:
    """A challenge's audio fetched its number of times, or a client past its
    limit: a 429 (logged, with how long to wait, by views.errors), but to a
    media player (``<audio>``: ``Sec-Fetch-Dest: audio``), which cannot show
    one and would stay silent with JavaScript off, a recording that says why
    and what helps: a new image, or waiting. Counted as the refusal it is
    (metrics). Nothing is counted or drawn for it: a file of the voice bank,
    the same for every challenge."""
    player = request.endpoint == "captcha.audio" and request.headers.get("Sec-Fetch-Dest") == "audio"
    if response.status_code != 429 or not player:
        return response
    spoken = challenges.refusal_wav(wait=not g.get("challenge_spent"))
    if spoken is None:
        return response
    g.refused_otherwise = True
    refusal = _response(spoken, "audio/wav")
    if "Retry-After" in response.headers:
        refusal.headers["Retry-After"] = response.headers["Retry-After"]
    return refusal
