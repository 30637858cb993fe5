"""Mail the outbox gives up: a recipient the mail server refuses for good
(5xx), or a mail still undelivered past ``MAIL_GIVE_UP_HOURS``. Until then a
failure is tried again with backoff; given up, it is tried no more by itself,
listed apart in « Courriels », retried when an operator says so, purged like
sent mail. Delivery goes to a real SMTP server (aiosmtpd). Attacks are named
after what they try."""

from __future__ import annotations

import logging
import re
import smtplib
import threading
from datetime import timedelta

import pytest

import mailer
import operations
from models import OutboxMail, db, utcnow
from tests.support.app import failed_mail, query
from tests.support.responses import follow, shown

GONE = "parti@exemple.fr"


def write(app, recipient: str = GONE, age: timedelta = timedelta(0)) -> int:
    def create() -> int:
        mail = OutboxMail.create(recipient=recipient, subject="Essai", body_text="Bonjour")
        OutboxMail.update(created_at=utcnow() - age).where(OutboxMail.id == mail.id).execute()
        return mail.id

    return query(app, create)


def send_mail(app) -> str:
    return app.test_cli_runner().invoke(args=["send-mail"]).output


def row(app, mail_id: int) -> OutboxMail:
    return query(app, lambda: OutboxMail.get_by_id(mail_id))


def due_again(app) -> None:
    query(app, lambda: OutboxMail.update(next_attempt_at=utcnow() - timedelta(seconds=1)).execute())


def test_a_recipient_refused_for_good_is_given_up_at_once(smtp_app, smtp, caplog):
    smtp.unknown.add(GONE)
    mail_id = write(smtp_app)
    with caplog.at_level(logging.WARNING):
        assert "0 sent, 1 failed" in send_mail(smtp_app)
    mail = row(smtp_app, mail_id)
    assert mail.given_up_at is not None and mail.sent_at is None and mail.attempts == 1
    assert "550" in mail.last_error
    logged = [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()]
    reason = "SMTPRecipientsRefused (550); given up after 1 attempt(s)"
    assert logged == [f"Mail {mail_id} (to @exemple.fr) not delivered: {reason}"]


def test_attack_a_bounced_address_does_not_make_the_portal_hammer_the_server(smtp_app, smtp):
    """Sign-ups to addresses that do not exist would each be retried hourly
    for ever: given up, they are asked for once."""
    smtp.unknown.add(GONE)
    write(smtp_app)
    send_mail(smtp_app)
    for _ in range(3):
        due_again(smtp_app)
        assert "0 sent, 0 failed" in send_mail(smtp_app)
    assert smtp.tried == [GONE]


def test_a_refusal_for_now_is_tried_again(smtp_app, smtp):
    smtp.refuse = 1
    mail_id = write(smtp_app)
    assert "0 sent, 1 failed" in send_mail(smtp_app)
    assert row(smtp_app, mail_id).given_up_at is None
    due_again(smtp_app)
    assert "1 sent, 0 failed" in send_mail(smtp_app)
    assert len(smtp.wait_for(1)) == 1


def test_a_mail_still_undelivered_past_its_window_is_given_up(smtp_app, smtp):
    assert smtp_app.config["MAIL_GIVE_UP_HOURS"] == 120  # Postfix's five days
    young, old = (
        write(smtp_app, "a@exemple.fr", timedelta(hours=119)),
        write(smtp_app, "b@exemple.fr", timedelta(hours=121)),
    )
    smtp.refuse = 2
    assert "0 sent, 2 failed" in send_mail(smtp_app)
    assert row(smtp_app, young).given_up_at is None
    assert row(smtp_app, old).given_up_at is not None


def test_attack_a_sender_the_server_refuses_gives_no_mail_up(smtp_app, smtp):
    """A refusal of the portal's own sender (its setting, not the mail's)
    stops every mail alike: none is given up, all go once it is mended."""
    smtp.refuse_senders = True
    mail_id = write(smtp_app)
    assert "0 sent, 1 failed" in send_mail(smtp_app)
    mail = row(smtp_app, mail_id)
    assert mail.given_up_at is None and "553" in mail.last_error
    smtp.refuse_senders = False
    due_again(smtp_app)
    assert "1 sent, 0 failed" in send_mail(smtp_app)


def test_purge_deletes_given_up_mail_after_the_retention_and_keeps_mail_still_tried(smtp_app, smtp):
    smtp.unknown.update({GONE, "b@exemple.fr"})
    given_up = write(smtp_app)
    send_mail(smtp_app)
    tried = write(smtp_app, "c@exemple.fr", timedelta(days=4))  # undelivered for 4 days, never given up
    smtp.refuse = 1
    send_mail(smtp_app)
    long_ago = utcnow() - timedelta(days=31)
    query(
        smtp_app, lambda: OutboxMail.update(given_up_at=long_ago).where(OutboxMail.id == given_up).execute()
    )
    query(smtp_app, lambda: OutboxMail.update(created_at=long_ago).where(OutboxMail.id == tried).execute())
    output = smtp_app.test_cli_runner().invoke(args=["purge"]).output
    assert "1 mail(s) sent or given up more than 30 days ago" in output
    kept = query(smtp_app, lambda: list(OutboxMail.select()))
    assert [(m.id, m.sent_at, m.given_up_at) for m in kept] == [(tried, None, None)]


