"""Blueprints, one per area, and the two ways a step answers."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, make_response, redirect, render_template, request
from werkzeug.routing import IntegerConverter


class RowIdConverter(IntegerConverter):
    """``<id:name>``: a database row id, 1 to 2**63 - 1. A larger number is no
    id (404), rather than an overflow in the database driver (500)."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=2**63 - 1)


def page(template: str, status: int = 200, **context) -> Response:
    """A step as a full page, or as its fragment under htmx (see app._layout)."""
    return make_response(render_template(template, **context), status)


def invalid(template: str, **context) -> Response:
    """The same step with its errors: 422, which htmx is configured to swap."""
    return page(template, 422, **context)


def advance(url: str, render_next: Callable[[], Response | str]) -> Response:
    """After a successful POST: 303 to the next step (Post/Redirect/Get), or
    under htmx the next step's fragment with its URL pushed."""
    if request.htmx:
        response = make_response(render_next())
        response.headers["HX-Push-Url"] = url
        return response
    return redirect(url, 303)
