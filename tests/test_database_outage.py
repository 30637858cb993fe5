"""PostgreSQL going away while the portal runs (a restart for an upgrade, a
full disk): every page that needs it answers 503 « Service indisponible »
with Retry-After, never a 500, the log says so in one line per request, and
the portal answers again as soon as the database does, without a restart.

The outage is one database of the session's server made unreachable:
new connections refused, the pooled ones cut."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import pytest
from peewee import SqliteDatabase

import database
from models import db
from tests.support.app import Client, HtmxClient, clean_environment, make_app
from tests.support.i18n import visible_text
from tests.support.responses import text_of
from tests.support.sqlite_lock import write_lock

UNAVAILABLE = "Le service est momentanément indisponible"


@contextlib.contextmanager
def database_down(postgres, database_url: str):
    name = database_url.rsplit("/", 1)[1]
    connection = postgres.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        connection.close()


@pytest.fixture
def signed_in(pg_signup):
    pg_signup.create_account()
    assert pg_signup.activate().status_code == 303
    assert pg_signup.client.get("/structure/").status_code == 200
    return pg_signup.client


def test_a_database_outage_answers_503_to_a_signed_in_person_and_recovers(
    postgres, database_url, pg_app, signed_in, caplog
):
    with database_down(postgres, database_url), caplog.at_level(logging.WARNING):
        for path in ("/structure/", "/mon-compte/", "/"):
            response = signed_in.get(path)
            assert response.status_code == 503, path
            assert response.headers["Retry-After"].isdigit()
            assert UNAVAILABLE in text_of(response)
        assert pg_app.test_client().get("/readyz").status_code == 503
    problems = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert problems and all(record.exc_info is None for record in problems)  # one line each
    assert all("Database unavailable" in record.getMessage() for record in problems)
    assert signed_in.get("/structure/").status_code == 200  # back without a restart


def test_a_form_posted_during_an_outage_answers_503_and_keeps_its_page(postgres, database_url, pg_app):
    """Without JavaScript the browser shows the 503 page (Back returns to the
    form); under htmx the notice goes into the flash region and the form,
    with what was typed, stays in place to be sent again."""
    plain = pg_app.test_client()
    htmx = HtmxClient(pg_app, pg_app.response_class, use_cookies=True)
    token = plain.csrf_token(), htmx.csrf_token()
    with database_down(postgres, database_url):
        data = {"email": "marie.curie@exemple.fr", "password": "Pas-le-bon-1234"}
        response = plain.post("/connexion", data={"csrf_token": token[0], **data})
        assert response.status_code == 503 and UNAVAILABLE in text_of(response)
        response = htmx.post("/connexion", data={"csrf_token": token[1], **data})
        assert response.status_code == 503
        assert response.headers["HX-Retarget"] == "#flashes"
        assert response.headers["HX-Reswap"] == "innerHTML"
        assert UNAVAILABLE in text_of(response) and "<h1" not in text_of(response)


def test_a_lock_held_past_the_timeout_answers_503_and_frees_the_worker(
    postgres, database_url, pg_app, tmp_path
):
    """A migration or a SIRENE switch queued behind the nightly pg_dump holds
    an exclusive lock request on its table for as long as the dump runs:
    every request reading that table would wait behind it, one sync worker
    after another, until the whole portal hung. A request waits
    DATABASE_LOCK_TIMEOUT_MS (5 s by default, 0.5 s here), then answers 503."""
    app = make_app(tmp_path / "quick", DATABASE_URL=database_url, DATABASE_LOCK_TIMEOUT_MS=500)
    app.test_client_class = Client
    client = app.test_client()
    token = client.csrf_token()
    holder = postgres.connect(database_url.rsplit("/", 1)[1])
    holder.autocommit = False
    answers: list = []
    with holder.cursor() as cursor:
        cursor.execute('LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE')
    form = {"csrf_token": token, "email": "marie.curie@exemple.fr", "password": "Pas-le-bon-1234"}
    started = time.monotonic()
    request = threading.Thread(target=lambda: answers.append(client.post("/connexion", data=form)))
    request.start()
    request.join(timeout=10)
    waited = time.monotonic() - started
    holder.rollback()  # the lock goes: a request still waiting ends now
    request.join(timeout=30)
    holder.close()
    assert waited < 10, "the request waited for the lock as long as it was held"
    assert waited >= 0.5 and answers[0].status_code == 503
    assert answers[0].headers["Retry-After"].isdigit()
    assert client.post("/connexion", data=form).status_code == 422  # the lock gone, the page answers


# -- SQLite, and the errors that are no outage -----------------------------------------------

PROGRAMMING_ERRORS = {
    "no-such-column": lambda: db.execute_sql('SELECT no_such_column FROM "user"'),
    "syntax": lambda: db.execute_sql("SELEC 1"),
    "unbound": lambda: SqliteDatabase(None).connect(),  # Peewee's own InterfaceError
}


@pytest.mark.parametrize("mistake", sorted(PROGRAMMING_ERRORS))
def test_a_programming_error_in_a_query_is_a_500_with_its_traceback_not_an_outage(
    app, any_client, caplog, mistake
):
    """Peewee raises OperationalError for « no such column » or a syntax error
    as for a database gone away: answered 503 « réessayez » with one line in
    the log, such a bug would hide from whoever reads the log for tracebacks,
    and the visitor would retry for ever."""
    app.add_url_rule("/bogue", "bogue", PROGRAMMING_ERRORS[mistake])
    with caplog.at_level(logging.ERROR):
        response = any_client.get("/bogue")
    assert response.status_code == 500
    # What the page says (<body> carries the outage notice for app.js, unsaid).
    said = visible_text(text_of(response), "fr")
    assert "Retry-After" not in response.headers and UNAVAILABLE not in said
    assert "Erreur du service" in said
    if any_client.htmx:
        assert response.headers["HX-Retarget"] == "#main"
    problems = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record.getMessage() for record in problems] == ["Unhandled error"]
    assert problems[0].exc_info is not None


@pytest.mark.parametrize("client_class", [Client, HtmxClient], ids=["page", "htmx"])
def test_a_sqlite_write_lock_held_past_the_busy_timeout_answers_503(tmp_path, monkeypatch, client_class):
    """SQLite as well as PostgreSQL: a backup or a SIRENE import holding the
    write lock longer than busy_timeout is a moment's unavailability."""
    clean_environment(monkeypatch)
    monkeypatch.setitem(database.SQLITE_PRAGMAS, "busy_timeout", 200)
    app = make_app(tmp_path)
    app.test_client_class = client_class
    client = app.test_client()
    token = client.csrf_token()
    form = {"csrf_token": token, "email": "marie.curie@exemple.fr", "password": "Pas-le-bon-1234"}
    with write_lock(app.config["DATABASE_URL"]):
        response = client.post("/connexion", data=form)
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert UNAVAILABLE in text_of(response)
    if client.htmx:
        assert response.headers["HX-Retarget"] == "#flashes"
    assert client.post("/connexion", data=form).status_code == 422
