"""A client cannot write a line of its own in the logs: control characters in
what it sends (a %0A in a path, decoded; an escape sequence in a header) are
percent-encoded in the app's request log, its other plain-text lines and
gunicorn's access log."""

from __future__ import annotations

import logging
import urllib.request
from urllib.parse import quote

from tests.support.app import clean_environment, production_app_over_http
from tests.support.gunicorn_server import Gunicorn, production_environment

FORGED = "2026-12-01 04:40:00,000 INFO portail.request: POST /administration/comptes/7/supprimer 303"
PATH = "/x" + quote("\n" + FORGED, safe="/")


def forged_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(FORGED[:30])]


def test_attack_a_line_feed_in_a_path_forges_no_request_line(tmp_path, monkeypatch, capsys):
    clean_environment(monkeypatch)
    client = production_app_over_http(tmp_path).test_client()
    assert client.get(PATH).status_code == 404
    assert client.get("/x\u2028" + quote("\r\x1b[2J", safe="")).status_code == 404
    written = capsys.readouterr().err
    assert not forged_lines(written)
    assert "GET /x%0A2026-12-01 04:40:00,000 INFO portail.request: POST" in written
    assert "GET /x%E2%80%A8%0D%1B[2J 404" in written
    assert "\x1b" not in written and "\r" not in written


def test_attack_a_line_feed_in_any_plain_text_message_stays_on_its_line(tmp_path, monkeypatch, capsys):
    clean_environment(monkeypatch)
    production_app_over_http(tmp_path)
    logging.getLogger("portail").warning("Refused: %s", "marie@exemple.fr\n" + FORGED)
    written = capsys.readouterr().err
    assert not forged_lines(written) and "marie@exemple.fr%0A2026-12-01" in written


def test_attack_gunicorns_access_log_and_the_apps_log_write_one_line_each(tmp_path):
    env = production_environment(tmp_path, GUNICORN_ACCESS_LOG="-")
    server = Gunicorn(env, workers=1, log=tmp_path / "gunicorn.log").start()
    try:
        # gunicorn refuses control characters in a header (400): the path is what carries them.
        request = urllib.request.Request(server.base + PATH, headers={"User-Agent": "agent"})  # noqa: S310
        try:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310 - our own server
        except urllib.error.HTTPError as error:
            assert error.code == 404
            error.close()
    finally:
        server.stop()
    log = server.log_text()
    assert not forged_lines(log)
    lines = [line for line in log.splitlines() if "%0A2026-12-01 04:40:00,000" in line]
    assert len(lines) == 2, log  # the app's line and gunicorn's
    assert any('"agent"' in line for line in lines)  # the access log's
