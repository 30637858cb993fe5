"""No page and no form reads a table that grows with use whole: the sign-up
from the home page to « Mon espace », an operator's every page and form
(her console, a request to decide, her drafts), a visitor's pages, page and
htmx. A read of every row costs what the table holds, on each request; it
was how « Mes données » and the console found the journal's events about an
account (90-200 ms among 200,000 events) and each console action its
operators (17-27 ms among 200,000 accounts). The plans are SQLite's, on the
tests' database; tests.support.plans says which whole reads are allowed
and why."""

from __future__ import annotations

import pytest

from models import AuditEvent, User
from tests.support.app import query, recorded_statements
from tests.support.constants import EMAIL
from tests.support.crawl import ANONYMOUS, ENDS_THE_SESSION, SIGNED_IN, body, crawl, operator_world
from tests.support.plans import whole_reads
from tests.support.signup import PERSON, Signup
from tests.support.structures import PIERRE, new_client


def send_every_form(client, forms, values: dict | None = None) -> None:
    """Each POST form once, with the values it shows or those of ``values``
    by field name (those that end the client's session aside)."""
    token = client.csrf_token()
    values = values or {}
    for form in forms:
        if form.method != "post" or any(part in form.action for part in ENDS_THE_SESSION):
            continue
        fields = [(n, token if n == "csrf_token" else values.get(n, v)) for n, v in form.fields]
        response = client.post(
            form.action, data=body(fields), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code < 500, form.action


def reads_of(statements, table: str) -> int:
    return sum(sql.startswith("SELECT") and f'FROM "{table}"' in sql for sql, _ in statements)


# The console's journal filtered, as an operator reads it (GET forms are not sent).
JOURNAL = ["/administration/journal?structure=1", f"/administration/journal?account={EMAIL}"]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_attack_no_page_nor_form_of_an_operator_reads_a_growing_table_whole(app, mailbox, monkeypatch, htmx):
    operators_sweep(app, mailbox, monkeypatch, htmx)


def test_attack_no_page_nor_form_of_an_operator_reads_a_growing_table_whole_on_postgresql(
    pg_app, pg_mailbox, monkeypatch
):
    """The same sweep on PostgreSQL (as a full page), whose planner reads its indexes on its own terms."""
    operators_sweep(pg_app, pg_mailbox, monkeypatch, htmx=False)


def operators_sweep(app, mailbox, monkeypatch, htmx: bool) -> None:
    statements = recorded_statements(monkeypatch, params=True, requests_only=True)
    marie, _ = operator_world(app, mailbox)  # sign-ups, activations, a structure, a request to join
    found = crawl(marie, [*SIGNED_IN, *JOURNAL])
    assert {"/administration/", "/approbations/", "/structure/nouvelle", *JOURNAL} <= set(found.pages)
    marie.htmx = htmx
    send_every_form(marie, found.forms)
    # Among them, the reads that were whole before: the journal's events
    # about an account and those of a structure, and the operators.
    assert any('"about_account" = ' in sql for sql, _ in statements)
    assert any('"structure_id" = ' in sql for sql, _ in statements)
    assert any('WHERE "t1"."is_operator"' in sql for sql, _ in statements)
    assert query(app, lambda: whole_reads(statements)) == []


def test_attack_no_page_nor_form_of_a_visitor_reads_a_growing_table_whole(
    any_client, app, mailbox, monkeypatch
):
    """What anybody can make the portal read: a sign-in that fails for an
    address that has an account and for one that has none, a reset asked
    for both, a sign-up to its activation, with every form found sent
    filled in."""
    new_client(app, mailbox, PIERRE)
    statements = recorded_statements(monkeypatch, params=True, requests_only=True)
    found = crawl(any_client, [*ANONYMOUS, *SIGNED_IN])
    for email in (PIERRE["email"], "personne@exemple.fr"):
        send_every_form(
            any_client, found.forms, {**PERSON, "email": email, "password": "Pas-le-bon-1234", "terms": "y"}
        )
    signup = Signup(any_client, mailbox)
    signup.create_account(email="lucie@exemple.fr", email_confirm="lucie@exemple.fr")
    signup.activate(email="lucie@exemple.fr")
    assert query(app, lambda: User.get(User.email == "lucie@exemple.fr").status) == User.ACTIVE
    assert reads_of(statements, "user") >= 5 and reads_of(statements, "token") >= 1
    assert query(app, lambda: whole_reads(statements)) == []


def test_the_check_sees_a_table_read_whole(app, monkeypatch):
    """Control: accounts looked for by a column without an index are seen,
    and so are the journal read whole inside a search, or sorted apart for
    its first page; the console's search itself is not."""
    assert_the_check_sees_whole_reads(app, monkeypatch)


def test_the_check_sees_a_table_read_whole_on_postgresql(pg_app, monkeypatch):
    assert_the_check_sees_whole_reads(pg_app, monkeypatch)


def assert_the_check_sees_whole_reads(app, monkeypatch) -> None:
    statements = recorded_statements(monkeypatch, params=True)

    def read():
        list(User.select().where(User.phone == "+33123456789"))
        list(User.select().where(User.folded_name.contains("curie")).limit(20))
        events = AuditEvent.select(AuditEvent.user).where(AuditEvent.details.contains("curie"))
        list(User.select().where(User.folded_name.contains("curie") | User.id.in_(events)).limit(20))
        list(AuditEvent.select().order_by(AuditEvent.details).limit(20))
        return whole_reads(statements)

    found = query(app, read)
    assert len(found) == 3
    assert '"phone" = ' in found[0] and "audit_event" in found[1] and 'ORDER BY "t1"."details"' in found[2]