def test_metrics_count_given_up_mail_apart_from_the_pending(smtp_app, smtp):
    smtp.unknown.add(GONE)
    write(smtp_app)
    send_mail(smtp_app)
    response = smtp_app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    text = response.get_data(as_text=True)
    assert "portail_outbox_given_up 1.0" in text
    assert "portail_outbox_pending 0.0" in text and "portail_outbox_oldest_pending_seconds 0.0" in text


def given_up_mail(app) -> int:
    return failed_mail(app, GONE, "SMTPRecipientsRefused: 550 5.1.1 User unknown", for_good=True)


def test_the_console_lists_given_up_mail_apart_and_retries_it(app, operator):
    mail_id = given_up_mail(app)
    text = shown(operator, "/administration/courriels")
    assert "En échec (0)" in text and "Abandonnés (1)" in text
    part = re.search(r"Abandonnés \(1\)</h2>(.*?)(<h2>|$)", text, re.S).group(1)
    assert "ne sont plus renvoyés automatiquement" in part and "remis en 5 jours" in part
    assert f'<tr id="mail-{mail_id}">' in part and "550 5.1.1 User unknown" in part
    assert f'action="/administration/courriels/{mail_id}/reessayer"' in part

    follow(operator, operator.submit(f"/administration/courriels/{mail_id}/reessayer"))
    mail = row(app, mail_id)
    assert mail.given_up_at is None and mail.next_attempt_at <= utcnow()
    assert "Abandonnés (0)" in shown(operator, "/administration/courriels")


def test_retrying_everything_includes_given_up_mail(app, operator):
    mail_id = given_up_mail(app)
    follow(operator, operator.submit("/administration/courriels/reessayer"))
    assert row(app, mail_id).given_up_at is None


@pytest.mark.parametrize("window", ["-1", "0", "cinq jours"])
def test_a_give_up_window_that_is_not_a_number_refuses_to_start(tmp_path, monkeypatch, window):
    from config import SettingError
    from tests.support.app import clean_environment, make_app

    clean_environment(monkeypatch)
    with pytest.raises(SettingError, match="FLASK_MAIL_GIVE_UP_HOURS"):
        make_app(tmp_path, MAIL_GIVE_UP_HOURS=window)


def refuse_every_recipient_with(smtp, reply: str) -> None:
    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        smtp.tried.append(address)
        return reply

    smtp.handle_RCPT = handle_RCPT


@pytest.mark.parametrize(
    "reply",
    [
        "554 5.7.1 <x@exemple.fr>: Relay access denied",
        "553 5.7.1 <portail@exemple.fr>: Sender address rejected: not owned by user portail",
        "550 Mailbox unavailable",  # no enhanced code: nothing says whose fault it is
        "552 5.2.2 Mailbox full",
        "552 5.3.4 Message too big for this recipient",  # RFC 5321: a 552 to RCPT is a 452
    ],
)
def test_attack_a_refusal_of_the_portal_s_setting_gives_no_mail_up(smtp_app, smtp, reply):
    """Postfix turns its sender and relay refusals into replies to RCPT (its
    default smtpd_delay_reject): a portal set up wrong would give every
    mail up at once, links included, and vanish from the pending count.
    Only the enhanced codes that name the recipient or the content do."""
    refuse_every_recipient_with(smtp, reply)
    ids = [write(smtp_app, f"p{n}@exemple.fr") for n in range(3)]
    assert "0 sent, 3 failed" in send_mail(smtp_app)
    assert [row(smtp_app, mail_id).given_up_at for mail_id in ids] == [None] * 3


@pytest.mark.parametrize(
    ("error", "for_good"),
    [
        (smtplib.SMTPRecipientsRefused({GONE: (550, b"5.1.1 User unknown")}), True),
        (smtplib.SMTPRecipientsRefused({GONE: (550, b"5.1.10 Null MX")}), True),
        (smtplib.SMTPRecipientsRefused({GONE: (550, b"5.2.1 Mailbox disabled")}), True),
        (smtplib.SMTPRecipientsRefused({GONE: (450, b"4.1.1 Try later")}), False),
        (smtplib.SMTPDataError(554, b"5.6.0 Content refused"), True),
        (smtplib.SMTPDataError(552, b"5.3.4 Message too big"), True),
        (smtplib.SMTPDataError(550, b"5.7.26 Unauthenticated email is not accepted (DMARC)"), False),
        (smtplib.SMTPSenderRefused(553, b"5.1.8 Bad sender domain", "portail@exemple.fr"), False),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), False),
        (ConnectionRefusedError(), False),
    ],
)
def test_only_the_recipient_or_the_content_refused_for_good_gives_a_mail_up(error, for_good):
    assert mailer.refused_for_good(error) is for_good


