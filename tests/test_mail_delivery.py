"""What reaches a real SMTP server (aiosmtpd on 127.0.0.1): headers that keep
mail out of spam folders, a DKIM signature that verifies, and delivery that a
server which never answers cannot stall."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from functools import partial

import dkim
import pytest

import mailer
from mail_message import sender_domain
from models import OutboxMail, db, utcnow
from tests.support.app import Client, clean_environment, make_app
from tests.support.i18n import speak
from tests.support.signup import sign_up
from tests.support.smtp import free_port


def mail_app(tmp_path, monkeypatch, port, **overrides):
    clean_environment(monkeypatch)
    settings = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_DEFAULT_SENDER": "Portail <ne-pas-repondre@portail.exemple.fr>",
        "EXTERNAL_BASE_URL": "http://portail.test",
    }
    app = make_app(tmp_path, **{**settings, **overrides})
    app.test_client_class = Client
    return app


def test_a_mail_carries_the_headers_that_keep_it_out_of_spam(tmp_path, monkeypatch, smtp):
    app = mail_app(
        tmp_path, monkeypatch, smtp.port, PORTAL_NAME="Portail Test", SUPPORT_EMAIL="support@exemple.fr"
    )
    assert sign_up(app.test_client()).status_code == 303
    [message] = smtp.wait_for(1)
    assert message["Subject"] == "Portail Test – Activez votre compte"
    assert message["Message-ID"].endswith("@portail.exemple.fr>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] == "support@exemple.fr"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    for part in message.iter_parts():
        assert "support@exemple.fr" in part.get_content()
        assert "Portail Test" in part.get_content()


def test_a_mail_says_the_language_it_is_written_in(tmp_path, monkeypatch, smtp):
    """Content-Language: a mail reader (and its screen reader) knows the text
    part's language, which has no lang attribute as the HTML part has."""
    app = mail_app(tmp_path, monkeypatch, smtp.port)
    english, french = app.test_client(), app.test_client()
    speak(english, "en")
    assert sign_up(english, "grace.hopper@exemple.fr").status_code == 303
    assert sign_up(french).status_code == 303
    messages = {message["To"]: message for message in smtp.wait_for(2)}
    assert messages["grace.hopper@exemple.fr"]["Content-Language"] == "en"
    assert "Activate your account" in messages["grace.hopper@exemple.fr"]["Subject"]
    assert messages["marie.curie@exemple.fr"]["Content-Language"] == "fr"


def test_without_a_support_address_there_is_no_reply_to(tmp_path, monkeypatch, smtp):
    app = mail_app(tmp_path, monkeypatch, smtp.port)
    assert sign_up(app.test_client()).status_code == 303
    [message] = smtp.wait_for(1)
    assert message["Reply-To"] is None
    assert message["Subject"].startswith("Portail Structures – ")
    assert "merci de ne pas y répondre" in message.get_body(preferencelist=("plain",)).get_content()


def test_the_message_id_never_names_the_machine_host_header_leak(tmp_path, monkeypatch, smtp):
    app = mail_app(tmp_path, monkeypatch, smtp.port, MAIL_DEFAULT_SENDER="ne-pas-repondre@bücher.example")
    assert sign_up(app.test_client()).status_code == 303
    [message] = smtp.wait_for(1)
    assert message["Message-ID"].endswith("@xn--bcher-kva.example>")
    assert socket.gethostname() not in message["Message-ID"]
    assert sender_domain("Portail <X@Exemple.FR>") == "exemple.fr"


# --- DKIM -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory):
    """An RSA key pair made with openssl; the public key as a DNS TXT record."""
    folder = tmp_path_factory.mktemp("dkim")
    private = folder / "dkim.pem"
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make a DKIM key"
    run = partial(subprocess.run, check=True, capture_output=True)
    run([openssl, "genrsa", "-out", str(private), "2048"])  # noqa: S603 - fixed arguments
    der = run([openssl, "rsa", "-in", str(private), "-pubout", "-outform", "DER"]).stdout  # noqa: S603
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    return private, record


