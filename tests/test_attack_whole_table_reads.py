"""No page and no form reads a table that grows with use whole: the sign-up
from the home page to « Mon espace », an operator's every page and form
(her console, a request to decide, her drafts), a visitor's pages, page and
htmx. A read of every row costs what the table holds, on each request; it
was how « Mes données » and the console found the journal's events about an
account (190-200 ms among 200,000 events) and each console action its
operators (17 ms among 200,000 accounts). The plans are SQLite's, on the
tests' database; tests.support.plans says which whole reads are allowed
and why."""

from __future__ import annotations

import pytest

from models import User
from tests.support.app import query, recorded_statements
from tests.support.crawl import ANONYMOUS, ENDS_THE_SESSION, SIGNED_IN, body, crawl, operator_world
from tests.support.plans import whole_reads


def send_every_form(client, forms) -> None:
    """Each POST form once, with the values it shows (those that end the
    client's session aside)."""
    token = client.csrf_token()
    for form in forms:
        if form.method != "post" or any(part in form.action for part in ENDS_THE_SESSION):
            continue
        fields = [(n, token if n == "csrf_token" else v) for n, v in form.fields]
        response = client.post(
            form.action, data=body(fields), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code < 500, form.action


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_attack_no_page_nor_form_of_an_operator_reads_a_growing_table_whole(app, mailbox, monkeypatch, htmx):
    statements = recorded_statements(monkeypatch, params=True, requests_only=True)
    marie, _ = operator_world(app, mailbox)  # sign-ups, activations, a structure, a request to join
    found = crawl(marie, SIGNED_IN)
    assert {"/administration/", "/approbations/", "/structure/nouvelle", "/mon-compte/donnees"} <= set(
        found.pages
    )
    marie.htmx = htmx
    send_every_form(marie, found.forms)
    # Among them, the reads that were whole before: the journal's events
    # about an account, and the operators.
    assert any('"about_account" = ?' in sql for sql, _ in statements)
    assert any('WHERE "t1"."is_operator"' in sql for sql, _ in statements)
    assert query(app, lambda: whole_reads(statements)) == []


def test_attack_no_page_nor_form_of_a_visitor_reads_a_growing_table_whole(any_client, app, monkeypatch):
    statements = recorded_statements(monkeypatch, params=True, requests_only=True)
    found = crawl(any_client, [*ANONYMOUS, *SIGNED_IN])
    send_every_form(any_client, found.forms)
    assert query(app, lambda: whole_reads(statements)) == []


def test_the_check_sees_a_table_read_whole(app, monkeypatch):
    """Control: accounts looked for by a column without an index are seen,
    and the console's search is not."""
    statements = recorded_statements(monkeypatch, params=True)

    def read():
        list(User.select().where(User.phone == "+33123456789"))
        list(User.select().where(User.folded_name.contains("curie")).limit(20))
        return whole_reads(statements)

    [found] = query(app, read)
    assert found.startswith("SCAN") and '"phone" = ?' in found
