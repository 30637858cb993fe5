"""What an audit event is about (the account another account's event names,
the structure it concerns) has columns of its own, indexed: « Mes données »,
the console's account page and trail, and an erasure find those events
without reading the whole journal, which anybody can swell (a failed
sign-in is an event)."""

from __future__ import annotations

import json

import pytest

import audit
import operations
import rights
from audit import Event, Outcome
from models import AuditEvent, User, db
from tests.support.app import clean_environment, make_app, recorded_statements, user_row
from tests.support.plans import whole_reads

MARIE, PIERRE = "marie.curie@exemple.fr", "pierre.durand@exemple.fr"


@pytest.fixture
def journal(tmp_path, monkeypatch):
    """Marie and Pierre in an app context, and a journal swollen by failed
    sign-ins of addresses no account has."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path)
    with app.test_request_context(), db.connection_context():
        marie, pierre = user_row(MARIE), user_row(PIERRE, first_name="Pierre", last_name="Durand")
        with db.atomic():
            for _ in range(300):
                audit.record(Event.SIGN_IN, None, Outcome.FAILURE, reason="unknown_account")
        yield marie, pierre


def full_reads_of_the_journal(statements) -> list[str]:
    return whole_reads(statements, frozenset({"audit_event"}))


def test_an_event_keeps_what_it_is_about_in_columns_of_its_own(journal):
    marie, pierre = journal
    decided = audit.record(Event.MEMBERSHIP_DECIDED, pierre, Outcome.APPROVED, structure=7, requester=MARIE)
    audit.record(Event.ROLE_HANDED_OVER, marie, structure=8, to=PIERRE)
    audit.record(Event.SIGN_IN, marie)
    stored = {e.event: (e.about_account, e.structure_id) for e in AuditEvent.select().where(AuditEvent.user)}
    assert stored == {
        Event.MEMBERSHIP_DECIDED: (MARIE, 7),
        Event.ROLE_HANDED_OVER: (PIERRE, 8),
        Event.SIGN_IN: (None, None),
    }
    assert (decided.about_account, decided.structure_id) == (MARIE, 7)  # as stored


def test_attack_a_flooded_journal_is_never_read_whole(journal, monkeypatch):
    """Every query these pages and the erasure run on the journal goes by an
    index, and still finds the events about the account."""
    marie, pierre = journal
    audit.record(Event.SIGN_IN, marie)
    audit.record(Event.MEMBERSHIP_DECIDED, pierre, Outcome.APPROVED, structure=7, requester=MARIE)
    audit.record(Event.STRUCTURE_CREATED, pierre, structure=7)
    about_marie = AuditEvent.get(AuditEvent.event == Event.MEMBERSHIP_DECIDED)
    statements = recorded_statements(monkeypatch, params=True)

    held = rights.holdings(marie, rights.SHOWN_ON_THE_PAGE)
    exported = rights.export(marie)
    console = operations.events_about(marie)
    trail = operations.audit_trail(account=MARIE)
    of_structure = operations.audit_trail(structure=7)
    with db.atomic():
        rights.forget([pierre])

    assert full_reads_of_the_journal(statements) == []
    assert {e.event for e in held.events} == {Event.SIGN_IN, Event.MEMBERSHIP_DECIDED}
    assert len(exported["evenements"]) == 2
    assert about_marie.id in {e.id for e in console} and about_marie.id in {e.id for e in trail}
    assert {e.event for e in of_structure} == {Event.MEMBERSHIP_DECIDED, Event.STRUCTURE_CREATED}


def test_the_check_sees_a_journal_read_whole(journal, monkeypatch):
    """Control: the search by details the columns replaced is seen."""
    statements = recorded_statements(monkeypatch, params=True)
    list(AuditEvent.select().where(AuditEvent.details.contains(f'"{MARIE}"')))
    assert len(full_reads_of_the_journal(statements)) == 1


def test_an_erased_account_is_named_by_its_pseudonym_in_others_events(journal):
    marie, pierre = journal
    audit.record(Event.MEMBERSHIP_DECIDED, pierre, Outcome.APPROVED, structure=7, requester=MARIE)
    audit.record(Event.ROLE_HANDED_OVER, marie, structure=7, to=PIERRE)
    name = rights.pseudonym(MARIE)
    with db.atomic():
        rights.forget([marie])
        User.delete().where(User.id == marie.id).execute()
    decided = AuditEvent.get(AuditEvent.event == Event.MEMBERSHIP_DECIDED)
    assert decided.about_account == name and json.loads(decided.details)["requester"] == name
    handed = AuditEvent.get(AuditEvent.event == Event.ROLE_HANDED_OVER)
    assert handed.account == name and handed.about_account == PIERRE  # Pierre's own stays his
    assert (
        not AuditEvent.select()
        .where((AuditEvent.about_account == MARIE) | AuditEvent.details.contains(MARIE))
        .exists()
    )
    assert operations.audit_trail(account=name)  # the pseudonym, pasted in the console, finds them