def resolver(records: dict[bytes, bytes]):
    """dkimpy's DNS lookup, answered locally: never the network."""

    def dnsfunc(name, timeout=5):
        return records.get(name)

    return dnsfunc


def test_a_signed_mail_verifies_against_the_published_key(tmp_path, monkeypatch, smtp, dkim_key):
    private, record = dkim_key
    app = mail_app(tmp_path, monkeypatch, smtp.port, DKIM_PRIVATE_KEY_FILE=str(private), DKIM_SELECTOR="2026")
    assert sign_up(app.test_client()).status_code == 303
    smtp.wait_for(1)
    [raw] = smtp.raw
    signature = message_from_bytes(raw, policy=policy.default)["DKIM-Signature"]
    assert "d=portail.exemple.fr" in signature and "s=2026" in signature
    dnsfunc = resolver({b"2026._domainkey.portail.exemple.fr.": record})
    assert dkim.verify(raw, dnsfunc=dnsfunc)


def test_a_forged_subject_or_body_fails_dkim_tampering(tmp_path, monkeypatch, smtp, dkim_key):
    private, record = dkim_key
    app = mail_app(
        tmp_path,
        monkeypatch,
        smtp.port,
        DKIM_PRIVATE_KEY_FILE=str(private),
        DKIM_SELECTOR="mail",
        DKIM_DOMAIN="exemple.fr",
    )
    assert sign_up(app.test_client()).status_code == 303
    smtp.wait_for(1)
    [raw] = smtp.raw
    dnsfunc = resolver({b"mail._domainkey.exemple.fr.": record})
    assert dkim.verify(raw, dnsfunc=dnsfunc)
    forged_subject = raw.replace(b"Activez votre compte", b"Payez votre facture", 1)
    assert forged_subject != raw and not dkim.verify(forged_subject, dnsfunc=dnsfunc)
    forged_link = raw.replace(b"http://portail.test/", b"http://evil.test/", 1)
    assert forged_link != raw and not dkim.verify(forged_link, dnsfunc=dnsfunc)
    # Another domain's key does not vouch for this one.
    assert not dkim.verify(raw, dnsfunc=resolver({}))


def test_a_dkim_key_without_a_selector_or_file_refuses_to_start(tmp_path, monkeypatch, dkim_key):
    private, _ = dkim_key
    with pytest.raises(RuntimeError, match="FLASK_DKIM_SELECTOR"):
        mail_app(tmp_path, monkeypatch, free_port(), DKIM_PRIVATE_KEY_FILE=str(private))
    with pytest.raises(RuntimeError, match="FLASK_DKIM_PRIVATE_KEY_FILE"):
        missing = str(tmp_path / "none.pem")
        mail_app(tmp_path, monkeypatch, free_port(), DKIM_PRIVATE_KEY_FILE=missing, DKIM_SELECTOR="s")


# --- A server that accepts and never answers (an SMTP tarpit) ---------------


@pytest.fixture
def tarpit():
    """A TCP server that accepts every connection and never says a word."""
    yield from tarpit_server(drip=False)


@pytest.fixture
def drip_tarpit():
    """A TCP server that answers a byte at a time, never a whole line: no
    read ever waits long enough to time out."""
    yield from tarpit_server(drip=True)


def tarpit_server(drip: bool):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.05)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            held.append(connection)
            if drip:
                threading.Thread(target=trickle, args=(connection,), daemon=True).start()

    def trickle(connection):
        while not stop.is_set():
            try:
                connection.sendall(b"2")
            except OSError:
                return
            time.sleep(0.1)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], held
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def accepted(held: list, seconds: float = 10) -> list:
    """The tarpit's connections, once its accepting thread (starved on a
    loaded machine) has taken the one the command opened."""
    deadline = time.monotonic() + seconds
    while not held and time.monotonic() < deadline:
        time.sleep(0.05)
    return held


def queue_mail(app, count: int) -> None:
    with app.app_context(), db.connection_context():
        for number in range(count):
            OutboxMail.create(
                recipient=f"p{number}@exemple.fr", subject="S", body_text="t", body_html="<p>t</p>"
            )


