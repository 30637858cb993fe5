"""The operator's texts: the conditions of use (« J'accepte les conditions »
links there) and « Mentions légales / Données personnelles », each from a
Markdown or HTML file the operator names (FLASK_TERMS_FILE, FLASK_LEGAL_FILE),
or a sober default that says it must be replaced.

The operator's files are French. A page in another language shows that
language's version when the operator put one beside the file, the language
before the extension (``conditions.md`` → ``conditions.en.md``); otherwise the
French text, marked as French (``lang="fr"``: a screen reader switches voice),
under a sentence saying it exists in French only. The defaults are translated
like the rest of the pages."""

from __future__ import annotations

from pathlib import Path

import markdown
from flask import Blueprint, current_app
from markupsafe import Markup

import i18n
from views import page

bp = Blueprint("legal", __name__)


def translated_path(path: Path, language: str) -> Path:
    """Where the ``language`` version of ``path`` would be: ``terms.md`` → ``terms.en.md``."""
    return path.with_name(f"{path.stem}.{language}{path.suffix}")


def _read(path: Path) -> Markup:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".md", ".markdown"):
        text = markdown.markdown(text, output_format="html")
    return Markup(text)  # noqa: S704 - the operator's own file


def operator_text(key: str) -> tuple[Markup | None, str | None]:
    """The file named by ``key``, as HTML (the operator's own text, trusted
    like the rest of the deployment), and the language to mark it with when
    it is not the page's: (None, None) when no file is configured."""
    configured = current_app.config.get(key)
    if not configured:
        return None, None
    path = Path(configured)
    language = i18n.current()
    if language != i18n.DEFAULT:
        translated = translated_path(path, language)
        if translated.is_file():
            return _read(translated), None
        return _read(path), i18n.DEFAULT
    return _read(path), None


def _legal_page(template: str, key: str):
    text, text_lang = operator_text(key)
    return page(template, text=text, text_lang=text_lang)


@bp.get("/conditions")
def terms():
    return _legal_page("legal/terms.html", "TERMS_FILE")


@bp.get("/mentions-legales")
def notice():
    return _legal_page("legal/notice.html", "LEGAL_FILE")
