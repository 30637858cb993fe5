"""Every page a person reaches (tests.support.crawl), asked for as a full
page and as htmx asks for it: the full page is a document, the htmx answer
its fragment with the same heading, and both say that they vary with
HX-Request, so that no cache serves one for the other; and no link leads
nowhere."""

from __future__ import annotations

import re

from tests.support.crawl import ANONYMOUS, SIGNED_IN, crawl, operator_world

HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)


def heading(text: str) -> str:
    found = HEADING.findall(text)
    assert len(found) == 1, found  # one h1 per page, where focus goes after a swap
    return re.sub(r"<[^>]+>|\s+", " ", found[0]).strip()


def both_ways(client, pages: dict[str, str]) -> list:
    wrong = []
    for url, document in pages.items():
        full = client.get(url)
        swapped = client.get(url, headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/"})
        fragment = swapped.get_data(as_text=True)
        if not document.lstrip().lower().startswith("<!doctype html>"):
            wrong.append((url, "full page is not a document"))
        if swapped.status_code != 200 or "<html" in fragment or "<body" in fragment:
            wrong.append((url, "htmx answer is not a fragment", swapped.status_code))
        elif heading(fragment) != heading(document):
            wrong.append((url, "headings differ", heading(fragment), heading(document)))
        for response in (full, swapped):
            if "HX-Request" not in response.headers.get("Vary", ""):
                wrong.append((url, "no Vary: HX-Request", response.headers.get("Vary")))
    return wrong


def broken(client, visited: list[str]) -> list:
    """The links followed that lead nowhere: anything but a page or a
    redirect (or a search sent empty, which says what it needs: 422)."""
    answers = [(url, client.get(url).status_code) for url in visited]
    return [(url, s) for url, s in answers if s not in (200, 303) and not (s == 422 and "?" in url)]


def test_every_anonymous_page_is_a_document_and_its_htmx_fragment(client):
    found = crawl(client, ANONYMOUS)
    assert len(found.pages) >= 9, sorted(found.pages)
    assert not both_ways(client, found.pages)
    assert not broken(client, found.visited)


def test_every_signed_in_page_is_a_document_and_its_htmx_fragment(app, mailbox):
    marie, _ = operator_world(app, mailbox)
    found = crawl(marie, SIGNED_IN)
    assert len(found.pages) >= 30, sorted(found.pages)
    assert not both_ways(marie, found.pages)
    assert not broken(marie, found.visited)


def test_nothing_a_signed_in_person_reaches_is_kept_by_a_cache(app, mailbox):
    """Pages, the data export, the captcha: whatever a signed-in operator
    reaches is answered ``no-store`` (a shared computer's cache or a proxy
    keeps none of it), page and htmx alike."""
    marie, _ = operator_world(app, mailbox)
    visited = crawl(marie, SIGNED_IN).visited
    assert "/mon-compte/donnees.json" in visited
    kept = []
    for url in visited:
        for headers in ({}, {"HX-Request": "true"}):
            response = marie.get(url, headers=headers)
            if response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", ""):
                kept.append((url, headers, response.headers.get("Cache-Control")))
    assert not kept
