"""Mail the outbox gives up: a recipient the mail server refuses for good
(5xx), or a mail still undelivered past ``MAIL_GIVE_UP_HOURS``. Until then a
failure is tried again with backoff; given up, it is tried no more by itself,
listed apart in « Courriels », retried when an operator says so, purged like
sent mail. Delivery goes to a real SMTP server (aiosmtpd). Attacks are named
after what they try."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from models import OutboxMail, utcnow
from tests.support.app import query
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
    smtp.unknown.add(GONE)
    given_up, tried = write(smtp_app), write(smtp_app, "b@exemple.fr", timedelta(days=40))
    smtp.refuse_senders = False
    send_mail(smtp_app)
    query(
        smtp_app,
        lambda: (
            OutboxMail.update(given_up_at=utcnow() - timedelta(days=31))
            .where(OutboxMail.id == given_up)
            .execute()
        ),
    )
    output = smtp_app.test_cli_runner().invoke(args=["purge"]).output
    assert "1 mail(s) sent or given up more than 30 days ago" in output
    assert query(smtp_app, lambda: [m.id for m in OutboxMail.select()]) == [tried]


def test_metrics_count_given_up_mail_apart_from_the_pending(smtp_app, smtp):
    smtp.unknown.add(GONE)
    write(smtp_app)
    send_mail(smtp_app)
    response = smtp_app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    text = response.get_data(as_text=True)
    assert "portail_outbox_given_up 1.0" in text
    assert "portail_outbox_pending 0.0" in text and "portail_outbox_oldest_pending_seconds 0.0" in text


def given_up_mail(app) -> int:
    def give_up() -> int:
        mail = OutboxMail.create(recipient=GONE, subject="Essai", body_text="x")
        mail.mark_failed("SMTPRecipientsRefused: 550 5.1.1 User unknown", for_good=True)
        return mail.id

    return query(app, give_up)


def test_the_console_lists_given_up_mail_apart_and_retries_it(app, operator):
    mail_id = given_up_mail(app)
    text = shown(operator, "/administration/courriels")
    assert "En échec (0)" in text and "Abandonnés (1)" in text
    part = re.search(r"Abandonnés \(1\)</h2>(.*?)(<h2>|$)", text, re.S).group(1)
    assert "ne sont plus réessayés d'eux-mêmes" in part and "120 heures" in part
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


@pytest.mark.parametrize("window", ["-1", "cinq jours"])
def test_a_give_up_window_that_is_not_a_number_refuses_to_start(tmp_path, monkeypatch, window):
    from config import SettingError
    from tests.support.app import clean_environment, make_app

    clean_environment(monkeypatch)
    with pytest.raises(SettingError, match="FLASK_MAIL_GIVE_UP_HOURS"):
        make_app(tmp_path, MAIL_GIVE_UP_HOURS=window)
