"""Every page a person can reach, in English: a crawl (tests.support.crawl,
the console's searches included) from the home page and the signed-in
spaces of an operator who created a structure and has a request waiting,
each page as a full page and as an htmx partial, with no French left
(tests.support.i18n)."""

from __future__ import annotations

from rules.places import country_names
from tests.support.constants import EMAIL
from tests.support.crawl import crawl
from tests.support.i18n import french_in, speak
from tests.support.operators import grant
from tests.support.responses import text_of
from tests.support.second_factor import enrol_totp
from tests.support.structures import (
    LUCIE,
    PIERRE,
    SIRET_NORMALISED,
    STRUCTURE,
    create_structure,
    new_client,
    sign_up,
)

# What people typed: their names, the structure's, its address; and the
# countries' English names, some of which are written with accents (Réunion).
TYPED = (
    *country_names("en").values(),
    "Marie Curie",
    "Pierre Durand",
    "Lucie Martin",
    "Marie",
    "Curie",
    "Pierre",
    "Durand",
    "Lucie",
    "Martin",
    STRUCTURE["company_name"],
    STRUCTURE["label"],
    STRUCTURE["address"],
    STRUCTURE["address_2"],
    "Paris",
    "Ateliers-Curie",
)
STARTS = ("/", "/espace/", "/mon-compte/", "/administration/", "/inscription/", "/connexion")


def quotes_read(html: str) -> str:
    """The page with its quotes as a reader sees them (tests.support.responses.text_of)."""
    return html.replace("&#39;", "'").replace("&#34;", '"')


def test_every_reachable_page_is_english(app, client, mailbox):
    operator = sign_up(client, mailbox)
    grant(app, EMAIL)
    enrol_totp(operator)
    create_structure(operator)
    pierre = new_client(app, mailbox, PIERRE)
    pierre.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    )
    new_client(app, mailbox, LUCIE)
    speak(operator, "en")

    pages = {path: quotes_read(html) for path, html in crawl(operator, STARTS).pages.items()}
    assert len(pages) >= 20, sorted(pages)
    problems = {path: sorted(set(french_in(html, TYPED))) for path, html in pages.items()}
    assert not {path: found for path, found in problems.items() if found}, sorted(pages)

    operator.htmx = True  # the same pages as htmx swaps them in
    problems = {path: french_in(text_of(operator.get(path)), TYPED) for path in pages}
    assert not {path: found for path, found in problems.items() if found}