def test_send_mail_returns_and_records_a_failure_with_an_smtp_tarpit(tmp_path, monkeypatch, tarpit):
    port, held = tarpit
    app = mail_app(tmp_path, monkeypatch, port, MAIL_TIMEOUT=0.5)
    queue_mail(app, 3)
    results = []

    def send_mail():
        results.append(app.test_cli_runner().invoke(args=["send-mail"]))

    command = threading.Thread(target=send_mail, daemon=True)
    command.start()
    command.join(timeout=60)
    assert not command.is_alive(), "send-mail hung on a server that never answers"
    assert accepted(held), "the command never reached the tarpit"
    assert "0 sent, 1 failed" in results[0].output
    # The connection that timed out is closed at once, not left to the collector.
    held[0].settimeout(5)
    assert held[0].recv(1) == b""
    with app.app_context(), db.connection_context():
        first, *others = OutboxMail.select().order_by(OutboxMail.id)
        assert first.attempts == 1 and first.sent_at is None and first.claimed_until is None
        assert "timed out" in first.last_error
        assert first.next_attempt_at >= utcnow() + timedelta(seconds=20)  # backoff
        # The pass stopped there: the others did not each wait for a timeout.
        assert [(m.attempts, m.claimed_until) for m in others] == [(0, None), (0, None)]
    command = threading.Thread(target=send_mail, daemon=True)
    command.start()
    command.join(timeout=60)
    assert not command.is_alive() and "0 sent, 1 failed" in results[1].output


def test_send_mail_exits_1_while_the_server_is_down_and_0_once_it_is_back(tmp_path, monkeypatch, smtp):
    """Run once (cron, a check by hand), a server that cannot be reached is
    an error the caller sees; a mail the server refuses is the mail's."""
    down = mail_app(tmp_path, monkeypatch, free_port())
    queue_mail(down, 3)
    result = down.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.splitlines()[0] == "0 sent, 1 failed (will be retried)."
    assert result.output.splitlines()[-1].startswith("Error: The mail server cannot be reached (")
    assert "the mail stays in the outbox" in result.output
    back = mail_app(tmp_path, monkeypatch, smtp.port)
    smtp.refuse = 1  # the server answers, and turns the next mail away for now
    result = back.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert result.output == "1 sent, 1 failed (will be retried).\n"
    assert len(smtp.wait_for(1)) == 1


def test_the_web_worker_runs_one_delivery_thread_against_an_smtp_tarpit(tmp_path, monkeypatch, tarpit):
    port, held = tarpit
    app = mail_app(tmp_path, monkeypatch, port, MAIL_TIMEOUT=0.5)
    before = set(threading.enumerate())

    def delivery_threads():
        return [t for t in threading.enumerate() if t.name == "mail-delivery" and t not in before]

    queue_mail(app, 4)
    # The first pass is held until every kick is in: all of them land while
    # it runs, however slow the machine (else a late kick starts a third pass).
    kicks_done, passes, real_deliver_due = threading.Event(), [], mailer.deliver_due

    def deliver_due(*args, **kwargs):
        passes.append(1)
        if len(passes) == 1:
            kicks_done.wait(60)
        return real_deliver_due(*args, **kwargs)

    monkeypatch.setattr(mailer, "deliver_due", deliver_due)
    most = 0
    for _ in range(20):
        mailer.kick(app, [1])
        most = max(most, len(delivery_threads()))
        time.sleep(0.01)
    kicks_done.set()
    assert most == 1
    # The thread goes round once more for the kicks it missed, then ends.
    deliverer = app.extensions["mail_deliverer"]
    deadline = time.monotonic() + 60
    while delivery_threads() and time.monotonic() < deadline:
        most = max(most, len(delivery_threads()))
        time.sleep(0.05)
    assert not delivery_threads() and not deliverer.running and most == 1
    with app.app_context(), db.connection_context():
        attempts = [m.attempts for m in OutboxMail.select().order_by(OutboxMail.id)]
    assert len(passes) == 2  # the pass under way, then once more for the kicks it missed
    assert attempts[:2] == [1, 1] and sum(attempts) == 2  # one failure each
    # Sign-ups meanwhile are answered at once: delivery is never in the request.
    client = app.test_client()
    assert sign_up(client).status_code == 303


