"""A GET search is carried over the language switch by its address: the
switch's ``next`` is the page with its query string (views.here), so the
page comes back with the search as it was sent, its field filled and its
results listed, in the other language (without JavaScript; with it, app.js
sets ``next`` to the address bar's, query included)."""

from __future__ import annotations

import html
import re

from tests.support.responses import text_of
from tests.support.structures import SIRET_NORMALISED, create_structure
from tests.test_language_carry import value_of


def next_of(page: str) -> str:
    field = re.search(r'<input type="hidden" name="next" value="([^"]*)">', page)
    assert field, "no switch on the page"
    return html.unescape(field.group(1))


def switched(client, url: str) -> tuple[str, str]:
    """The header's switch pressed on ``url`` (a full page: the header is its),
    then the page it leads back to."""
    mode, client.htmx = client.htmx, False
    back = next_of(text_of(client.get(url)))
    response = client.submit("/langue", {"lang": "en", "next": back})
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]))
    client.htmx = mode
    return response.headers["Location"], page


def test_a_console_search_comes_back_over_the_switch_with_its_query(operator):
    url = "/administration/comptes?q=Curie+%C3%A9"
    back, page = switched(operator, url)
    assert back == url
    assert '<html lang="en">' in page and value_of(page, "q") == "Curie é"


def test_a_console_structure_search_comes_back_with_its_results(app, operator):
    mode, operator.htmx = operator.htmx, False
    create_structure(operator)
    operator.htmx = mode
    url = f"/administration/structures?q={SIRET_NORMALISED}"
    back, page = switched(operator, url)
    assert back == url
    assert value_of(page, "q") == SIRET_NORMALISED and "Ateliers Curie" in page


def test_the_attachment_search_comes_back_with_its_type_and_identifier(marie):
    url = f"/structure/rattachement?identifier_type=siret&identifier={SIRET_NORMALISED}"
    back, page = switched(marie, url)
    assert back == url
    assert value_of(page, "identifier") == SIRET_NORMALISED


def test_attack_a_query_naming_another_site_is_not_written_back(operator):
    back, _ = switched(operator, "/administration/comptes?q=a&next=https://ailleurs.example/")
    assert back == "/administration/comptes"
