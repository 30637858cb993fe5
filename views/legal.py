"""The operator's texts: the conditions of use (« J'accepte les conditions »
links there) and « Mentions légales / Données personnelles », each from a
Markdown or HTML file the operator names (FLASK_TERMS_FILE, FLASK_LEGAL_FILE),
or a sober default that says it must be replaced."""

from __future__ import annotations

from pathlib import Path

import markdown
from flask import Blueprint, current_app
from markupsafe import Markup

from views import page

bp = Blueprint("legal", __name__)


def operator_text(key: str) -> Markup | None:
    """The file named by ``key``, as HTML: the operator's own text, trusted
    like the rest of the deployment. None when no file is configured."""
    path = current_app.config.get(key)
    if not path:
        return None
    text = Path(path).read_text(encoding="utf-8")
    if path.lower().endswith((".md", ".markdown")):
        text = markdown.markdown(text, output_format="html")
    return Markup(text)  # noqa: S704 - the operator's own file


@bp.get("/conditions")
def terms():
    return page("legal/terms.html", text=operator_text("TERMS_FILE"))


@bp.get("/mentions-legales")
def notice():
    return page("legal/notice.html", text=operator_text("LEGAL_FILE"))
