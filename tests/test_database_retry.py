"""Transactions that PostgreSQL rolls back because they crossed another
(deadlock 40P01, serialization failure 40001) run again as a whole
(``database.transaction``), then answer 503 with Retry-After: never a 500,
never a mail twice, nothing typed lost.

The policy is tested with the driver's own errors, on SQLite and on the
throwaway PostgreSQL server; a real deadlock between two requests is made on
that server."""

from __future__ import annotations

import logging
import threading
import time

import psycopg2
import psycopg2.errors
import pytest
from peewee import IntegrityError, OperationalError, ProgrammingError

import database
import mailer
import rights
from models import AuditEvent, Membership, OutboxMail, User, db
from tests.support.app import query, user_row
from tests.support.concurrency import at_once
from tests.support.constants import EMAIL
from tests.support.operators import account_id, grant
from tests.support.responses import text_of
from tests.support.second_factor import enrol_totp
from tests.support.signup import PERSON
from tests.support.structures import LUCIE, PIERRE, SIRET_NORMALISED, create_structure, new_client

RETRY_LOG = "portail.database"


def crossed(code: str = "40P01") -> OperationalError:
    """The error Peewee raises when PostgreSQL rolls a transaction back:
    psycopg2's exception of that SQLSTATE inside, as ``orig`` (its code, which
    only the server's answer sets, given here)."""
    kind = type(code, (psycopg2.errors.lookup(code),), {"pgcode": code, "__module__": "psycopg2.errors"})
    error = OperationalError("deadlock detected")
    error.orig = kind("deadlock detected")
    return error


class Flaky:
    """A use case that fails ``failures`` times with ``error``, then queues a
    mail and succeeds; counts its runs."""

    def __init__(self, failures: int, error: Exception | None = None):
        self.failures, self.error, self.runs = failures, error or crossed(), 0

    def __call__(self, user: User) -> str:
        self.runs += 1
        mailer.queue(
            user.email, "Objet", "account_disabled", reader=user, user=user, login_url="https://x.test/"
        )
        if self.runs <= self.failures:
            raise self.error
        return "done"


@pytest.fixture
def no_pause(monkeypatch):
    pauses = []
    monkeypatch.setattr(database.time, "sleep", pauses.append)
    return pauses


@pytest.fixture
def marie_row(app):
    with app.app_context(), db.connection_context():
        return user_row(EMAIL, status=User.ACTIVE)


def run_in_request(app, function, *args):
    with app.test_request_context("/"), db.connection_context():
        try:
            return function(*args)
        finally:
            mailer.g.pop("queued_mail", None)


# -- the policy --------------------------------------------------------------------------------


def test_a_crossed_transaction_runs_again_and_its_mail_is_queued_once(app, marie_row, no_pause, caplog):
    flaky = Flaky(failures=2)
    with app.test_request_context("/"), db.connection_context(), caplog.at_level(logging.WARNING, RETRY_LOG):
        assert database.transaction(flaky)(marie_row) == "done"
        # What the request will deliver: the mail of the run that committed only.
        queued = list(mailer.g.queued_mail)
        assert [m.id for m in OutboxMail.select()] == queued and len(queued) == 1

    assert flaky.runs == 3
    assert len(no_pause) == 2 and all(0 < pause <= 0.2 for pause in no_pause)
    assert no_pause[1] > database.RETRY_BASE_SECONDS / 2 - 1e-9  # the second pause's range is doubled
    lines = [r.getMessage() for r in caplog.records if r.name == RETRY_LOG]
    assert len(lines) == 2  # one line per retry
    assert "40P01" in lines[0] and "retry 1 of 3" in lines[0] and "Flaky" in lines[0]
    assert "marie" not in " ".join(lines).lower()  # no personal data


def test_a_serialization_failure_runs_again_too(app, marie_row, no_pause):
    flaky = Flaky(failures=1, error=crossed("40001"))
    assert run_in_request(app, database.transaction(flaky), marie_row) == "done"
    assert flaky.runs == 2
    assert query(app, OutboxMail.select().count) == 1


