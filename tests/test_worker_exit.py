"""A gunicorn worker that leaves gracefully (``systemctl reload`` or ``stop``,
its max_requests) while its mail thread is delivering: the mail is delivered
and recorded as sent before the worker goes, never left claimed for its lease
then sent a second time."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from tests.support.gunicorn_server import Gunicorn, flask_command, production_environment
from tests.test_rehearsal import Figures, Sink, sign_up


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
