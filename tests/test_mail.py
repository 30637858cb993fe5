"""Mail: the outbox, the development page, and delivery to a real SMTP
server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re
import time

from models import OutboxMail, User, db
from tests.support.app import Client, clean_environment, make_app, production_app
from tests.support.constants import PASSWORD
from tests.support.signup import sign_up
from tests.support.smtp import free_port


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_the_activation_mail_reaches_a_real_smtp_server_and_its_link_works(smtp_app, smtp):
    client = smtp_app.test_client()
    assert sign_up(client).status_code == 303
    [message] = smtp.wait_for(1)
    assert message["To"] == "marie.curie@exemple.fr"
    assert message["Subject"] == "Portail Structures – Activez votre compte"
    assert message.get_body(preferencelist=("html",)) is not None
    link = re.search(r"http://portail\.test(/activation/\S+)", text_of(message)).group(1)
    assert client.get(link).status_code == 200
    response = client.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 303
    with smtp_app.app_context(), db.connection_context():
        assert User.get().status == User.ACTIVE
        assert OutboxMail.get().sent_at is not None


def test_a_refusing_server_delays_the_mail_which_then_arrives_once(smtp_app, smtp):
    smtp.refuse = 1
    client = smtp_app.test_client()
    assert sign_up(client).status_code == 303  # the request never fails
    deadline = time.monotonic() + 10
    with smtp_app.app_context(), db.connection_context():
        while OutboxMail.get().attempts == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        mail = OutboxMail.get()
        assert mail.sent_at is None and mail.attempts == 1
        assert "451" in mail.last_error
        assert mail.next_attempt_at > mail.created_at  # backoff
        assert User.select().count() == 1
    runner = smtp_app.test_cli_runner()
    assert "0 sent" in runner.invoke(args=["send-mail"]).output  # not due yet
    with smtp_app.app_context(), db.connection_context():
        OutboxMail.update(next_attempt_at=OutboxMail.created_at).execute()
    assert "1 sent, 0 failed" in runner.invoke(args=["send-mail"]).output
    assert "0 sent" in runner.invoke(args=["send-mail"]).output
    time.sleep(0.2)
    assert len(smtp.messages) == 1


def test_a_server_that_is_down_loses_neither_account_nor_mail(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SUPPRESS_SEND=False)
    app.test_client_class = Client
    assert sign_up(app.test_client()).status_code == 303
    deadline = time.monotonic() + 10
    with app.app_context(), db.connection_context():
        while OutboxMail.get().attempts == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        mail = OutboxMail.get()
        assert mail.sent_at is None and mail.attempts == 1
        assert User.select().count() == 1


def test_without_a_server_mail_stays_in_the_outbox_printed_and_listed(app, client, mailbox, caplog):
    with caplog.at_level("WARNING"):
        sign_up(client)
    [mail] = mailbox()
    assert mail.sent_at is None
    link = re.search(r"http://localhost(/activation/\S+)", mail.body_text).group(1)
    assert link in caplog.text
    page = client.get("/dev/courriels").get_data(as_text=True)
    assert "Activez votre compte" in page and link in page


def test_the_development_page_does_not_exist_in_production(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = production_app(tmp_path)
    assert app.test_client().get("/dev/courriels").status_code == 404


def test_send_mail_without_a_server_says_so(app):
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code != 0
    assert "FLASK_MAIL_SERVER" in result.output


def test_one_undeliverable_mail_does_not_stop_the_others(smtp_app, smtp):
    import mailer

    with smtp_app.test_request_context(), db.connection_context():
        OutboxMail.create(recipient="jösé@exemple.fr", subject="A", body_text="a")
        OutboxMail.create(recipient="ok@exemple.fr", subject="B", body_text="b")
        assert mailer.deliver_pending() == (1, 1)
        bad, good = OutboxMail.select().order_by(OutboxMail.id)
        assert bad.sent_at is None and bad.attempts == 1 and bad.claimed_until is None
        assert good.sent_at is not None
    assert [m["To"] for m in smtp.wait_for(1)] == ["ok@exemple.fr"]


def test_attack_a_delivery_failure_logs_no_recipient_address(smtp_app, smtp, caplog):
    """A refused delivery logged « Mail 1 to marie.curie@exemple.fr not
    delivered: SMTPRecipientsRefused({'marie.curie@exemple.fr': …}) »: the
    logs are kept and read outside the portal's control. They name the
    outbox mail (its number in « Administration » › « Courriels », which
    shows the address) and the recipient's domain at most."""
    import mailer

    smtp.refuse = 1
    with caplog.at_level("INFO"), smtp_app.test_request_context(), db.connection_context():
        mail = OutboxMail.create(recipient="marie.curie@exemple.fr", subject="A", body_text="a")
        assert mailer.deliver_pending() == (0, 1)
        # The console shows the server's reply as it reads, beside the recipient's own column.
        assert OutboxMail.get_by_id(mail.id).last_error == "SMTPRecipientsRefused: 451 4.3.0 Try again later"
    ours = [r for r in caplog.records if r.name == smtp_app.logger.name or r.name.startswith("portail")]
    logged = "\n".join(record.getMessage() for record in ours)  # not the test SMTP server's own
    assert f"Mail {mail.id} (to @exemple.fr) not delivered" in logged
    assert "451" in logged  # the server's answer, by its code
    assert "marie.curie" not in logged


def test_attack_a_rate_limited_link_logs_no_token(tmp_path, monkeypatch, caplog):
    """The 429's log line gave the path as requested: an activation link's
    token (still valid) went to the logs, which the request log redacts."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CONTACT_LINK="1 per hour")
    app.test_client_class = Client
    client = app.test_client()
    token = "A" * 43
    with caplog.at_level("WARNING"):
        assert client.submit(f"/mon-compte/adresse-de-contact/{token}").status_code == 410
        assert client.submit(f"/mon-compte/adresse-de-contact/{token}").status_code == 429
    assert "Rate limit reached: POST /mon-compte/adresse-de-contact/[redacted]" in caplog.text
    assert token not in caplog.text
