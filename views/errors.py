"""Error pages in French, without internals."""

from __future__ import annotations

from flask import Flask, current_app, make_response, render_template, request
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from security import client_address, retry_after_seconds
from views import MAIN, retarget

MESSAGES = {
    400: ("Requête invalide", "La demande n'a pas pu être traitée. Revenez en arrière et réessayez."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable", "La page demandée n'existe pas ou n'existe plus."),
    405: ("Action impossible", "Cette action n'est pas possible sur cette page."),
    410: ("Page expirée", "Cette page n'est plus disponible."),
    413: ("Envoi trop volumineux", "Les données envoyées sont trop volumineuses."),
    429: (
        "Trop de tentatives",
        "Vous avez fait trop de demandes en peu de temps. Patientez quelques minutes puis réessayez.",
    ),
    503: (
        "Service indisponible",
        "Le service est momentanément indisponible. Réessayez dans quelques instants.",
    ),
    500: ("Erreur du service", "Une erreur inattendue s'est produite. Réessayez dans quelques instants."),
}


def render_error(status: int, message: str | None = None):
    title, text = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    response = make_response(
        render_template("errors/error.html", title=title, text=message or text, status=status), status
    )
    if request.htmx:
        # Show the error in place of the page's content, whatever was targeted.
        return retarget(response, MAIN, "innerHTML")
    return response


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return "moins d'une minute"
    minutes = -(-seconds // 60)
    if minutes <= 60:
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    hours = -(-minutes // 60)
    return f"{hours} heure{'s' if hours > 1 else ''}"


def too_many_requests(_error: RateLimitExceeded):
    """429 with how long to wait; the limit's details stay in the log."""
    seconds = retry_after_seconds()
    current_app.logger.warning(
        "Rate limit reached: %s %s from %s", request.method, request.path, client_address()
    )
    text = MESSAGES[429][1]
    if seconds:
        text = (
            "Vous avez fait trop de demandes en peu de temps. "
            f"Patientez {_wait_text(seconds)} avant de réessayer."
        )
    response = render_error(429, text)
    if seconds:
        response.headers["Retry-After"] = str(seconds)
    return response


def csrf_error(_error):
    return render_error(
        400, "Votre session a expiré ou le formulaire n'est plus valide. Rechargez la page et recommencez."
    )


def register(app: Flask) -> None:
    app.register_error_handler(RateLimitExceeded, too_many_requests)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error")
        return render_error(500)
