"""HTML allows no ``hx-*`` attribute: htmx reads the same attributes with a
``data-`` prefix, which is valid HTML (RGAA criterion 8.2). A template (or a
script selecting on them) with a bare ``hx-`` attribute fails here, so a
merge bringing one back is caught before the W3C Nu checker runs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# An hx- attribute in markup, in a Jinja dict of attributes ("hx-post": …)
# or in a CSS selector ([hx-target]); data-hx-* does not match.
BARE_HX = re.compile(r"(?<![\w-])hx-[a-z]")


def bare_hx_attributes(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if BARE_HX.search(line)]


def test_bare_hx_is_found_and_data_hx_is_not():
    assert bare_hx_attributes('<a hx-get="/x">') == ['<a hx-get="/x">']
    assert bare_hx_attributes('{{ f(extra={"hx-post": url}) }}') != []
    assert bare_hx_attributes("document.querySelector('[hx-target]')") != []
    assert bare_hx_attributes('<a data-hx-get="/x" data-hx-target="#main">') == []
    assert bare_hx_attributes('{"data-hx-post": url}') == []


def test_no_template_script_nor_form_renderer_has_a_bare_hx_attribute():
    found = {}
    sources = ("templates/**/*.html", "static/**/*.js", "forms/**/*.py", "views/**/*.py")
    for path in [found for pattern in sources for found in REPO.glob(pattern)]:
        lines = bare_hx_attributes(path.read_text(encoding="utf-8"))
        if lines:
            found[str(path.relative_to(REPO))] = lines
    assert found == {}, "use data-hx-* (valid HTML) instead of hx-*"
