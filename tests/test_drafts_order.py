"""A page's draft saves, kept in the order the page sent them: app.js numbers
each save of a page (``draft_order``: « <page>.<number> »), and a save that
left first and reached the server last (a slower worker, a save sent as the
page goes beside an autosave still on its way) never replaces the later one.
Attacks are named after what they try."""

from __future__ import annotations

import json

import pytest

from models import Draft
from tests.support.app import query
from tests.support.signup import draft_of
from tests.support.structures import PIERRE, new_client
from tests.test_drafts_account import STEP_6, STEP_6_DRAFT

PAGE = "k3Jd9QpL2xWm"


def step_6_draft(app) -> dict:
    (draft,) = query(app, lambda: list(Draft.select().where(Draft.key.endswith(":structure"))))
    return json.loads(draft.data)


def saved(client, path: str, city: str, order: str | None) -> None:
    sent = {"identifier_type": "siret", "city": city, **({"draft_order": order} if order else {})}
    assert client.submit(path, sent).status_code in (200, 303, 422)


def test_attack_an_earlier_save_of_the_page_answered_last_never_replaces_the_later_one(app, marie):
    saved(marie, STEP_6_DRAFT, "Lyon", f"{PAGE}.2")
    saved(marie, STEP_6_DRAFT, "Lyo", f"{PAGE}.1")  # sent before, answered after
    assert step_6_draft(app)["city"] == "Lyon"
    saved(marie, STEP_6_DRAFT, "Lyon", f"{PAGE}.2")  # the same save twice (a retry): no harm
    assert step_6_draft(app)["city"] == "Lyon"
    saved(marie, STEP_6_DRAFT, "Lyon 3e", f"{PAGE}.3")
    assert step_6_draft(app)["city"] == "Lyon 3e"
    assert "draft_order" not in step_6_draft(app), "the order is the page's, never a field of the draft"


def test_the_step_sent_is_a_save_of_its_page_in_the_same_order(app, marie):
    """« Soumettre » with an error keeps the form as the draft: an autosave
    of the page sent before it and answered after it does not undo it."""
    saved(marie, STEP_6, "Lyon", f"{PAGE}.5")
    saved(marie, STEP_6_DRAFT, "Ly", f"{PAGE}.4")
    assert step_6_draft(app)["city"] == "Lyon"


def test_another_page_or_a_save_without_javascript_always_replaces_the_draft(app, marie):
    """The order is within one page: a page drawn since (a reload, another
    tab) numbers its saves from 1; a form sent without JavaScript carries no
    order. Both are the person's latest."""
    saved(marie, STEP_6_DRAFT, "Lyon", f"{PAGE}.9")
    saved(marie, STEP_6_DRAFT, "Paris", "Bx7Tq0RzV5nA.1")
    assert step_6_draft(app)["city"] == "Paris"
    saved(marie, STEP_6_DRAFT, "Nantes", None)
    assert step_6_draft(app)["city"] == "Nantes"
    saved(marie, STEP_6_DRAFT, "Brest", f"{PAGE}.1")
    assert step_6_draft(app)["city"] == "Brest"


@pytest.mark.parametrize(
    "order", ["short.7", f"{PAGE}.-1", f"{PAGE}.1234567890", f"{PAGE}.1.2", f"{PAGE} .3", "x" * 33 + ".3", ""]
)
def test_attack_an_order_not_as_the_page_writes_it_is_no_order(app, marie, order):
    """A made-up order neither blocks the next saves nor is refused: the
    save is kept as one sent without JavaScript."""
    saved(marie, STEP_6_DRAFT, "Lyon", f"{PAGE}.50")
    saved(marie, STEP_6_DRAFT, "Paris", order)
    assert step_6_draft(app)["city"] == "Paris"
    saved(marie, STEP_6_DRAFT, "Nantes", f"{PAGE}.2")
    assert step_6_draft(app)["city"] == "Nantes"


def test_step_2s_draft_follows_the_same_order(app, any_client):
    for name, number in (("Marie", 2), ("Mari", 1)):
        sent = {"first_name": name, "draft_order": f"{PAGE}.{number}"}
        assert any_client.submit("/inscription/brouillon", sent).status_code in (200, 303)
    assert draft_of(app, any_client)["first_name"] == "Marie"
    assert "draft_order" not in draft_of(app, any_client)


def test_attack_one_accounts_page_order_never_holds_back_anothers_draft(app, marie, mailbox):
    """The order is kept with each owner's draft: the same page id sent by
    another account (copied, or guessed) orders only that account's saves."""
    saved(marie, STEP_6_DRAFT, "Lyon", f"{PAGE}.99")
    pierre = new_client(app, mailbox, PIERRE)
    saved(pierre, STEP_6_DRAFT, "Quimper", f"{PAGE}.1")
    drafts = query(app, lambda: list(Draft.select().where(Draft.key.endswith(":structure"))))
    cities = sorted(json.loads(draft.data)["city"] for draft in drafts)
    assert cities == ["Lyon", "Quimper"]


def test_postgresql_keeps_a_pages_saves_in_their_order_too(pg_app, pg_client):
    """The order is decided in the write itself (INSERT … ON CONFLICT … WHERE):
    PostgreSQL reads it as SQLite does."""
    for name, order in (("Marie", f"{PAGE}.2"), ("Mari", f"{PAGE}.1"), ("Marie-Anne", "Bx7Tq0RzV5nA.1")):
        sent = {"first_name": name, "draft_order": order}
        assert pg_client.submit("/inscription/brouillon", sent).status_code == 303
        if name == "Mari":
            assert draft_of(pg_app, pg_client)["first_name"] == "Marie"
    assert draft_of(pg_app, pg_client)["first_name"] == "Marie-Anne"