def test_send_mail_returns_from_a_server_that_drips_its_greeting_slow_drip_tarpit(
    tmp_path, monkeypatch, drip_tarpit
):
    port, held = drip_tarpit
    # 1 s between two bytes at most: the drip (a byte every 0.1 s) keeps under it even
    # when a loaded machine is slow to run its thread; the whole delivery is cut at 3 s.
    app = mail_app(tmp_path, monkeypatch, port, MAIL_TIMEOUT=1)
    queue_mail(app, 1)
    results = []
    command = threading.Thread(
        target=lambda: results.append(app.test_cli_runner().invoke(args=["send-mail"])), daemon=True
    )
    command.start()
    command.join(timeout=60)
    assert not command.is_alive(), "send-mail hung on a server that drips its answer"
    assert "0 sent, 1 failed" in results[0].output, results[0].output
    assert accepted(held), "the command never reached the tarpit"
    with app.app_context(), db.connection_context():
        mail = OutboxMail.get()
        assert mail.attempts == 1 and "delivery took longer than 3 s" in mail.last_error


@pytest.mark.parametrize("timeout", [0, -1, "soon"])
def test_a_mail_timeout_that_is_not_a_positive_number_refuses_to_start(tmp_path, monkeypatch, timeout):
    with pytest.raises(RuntimeError, match="FLASK_MAIL_TIMEOUT"):
        mail_app(tmp_path, monkeypatch, free_port(), MAIL_TIMEOUT=timeout)


def test_a_sender_without_a_domain_of_its_own_is_warned_about(tmp_path, monkeypatch, caplog):
    with caplog.at_level("WARNING"):
        mail_app(tmp_path, monkeypatch, free_port(), MAIL_DEFAULT_SENDER="ne-pas-repondre@localhost")
    assert "FLASK_MAIL_DEFAULT_SENDER has no domain of its own" in caplog.text


def test_send_mail_loop_outlives_a_database_gone_for_a_while(tmp_path, monkeypatch, smtp):
    """The database goes away between two rounds (a restart, a file moved):
    the loop says so in one line and delivers once it is back, without a
    traceback and without systemd having to restart it."""
    import cli

    app = mail_app(tmp_path, monkeypatch, smtp.port)
    database, away = tmp_path / "test.db", tmp_path / "away.db"
    rounds = []

    def sleep(seconds):
        rounds.append(seconds)
        if len(rounds) == 1:
            db.close_idle()  # the pool's connections to it go with it
            database.rename(away)  # the next round finds a database without tables
        elif len(rounds) == 2:  # back, with a mail to send
            db.close_idle()
            for stray in tmp_path.glob("test.db*"):
                stray.unlink()
            away.rename(database)
            queue_mail(app, 1)
        elif len(rounds) == 3:
            raise SystemExit(0)  # stopped, as systemd does

    monkeypatch.setattr(cli, "_pause", lambda _stopping, seconds: sleep(seconds) or False)
    result = app.test_cli_runner().invoke(args=["send-mail", "--loop", "--interval", "0.01"])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Database unusable: ") and lines[0].endswith("; trying again in 0.01 s.")
    assert lines[1:] == ["1 sent, 0 failed (will be retried)."]
    assert len(smtp.wait_for(1)) == 1


def test_send_mail_once_on_a_database_gone_says_so_in_one_line(tmp_path, monkeypatch, smtp):
    app = mail_app(tmp_path, monkeypatch, smtp.port)
    database = tmp_path / "test.db"
    with app.app_context():
        db.close_idle()
    for stray in tmp_path.glob("test.db*"):
        stray.unlink()
    database.write_bytes(b"not a database" * 100)
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: Database unusable: ")