def test_a_worker_with_an_older_list_cannot_take_a_mail_another_gave_up(any_database_app):
    """Delivery threads of several workers and ``send-mail --loop`` read the
    due mail, then take each: one read before another worker gave a mail up
    must neither try it again nor undo the give-up."""

    def race() -> tuple[bool, OutboxMail]:
        mail_id = OutboxMail.create(recipient=GONE, subject="Essai", body_text="x").id
        (mine,) = OutboxMail.due()
        theirs = OutboxMail.get_by_id(mail_id)
        assert theirs.claim(timedelta(minutes=5))
        assert theirs.mark_failed("SMTPRecipientsRefused: 550 5.1.1", for_good=True)
        taken = mine.claim(timedelta(minutes=5))
        undone = mine.mark_failed("451 4.3.0 Try again later", window=timedelta(hours=120))
        return taken or undone, OutboxMail.get_by_id(mail_id)

    acted, mail = query(any_database_app, race)
    assert not acted
    assert mail.given_up_at is not None and mail.attempts == 1 and "550" in mail.last_error


def test_a_worker_whose_lease_ran_out_does_not_overwrite_the_next_one(any_database_app):
    def race() -> OutboxMail:
        mail = OutboxMail.create(recipient=GONE, subject="Essai", body_text="x")
        assert mail.claim(timedelta(seconds=-1))  # a lease already over: another worker may take it
        other = OutboxMail.get_by_id(mail.id)
        assert other.claim(timedelta(minutes=5))
        other.mark_sent()
        assert mail.mark_failed("TimeoutError") is False
        return OutboxMail.get_by_id(mail.id)

    mail = query(any_database_app, race)
    assert mail.sent_at is not None and mail.last_error is None and mail.attempts == 1


def test_a_failure_is_recorded_on_both_databases(any_database_app):
    """The claim written, then matched to record the failure: the same
    moment, read back as each database keeps it."""

    def fail() -> tuple[bool, OutboxMail]:
        mail = OutboxMail.create(recipient=GONE, subject="Essai", body_text="x")
        assert mail.claim(timedelta(minutes=5))
        recorded = mail.mark_failed("451 4.3.0 Try again later", window=timedelta(hours=120))
        return recorded, OutboxMail.get_by_id(mail.id)

    given_up, mail = query(any_database_app, fail)
    assert given_up is False
    assert (mail.attempts, mail.claimed_until, mail.given_up_at) == (1, None, None)
    assert "451" in mail.last_error and mail.next_attempt_at > utcnow()


def test_an_operator_s_retry_starts_the_window_again(smtp_app, smtp):
    """Past its window, a mail retried by an operator would be given up again
    by one greylisting reply: the window counts from the retry."""
    mail_id = write(smtp_app, age=timedelta(hours=121))
    smtp.refuse = 1
    send_mail(smtp_app)
    assert row(smtp_app, mail_id).given_up_at is not None
    query(smtp_app, lambda: OutboxMail.retry_now(mail_id))
    smtp.refuse = 1
    send_mail(smtp_app)
    assert row(smtp_app, mail_id).given_up_at is None
    due_again(smtp_app)
    assert "1 sent" in send_mail(smtp_app)


def test_my_data_says_a_mail_was_given_up(app, client, mailbox):
    from tests.support.structures import sign_up

    sign_up(client, mailbox)
    query(app, lambda: OutboxMail.update(sent_at=None, given_up_at=utcnow()).execute())
    page = shown(client, "/mon-compte/donnees")
    assert "Non remis : abandonné le" in page and "Pas encore envoyé" not in page
    data = client.get("/mon-compte/donnees.json").get_json()
    assert data["courriels"] and all(mail["abandonne_le"].endswith("Z") for mail in data["courriels"])


@pytest.mark.parametrize(
    "reply",
    [
        # Postfix's reject_unlisted_sender, answered to the recipient (smtpd_delay_reject=yes).
        b"5.1.0 <portail@exemple.fr>: Sender address rejected: User unknown in virtual mailbox table",
        b"5.1.7 <portail@exemple.fr>: Sender address rejected: undeliverable address",
        b"5.1.8 <portail@exemple.fr>: Sender address rejected: Domain not found",
    ],
)
def test_attack_a_sender_refusal_answered_to_the_recipient_gives_no_mail_up(reply):
    """X.1.0, X.1.7 and X.1.8 are about the sender's address: a wrong
    MAIL_DEFAULT_SENDER would give every mail up, activation links too."""
    assert mailer.refused_for_good(smtplib.SMTPRecipientsRefused({GONE: (550, reply)})) is False


