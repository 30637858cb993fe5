"""Captcha image and audio, drawn on demand, never cached, each fetched only
a few times per challenge and only by the session that opened it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, request
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

import challenges
from security import limit
from views import errors

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


@bp.errorhandler(429)
def _refused(error: HTTPException) -> Response:
    """A challenge's audio fetched its number of times, or a client past its
    limit: a 429 (logged, with how long to wait), but to a media player
    (``<audio>``: ``Sec-Fetch-Dest: audio``), which cannot show one and would
    stay silent with JavaScript off, a recording that says why and what
    helps: a new image, or waiting. Counted as the refusal it is (metrics).
    Nothing is counted or drawn for it: a file of the voice bank, the same
    for every challenge."""
    past_the_limit = isinstance(error, RateLimitExceeded)
    answer = errors.too_many_requests(error) if past_the_limit else errors.render_error(429)
    player = request.endpoint == "captcha.audio" and request.headers.get("Sec-Fetch-Dest") == "audio"
    spoken = challenges.refusal_wav(wait=past_the_limit) if player else None
    if spoken is None:
        return answer
    g.refused_otherwise = True
    refusal = _response(spoken, "audio/wav")
    if "Retry-After" in answer.headers:
        refusal.headers["Retry-After"] = answer.headers["Retry-After"]
    return refusal
