"""A row cancelled or decided in place under htmx brings the page's flash
region along (out of band): its own message, and no earlier one left above
it. Without JavaScript the same message is on the page the 303 leads to."""

from __future__ import annotations

import re

import pytest

from models import Membership, Structure
from tests.support.app import query
from tests.support.responses import follow, text_of
from tests.support.signup import PERSON
from tests.support.structures import (
    PIERRE,
    ask_to_join,
    create_structure,
    new_client,
    sign_up,
)

SENT = "Votre demande de rattachement a été transmise"
CANCELLED = "Votre demande de rattachement est annulée."
TOO_LATE = "Cette demande a déjà été traitée : elle ne peut plus être annulée."
REFUSED = "La demande de Pierre Durand est refusée."
APPROVED = "Pierre Durand est désormais rattaché à la structure Ateliers Curie."
ALREADY = "Cette demande a déjà été traitée ou annulée."
CLOSED = "Cette structure n'accepte pas de nouveau membre pour le moment"


ask = ask_to_join


def pending_id(app) -> int:
    return query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)


def flash_region(text: str) -> str:
    [region] = re.findall(r'<div id="flashes"[^>]*>.*?\n</div>', text, re.S)
    return region


def messages(region: str) -> list[tuple[str, str]]:
    """The region's messages: (category, text)."""
    return re.findall(r'<div class="notice notice--(\w+) notice--flash" role="status">(.*?)</div>', region)


def in_place(response, row_id: str, status: int = 200) -> tuple[str, str]:
    """An htmx answer in place: the row, then the flash region out of band."""
    text = text_of(response)
    assert response.status_code == status, text
    assert "<html" not in text and "<h1>" not in text
    row, region = text.split('<div id="flashes"')
    assert row.strip().startswith(f'<tr id="{row_id}">')
    assert region.startswith(' data-hx-swap-oob="true">')
    return row, flash_region('<div id="flashes"' + region)


@pytest.fixture
def pierre(app, htmx_client, mailbox, manager):
    """Pierre under htmx, on « Mon espace » with the message of his request above it."""
    client = sign_up(htmx_client, mailbox, PIERRE)
    assert SENT in text_of(ask(client))  # the message shown now stays in his page until replaced
    return client


# -- « Mon espace »: cancelling one's own request ----------------------------------------------


def test_cancelling_in_place_replaces_the_stale_message_above_with_its_own(app, pierre):
    membership_id = pending_id(app)
    row, region = in_place(
        pierre.submit(f"/espace/demandes/{membership_id}/annuler"), f"request-{membership_id}"
    )
    assert messages(region) == [("success", CANCELLED)]
    assert SENT not in row + region
    assert "Annulée le" in row and "Annuler la demande" not in row
    # The row takes the focus and has the message read out; it does not repeat it.
    assert f'autofocus data-announce="{CANCELLED}"' in row and f">{CANCELLED}<" not in row


def test_cancelling_twice_in_place_says_it_is_too_late_up_there(app, pierre):
    membership_id = pending_id(app)
    pierre.submit(f"/espace/demandes/{membership_id}/annuler")
    _row, region = in_place(
        pierre.submit(f"/espace/demandes/{membership_id}/annuler"), f"request-{membership_id}", 409
    )
    assert messages(region) == [("error", TOO_LATE)]


def test_a_message_waiting_from_before_is_shown_with_the_new_one_not_lost(app, pierre):
    """A message flashed for a page that was never shown (a redirect not
    followed) comes up with this answer rather than on some later page."""
    membership_id = pending_id(app)
    token = pierre.csrf_token()
    pierre.htmx = False
    assert ask(pierre).status_code == 303  # « … est en attente. », for a page not shown
    pierre.htmx = True
    # submit() would read the token from a page, which would show the message.
    response = pierre.post(f"/espace/demandes/{membership_id}/annuler", data={"csrf_token": token})
    _row, region = in_place(response, f"request-{membership_id}")
    waiting = "Votre demande de rattachement à la structure Ateliers Curie est en attente."
    assert messages(region) == [("info", waiting), ("success", CANCELLED)]
    assert waiting not in text_of(pierre.get("/espace/"))


def test_cancelling_without_javascript_shows_the_message_on_the_page(app, client, mailbox, manager):
    pierre = sign_up(client, mailbox, PIERRE)
    ask(pierre)
    response = pierre.submit(f"/espace/demandes/{pending_id(app)}/annuler")
    text = follow(pierre, response)
    region = flash_region(text)
    assert "data-hx-swap-oob" not in region and messages(region) == [("success", CANCELLED)]
    assert SENT not in text and "<h1>Mon espace</h1>" in text
    assert messages(flash_region(text_of(pierre.get("/espace/")))) == []  # said once


# -- « Approbations »: deciding a request -------------------------------------------------------


@pytest.fixture
def deciding(app, htmx_client, mailbox):
    """Marie under htmx on « Approbations », Pierre's request pending; the
    earlier page left « Les informations de la structure… » above."""
    marie = sign_up(htmx_client, mailbox, PERSON)
    create_structure(marie)
    ask(new_client(app, mailbox, PIERRE))
    url = f"/structure/{query(app, lambda: Structure.get().id)}/modifier"
    form = {"company_name": "Ateliers Curie", "address": "1 rue A", "city": "Paris", "postal_code": "75002"}
    assert "ont été mises à jour" in text_of(marie.submit(url, {**form, "country": "FR"}))
    return marie, pending_id(app)


@pytest.mark.parametrize(("action", "message"), [("approuver", APPROVED), ("refuser", REFUSED)])
def test_a_decision_in_place_brings_its_own_message_up(deciding, action, message):
    marie, membership_id = deciding
    row, region = in_place(
        marie.submit(f"/approbations/{membership_id}/{action}"), f"approval-{membership_id}"
    )
    assert messages(region) == [("success", message)]
    assert "mises à jour" not in region and "<form" not in row
    assert f'autofocus data-announce="{message}"' in row and f">{message}<" not in row
    # Deciding again (another tab): the region says it is done already.
    other = "refuser" if action == "approuver" else "approuver"
    _row, region = in_place(
        marie.submit(f"/approbations/{membership_id}/{other}"), f"approval-{membership_id}", 409
    )
    assert messages(region) == [("error", ALREADY)]


def test_an_approval_refused_for_a_closed_structure_says_so_up_there(app, deciding):
    marie, membership_id = deciding
    query(app, lambda: Structure.update(status=Structure.DISABLED).execute())
    row, region = in_place(
        marie.submit(f"/approbations/{membership_id}/approuver"), f"approval-{membership_id}", 409
    )
    [(category, text)] = messages(region)
    assert category == "error" and text.startswith(CLOSED)
    assert "Refuser<span" in row  # still pending: it can be refused


def test_a_decision_without_javascript_shows_its_message_on_the_page(app, client, mailbox):
    marie = sign_up(client, mailbox, PERSON)
    create_structure(marie)
    ask(new_client(app, mailbox, PIERRE))
    text = follow(marie, marie.submit(f"/approbations/{pending_id(app)}/refuser"))
    region = flash_region(text)
    assert "data-hx-swap-oob" not in region and messages(region) == [("success", REFUSED)]
    assert "<h1>Approbations</h1>" in text


def test_every_page_has_one_flash_region_empty_when_nothing_is_said(manager):
    text = text_of(manager.get("/espace/"))
    text = text_of(manager.get("/espace/"))  # the creation's message read already
    assert text.count('id="flashes"') == 1 and messages(flash_region(text)) == []