def test_it_gives_up_after_the_retries_and_nothing_is_left(app, marie_row, no_pause, caplog):
    app.config["DATABASE_TRANSACTION_RETRIES"] = 2
    flaky = Flaky(failures=10)
    with caplog.at_level(logging.WARNING, RETRY_LOG), pytest.raises(OperationalError):
        run_in_request(app, database.transaction(flaky), marie_row)
    assert flaky.runs == 3 and len(no_pause) == 2
    assert query(app, OutboxMail.select().count) == 0  # every run rolled back


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("UNIQUE constraint failed"),  # the code's own answer (an existing row)
        ProgrammingError("no such column"),  # a programming error
        OperationalError("database is locked"),  # SQLite busy: it waited busy_timeout already
        crossed("55P03"),  # lock_timeout: an outage, 503 at once
        crossed("23505"),
    ],
)
def test_an_error_that_is_not_a_crossing_is_not_retried(app, marie_row, no_pause, error):
    flaky = Flaky(failures=1, error=error)
    with pytest.raises(type(error)):
        run_in_request(app, database.transaction(flaky), marie_row)
    assert flaky.runs == 1 and no_pause == []
    assert query(app, OutboxMail.select().count) == 0


def test_a_transaction_inside_another_is_retried_by_the_outermost_only(app, marie_row, no_pause):
    inner = Flaky(failures=1)
    outer_runs = []

    @database.transaction
    def outer(user):
        outer_runs.append(1)
        return database.transaction(inner)(user)

    assert run_in_request(app, outer, marie_row) == "done"
    assert (len(outer_runs), inner.runs) == (2, 2)
    assert query(app, OutboxMail.select().count) == 1


def test_the_request_gives_up_with_503_and_keeps_the_page(any_client, marie, monkeypatch, no_pause):
    """Still crossed after the retries: 503 with Retry-After; under htmx the
    notice goes above the page, which keeps what was typed."""
    import structures

    attempts = []

    def always_crossed(*_args, **_kwargs):
        attempts.append(1)
        raise crossed()

    monkeypatch.setattr(structures.Structure, "register", always_crossed)
    form = {
        "identifier_type": "siret",
        "identifier": SIRET_NORMALISED,
        "company_name": "Ateliers Curie",
        "address": "1 rue",
        "city": "Paris",
        "postal_code": "75002",
        "country": "FR",
    }
    response = any_client.submit("/structure/nouvelle", form)

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert len(attempts) == 1 + database.TRANSACTION_RETRIES
    text = text_of(response)
    assert "Le service est momentanément indisponible" in text
    if any_client.htmx:
        assert response.headers["HX-Retarget"] == "#flashes"
        assert "Ateliers Curie" not in text  # the page is not replaced: the fields stay as typed
    else:
        assert "Service indisponible" in text


# -- a real deadlock between two requests on PostgreSQL ----------------------------------------


def wait_for_a_lock_wait(database_url: str, seconds: float = 20) -> None:
    """Until another session of this database waits for a lock (the
    deletion's DELETE, for the row the cancel holds): read from the server,
    not guessed with a pause a slow machine could outrun."""
    connection = psycopg2.connect("postgresql://" + database_url.split("://", 1)[1])
    connection.autocommit = True
    try:
        deadline = time.monotonic() + seconds
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.01)
    finally:
        connection.close()
    raise AssertionError("the deletion never waited for the cancel's lock")


