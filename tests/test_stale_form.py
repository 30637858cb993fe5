"""A form whose CSRF token went stale (a sign-in in another tab renews the
session's token; an ended session drops it). Sent in place (htmx), the page
and what was typed stay, a notice says to send it again, and the answer
names the session's token so that sending again works. A full page gets the
400 page. Attacks are named after what they try."""

from __future__ import annotations

import json

from tests.support.responses import text_of
from tests.support.signup import PERSON

STALE = "Cette page n'était plus à jour : elle l'est de nouveau, et ce que vous avez saisi est conservé."


def test_a_stale_form_sent_in_place_keeps_its_page_and_can_be_sent_again(htmx_client):
    client = htmx_client
    client.get("/inscription/")
    response = client.post("/inscription/", data={**PERSON, "csrf_token": "stale"})

    assert response.status_code == 400
    assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == ("#flashes", "innerHTML")
    assert STALE in text_of(response) and 'role="alert"' in text_of(response)
    token = json.loads(response.headers["HX-Trigger"])["portail:session"]
    assert token

    again = client.post("/inscription/", data={**PERSON, "csrf_token": token})
    assert again.status_code == 200 and "Reproduire la suite de caractères" in text_of(again)


def test_a_stale_form_sent_as_a_full_page_gets_the_400_page(client):
    client.get("/inscription/")
    response = client.post("/inscription/", data={**PERSON, "csrf_token": "stale"})
    assert response.status_code == 400
    assert "Rechargez la page et recommencez." in text_of(response)
    assert "HX-Trigger" not in response.headers and "HX-Retarget" not in response.headers


def test_attack_a_cross_site_form_is_told_no_token(client):
    """A form posted from another site cannot send htmx's header (a custom
    header needs the portal's consent, which it never gives): it gets the
    plain 400 page, and no token."""
    elsewhere = {"Origin": "https://pirate.example", "Sec-Fetch-Site": "cross-site"}
    response = client.post("/inscription/", data=PERSON, headers=elsewhere)
    assert response.status_code == 400
    assert "HX-Trigger" not in response.headers and "HX-Retarget" not in response.headers
