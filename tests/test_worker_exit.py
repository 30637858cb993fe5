"""A gunicorn worker that leaves gracefully (``systemctl reload`` or ``stop``,
its max_requests) while its mail thread is delivering: the mail is delivered
and recorded as sent before the worker goes, never left claimed for its lease
then sent a second time."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time

import mailer
from models import OutboxMail, db
from tests.support.app import Client, clean_environment, make_app
from tests.support.gunicorn_server import ROOT, Gunicorn, flask_command, production_environment
from tests.support.signup import Signup
from tests.test_rehearsal import Figures, Sink, sign_up

STOP_WITHIN_SECONDS = 5


class SlowSink(Sink):
    """Takes the mail, then waits before saying « 250 accepted »."""

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(1.5)
        return answer


def test_a_worker_stopping_mid_delivery_records_its_mail_as_sent(tmp_path):
    sink = SlowSink()
    sink.start()
    server = None
    try:
        env = production_environment(tmp_path, FLASK_MAIL_SERVER="127.0.0.1", FLASK_MAIL_PORT=str(sink.port))
        flask_command(env, "init-db")
        server = Gunicorn(env, workers=1, log=tmp_path / "gunicorn.log").start()
        address = sign_up(server.base, 1, 1, Figures())
        deadline = time.monotonic() + 15
        while not sink.messages and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sink.messages, "the activation mail never reached the server"
        server.stop()  # SIGTERM while the server has not answered yet
        server = None
    finally:
        if server is not None:
            server.stop()
        sink.stop()
    with sqlite3.connect(tmp_path / "portail.db") as database:
        rows = database.execute("SELECT recipient, sent_at, attempts FROM outbox_mail").fetchall()
    assert [(recipient, sent is not None) for recipient, sent, _ in rows] == [(address, True)]


def loop_reaching(sink, tmp_path, monkeypatch, interval: int) -> subprocess.Popen:
    """``send-mail --loop`` as systemd runs it, on a database holding one mail
    (an account's activation), once that mail has reached ``sink``."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'portail.db'}")
    app.test_client_class = Client
    Signup(app.test_client(), lambda recipient=None: []).create_account()  # one mail in the outbox
    with app.app_context():
        db.close_all()
    env = production_environment(tmp_path, FLASK_MAIL_SERVER="127.0.0.1", FLASK_MAIL_PORT=str(sink.port))
    loop = subprocess.Popen(  # noqa: S603 - fixed program
        [sys.executable, "-m", "flask", "--app", "app", "send-mail", "--loop", "--interval", str(interval)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not sink.messages and time.monotonic() < deadline and loop.poll() is None:
        time.sleep(0.01)
    assert sink.messages, loop.communicate(timeout=5)[0] if loop.poll() is not None else "no mail"
    return loop


def test_send_mail_loop_stopped_mid_delivery_records_its_mail_as_sent(tmp_path, monkeypatch):
    """``systemctl stop portail-mail`` (or a restart, at each deploy) sends
    SIGTERM: the loop ends after the mail under way, recorded as sent."""
    sink = SlowSink()
    sink.start()
    try:
        loop = loop_reaching(sink, tmp_path, monkeypatch, interval=1)
        loop.send_signal(signal.SIGTERM)  # before the server has answered
        output, _ = loop.communicate(timeout=30)
    finally:
        sink.stop()
    assert loop.returncode == 0, output
    with sqlite3.connect(tmp_path / "portail.db") as database:
        rows = database.execute("SELECT sent_at FROM outbox_mail").fetchall()
    assert len(rows) == 1 and rows[0][0] is not None, output


def test_a_worker_leaving_ends_the_mail_under_way_and_begins_no_other(tmp_path, monkeypatch):
    """A pass of many mails (a backlog after an SMTP outage, a « Tout
    réessayer ») outlasts gunicorn's graceful timeout: waited for whole, the
    worker was killed in the middle of one of them anyway, the very mail
    sent twice that the wait was for. It ends the mail under way, recorded,
    and leaves the rest due, unclaimed, for send-mail or the next worker."""
    clean_environment(monkeypatch)
    sink = SlowSink()
    sink.start()
    try:
        sender = "Portail <ne-pas-repondre@portail.exemple.fr>"
        app = make_app(
            tmp_path,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=sink.port,
            MAIL_SUPPRESS_SEND=False,
            MAIL_DEFAULT_SENDER=sender,
        )
        with app.app_context(), db.connection_context():
            for number in range(4):
                OutboxMail.create(recipient=f"n{number}@exemple.fr", subject="Essai", body_text="Bonjour")
        app.extensions["mail_deliverer"].kick()
        deadline = time.monotonic() + 15
        while not sink.messages and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sink.messages, "the first mail never reached the server"
        started = time.monotonic()
        mailer.finish_delivery(app)  # while the server has not answered yet
        waited = time.monotonic() - started
        time.sleep(0.3)  # a thread still running would begin the next mail now
    finally:
        sink.stop()
    with app.app_context(), db.connection_context():
        rows = list(OutboxMail.select().order_by(OutboxMail.id))
    assert waited < 4.5, f"the worker waited {waited:.1f} s, for the whole pass"  # a pass: 6 s
    assert [row.sent_at is not None for row in rows] == [True, False, False, False]
    assert all(row.claimed_until is None and row.attempts == 0 for row in rows[1:])
    app.extensions["mail_deliverer"].kick()  # a request answered as the worker leaves
    assert not app.extensions["mail_deliverer"].thread.is_alive()


def test_send_mail_loop_stopped_during_its_pause_ends_at_once(tmp_path, monkeypatch):
    """SIGTERM between two rounds: the loop slept on to the end of its
    --interval before it looked, holding ``systemctl stop`` or a deploy's
    restart (and, past TimeoutStopSec, ending in SIGKILL)."""
    sink = Sink()
    sink.start()
    try:
        loop = loop_reaching(sink, tmp_path, monkeypatch, interval=600)
        time.sleep(0.5)  # the mail recorded, the loop in its pause
        started = time.monotonic()
        loop.send_signal(signal.SIGTERM)
        try:
            output, _ = loop.communicate(timeout=STOP_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            loop.kill()
            output, _ = loop.communicate()
    finally:
        sink.stop()
    assert time.monotonic() - started < STOP_WITHIN_SECONDS, output
    assert loop.returncode == 0, output