def test_a_mail_sent_after_another_worker_gave_it_up_is_sent_not_given_up(any_database_app):
    """A worker's lease runs out mid-send; another takes the mail and is
    refused for good; then the first send succeeds: it was delivered."""

    def race() -> OutboxMail:
        mail = OutboxMail.create(recipient=GONE, subject="Essai", body_text="x")
        assert mail.claim(timedelta(seconds=-1))
        other = OutboxMail.get_by_id(mail.id)
        assert other.claim(timedelta(minutes=5))
        assert other.mark_failed("SMTPRecipientsRefused: 550 5.1.1", for_good=True)
        mail.mark_sent()
        return OutboxMail.get_by_id(mail.id)

    mail = query(any_database_app, race)
    assert mail.sent_at is not None and mail.given_up_at is None


def test_an_operator_s_retry_between_a_worker_s_listing_and_its_claim_is_honoured(any_database_app):
    def race() -> tuple[bool, OutboxMail]:
        mail = OutboxMail.create(recipient=GONE, subject="Essai", body_text="x")
        long_ago = utcnow() - timedelta(hours=121)
        OutboxMail.update(created_at=long_ago, attempts=3).where(OutboxMail.id == mail.id).execute()
        (mine,) = OutboxMail.due()
        assert OutboxMail.retry_now(mail.id) == 1  # « Tout réessayer maintenant »: the window starts again
        assert mine.claim(timedelta(minutes=5))
        given_up = mine.mark_failed("451 4.7.1 Greylisted", window=timedelta(hours=120))
        return given_up, OutboxMail.get_by_id(mail.id)

    given_up, mail = query(any_database_app, race)
    assert given_up is False and mail.given_up_at is None and mail.attempts == 4


def test_attempts_made_by_another_worker_since_the_listing_are_counted(any_database_app):
    def race() -> int:
        mail = OutboxMail.create(recipient=GONE, subject="Essai", body_text="x")
        (mine,) = OutboxMail.due()
        other = OutboxMail.get_by_id(mail.id)
        assert other.claim(timedelta(minutes=5))
        assert other.mark_failed("451 4.3.0 Try again later") is False
        OutboxMail.update(next_attempt_at=utcnow() - timedelta(seconds=1)).execute()  # its backoff over
        assert mine.claim(timedelta(minutes=5))
        mine.mark_failed("451 4.3.0 Try again later")
        return OutboxMail.get_by_id(mail.id).attempts

    assert query(any_database_app, race) == 2


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            smtplib.SMTPRecipientsRefused({GONE: (550, b"5.1.1 User unknown")}),
            "SMTPRecipientsRefused: 550 5.1.1 User unknown",
        ),
        (smtplib.SMTPDataError(554, b"5.6.0 Content refused"), "SMTPDataError: 554 5.6.0 Content refused"),
        (
            smtplib.SMTPSenderRefused(553, b"5.7.1 Not yours", "p@exemple.fr"),
            "SMTPSenderRefused: 553 5.7.1 Not yours",
        ),
        (TimeoutError("timed out"), "TimeoutError: timed out"),
        (ConnectionRefusedError(), "ConnectionRefusedError"),
    ],
)
def test_the_console_reads_the_server_s_reply_as_it_was_said(error, shown):
    assert mailer.described(error) == shown


def test_a_mail_delivered_while_the_console_lists_the_outbox_is_listed_once(any_database_app, monkeypatch):
    """The worker delivers a mail between the console's query of what waits
    and its query of what was sent (another connection, committed): the
    page reads one moment, so the mail is listed once, as waiting (the W3C
    checker caught it twice, under two rows with one id)."""
    mail_id = write(any_database_app)
    listed = OutboxMail.select
    calls = []

    def deliver_from_another_connection() -> None:
        with db.connection_context():
            OutboxMail.update(sent_at=utcnow()).where(OutboxMail.id == mail_id).execute()

    def select(*fields):
        calls.append(fields)
        if len(calls) == 5:  # after the pending mail was listed and counted
            worker = threading.Thread(target=deliver_from_another_connection)
            worker.start()
            worker.join()
        return listed(*fields)

    monkeypatch.setattr(OutboxMail, "select", select)
    parts = query(any_database_app, lambda: operations.outbox(7))
    monkeypatch.setattr(OutboxMail, "select", listed)
    listed_ids = [mail.id for rows, _ in parts.values() for mail in rows]
    assert listed_ids == [mail_id] and parts["pending"][1] == 1 and parts["sent"][1] == 0
    assert row(any_database_app, mail_id).sent_at is not None  # the delivery did land