def test_a_deadlock_between_two_requests_is_run_again(pg_app, pg_mailbox, database_url, monkeypatch, caplog):
    """Marie cancels her pending request while an operator deletes her
    account (at her request). The cancel locks her membership's row, then
    records the event about her account (whose key the audit row references:
    a share lock on her account's row); the deletion locks her account's row
    (DELETE), then deletes her memberships with it: each waits for the
    other, and PostgreSQL rolls back the deletion. Run again, it finds the
    request cancelled and deletes the account: both people get their answer."""
    pierre = new_client(pg_app, pg_mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    marie = new_client(pg_app, pg_mailbox, PERSON)
    form = {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    asked = marie.submit("/structure/rattachement/demande", form)
    assert asked.status_code == 303, text_of(asked)
    operator = new_client(pg_app, pg_mailbox, LUCIE)
    grant(pg_app, LUCIE["email"])
    enrol_totp(operator)
    marie_id = account_id(pg_app, PERSON["email"])
    membership_id = query(pg_app, lambda: Membership.get(Membership.user == marie_id).id)
    mails_before = len(pg_mailbox())

    # The two requests step in turn: the cancel's first lock, then the deletion's.
    cancel_locked, deletion_locking = threading.Event(), threading.Event()
    original_cancel, original_forget = Membership.cancel, rights.forget

    def cancel(self):
        # PostgreSQL rolls back the session whose deadlock check runs first,
        # deadlock_timeout after it began to wait: the deletion's, waiting
        # first, unless a loaded machine delays its check past the cancel's.
        # The cancel's own check put off, the deletion is always the one run again.
        db.execute_sql("SET LOCAL deadlock_timeout = '60s'")
        done = original_cancel(self)
        cancel_locked.set()
        assert deletion_locking.wait(20)
        wait_for_a_lock_wait(database_url)  # the deletion's DELETE waits for this row
        return done

    cancel_answered, forgotten = threading.Event(), []

    def forget(users):
        # The first run crosses the cancel; the run again starts once the cancel
        # has answered. On a slow machine a run again 30 ms later could take the
        # account's row before the cancel's share lock and cross it a second time.
        assert (cancel_answered if forgotten else cancel_locked).wait(20)
        forgotten.append(users)
        original_forget(users)
        deletion_locking.set()

    def cancel_request():
        try:
            return marie.submit(f"/espace/demandes/{membership_id}/annuler")
        finally:
            cancel_answered.set()

    monkeypatch.setattr(Membership, "cancel", cancel)
    monkeypatch.setattr(rights, "forget", forget)
    # The deletion now locks the account's memberships first (a hand-over
    # under way, below), which orders these two as well: without that lock,
    # they cross, and the retry is what this test is about.
    monkeypatch.setattr(Membership, "hold_of", classmethod(lambda cls, user: None))

    with caplog.at_level(logging.WARNING, RETRY_LOG):
        cancelled, deleted = at_once(
            [
                cancel_request,
                lambda: operator.submit(f"/administration/comptes/{marie_id}/supprimer", {"confirm": "yes"}),
            ]
        )

    assert cancelled.status_code == 303, text_of(cancelled)
    assert deleted.status_code == 303, text_of(deleted)
    retried = [r.getMessage() for r in caplog.records if r.name == RETRY_LOG]
    assert len(retried) == 1 and "40P01" in retried[0] and "delete_account" in retried[0]
    assert len(forgotten) == 2
    with pg_app.app_context(), db.connection_context():
        assert User.get_or_none(User.id == marie_id) is None
        assert not Membership.select().where(Membership.id == membership_id).exists()
        events = [e.event for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert events.count("admin.account_deleted") == 1 and events.count("membership.cancelled") == 1
    # The deletion queues no mail; the cancel's (if any) once, whatever the retry.
    assert len(pg_mailbox()) - mails_before <= 1


def test_attack_crossings_provoked_on_purpose_hold_a_worker_a_bounded_time(app, marie_row, no_pause):
    """Someone who makes requests cross on purpose (two tabs, a script) gets
    each one run at most 1 + DATABASE_TRANSACTION_RETRIES times, with less
    than 0.35 s of pauses in all: then 503, never a loop."""
    flaky = Flaky(failures=1000)
    with pytest.raises(OperationalError):
        run_in_request(app, database.transaction(flaky), marie_row)
    assert flaky.runs == 1 + database.TRANSACTION_RETRIES
    assert sum(no_pause) < 0.35

    app.config["DATABASE_TRANSACTION_RETRIES"] = 0  # the setting turns it off
    flaky = Flaky(failures=1000)
    with pytest.raises(OperationalError):
        run_in_request(app, database.transaction(flaky), marie_row)
    assert flaky.runs == 1


def test_a_hand_over_crossing_the_successor_s_deletion_never_leaves_the_structure_without_manager(
    pg_app, pg_mailbox, monkeypatch
):
    """Pierre hands the role to Lucie while an operator deletes her account.
    The deletion read her roles before the hand-over committed (none), then
    its DELETE waited for her row and took the role with her: « Ateliers
    Curie » was left without a gestionnaire principal, though it has a member
    who could be one. The deletion now waits for the hand-over before it reads
    her roles: she manages the structure, which needs her role handed over first."""
    from models import Structure, utcnow

    pierre = new_client(pg_app, pg_mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303

    def add_lucie() -> int:
        lucie = user_row(LUCIE["email"], first_name="Lucie", last_name="Martin", status=User.ACTIVE)
        Membership.create(
            user=lucie, structure=Structure.get(), status=Membership.ACTIVE, decided_at=utcnow()
        )
        return Structure.get().id

    structure_id = query(pg_app, add_lucie)
    operator = new_client(pg_app, pg_mailbox, PERSON)
    grant(pg_app, PERSON["email"])
    enrol_totp(operator)
    lucie_id = account_id(pg_app, LUCIE["email"])
    lucie_row = query(pg_app, lambda: Membership.get(Membership.user == lucie_id).id)

    import operations

    promoted, deletion_reading = threading.Event(), threading.Event()
    original_hand_over, original_delete = Structure.hand_over, operations.delete_account

    def hand_over(self, manager, membership_id):
        done = original_hand_over(self, manager, membership_id)  # her row updated, not committed
        promoted.set()
        assert deletion_reading.wait(20)
        time.sleep(0.3)  # the deletion is waiting for her row by now
        return done

    def delete_account(by, user):
        deletion_reading.set()
        return original_delete(by, user)

    def deletion():
        assert promoted.wait(20)
        return operator.submit(f"/administration/comptes/{lucie_id}/supprimer", {"confirm": "yes"})

    monkeypatch.setattr(Structure, "hand_over", hand_over)
    monkeypatch.setattr(operations, "delete_account", delete_account)
    handed, deleted = at_once(
        [
            lambda: pierre.submit(
                f"/structure/{structure_id}/gestionnaire", {"member": lucie_row, "confirm": "y"}
            ),
            deletion,
        ]
    )
    assert handed.status_code in (200, 303), text_of(handed)
    assert deleted.status_code in (200, 303, 409, 422), text_of(deleted)
    with pg_app.app_context(), db.connection_context():
        managers = list(
            Membership.select().where(
                (Membership.structure == structure_id) & (Membership.role == Membership.MANAGER)
            )
        )
        assert User.get_or_none(User.id == lucie_id) is not None  # refused: the structure needs her
        assert [m.user_id for m in managers] == [lucie_id]


@pytest.mark.parametrize("use_case", ["profile", "structure"])
def test_attack_an_edit_run_again_is_not_taken_for_a_change_made_meanwhile(app, monkeypatch, use_case):
    """A compare-and-set edit copies what it stored onto its object; rolled
    back by a crossing at a later statement, the run again compared the row
    with those new values, matched nothing, and told the person someone else
    had changed the data: the edit was lost. The objects are put back first."""
    import accounts
    import audit
    import operations
    from models import Structure, utcnow

    record, crossings = audit.record, []

    def crossing_once(*args, **kwargs):
        if not crossings:
            crossings.append(1)
            raise crossed()
        return record(*args, **kwargs)

    with app.test_request_context(), db.connection_context():
        marie = user_row(EMAIL, first_name="Marie", last_name="Curie", status=User.ACTIVE, is_operator=True)
        structure = Structure.create(
            identifier_type="siret", identifier="73282932000074", company_name="Ateliers Curie",
            address="1 rue", city="Paris", postal_code="75001", country="FR", created_by=marie,
            created_at=utcnow(), updated_at=utcnow(),
        )  # fmt: skip
        monkeypatch.setattr(audit, "record", crossing_once)
        if use_case == "profile":
            fresh = User.get_by_id(marie.id)
            data = {name: getattr(fresh, name) for name in User.PROFILE}
            accounts.update_profile(fresh, {**data, "first_name": "Mariette"})
            assert User.get_by_id(marie.id).first_name == "Mariette"
        else:
            fresh = Structure.get_by_id(structure.id)
            operations.update_structure(marie, fresh, {"city": "Lyon"})
            assert Structure.get_by_id(structure.id).city == "Lyon"
    assert crossings == [1]


def test_a_sign_up_run_again_still_sends_its_one_allowed_mail(tmp_path, monkeypatch, no_pause):
    """The captcha's transaction counts the activation mail against its
    address's limit: run again after PostgreSQL rolled it back, it asks for
    the same mail, which its own first count must not hold back (one mail
    allowed: none would leave), nor spend twice."""
    import accounts
    from tests.support.app import limited_app, outbox
    from tests.support.signup import ACTIVATION_SUBJECTS, Signup

    app = limited_app(tmp_path, monkeypatch, RATELIMIT_CAPTCHA_EMAIL="1 per minute")
    real_sign_up, runs = accounts.sign_up, []

    def crossed_once(*args, **kwargs):
        runs.append(1)
        if len(runs) == 1:
            raise crossed()
        return real_sign_up(*args, **kwargs)

    monkeypatch.setattr(accounts, "sign_up", crossed_once)
    client = app.test_client()
    Signup(client, None).create_account()
    assert len(runs) == 2
    mails = [mail for mail in outbox(app, EMAIL) if mail.subject in ACTIVATION_SUBJECTS]
    assert len(mails) == 1
