"""Fixtures: an app on a temporary SQLite file per test, a ``client`` (plain
browser, JavaScript off), an ``htmx_client`` (the headers htmx sends), the
outbox as captured mail, ``signup`` actions, an active ``account``; and the
same app on a throwaway PostgreSQL server (``pg_app`` and its companions).

What the fixtures are made of lives in ``tests.support``."""

from __future__ import annotations

import threading

import pytest

import logs
from tests.support import pg_server
from tests.support.app import (
    Client,
    HtmxClient,
    clean_environment,
    make_app,
    outbox,
    production_app_over_http,
)
from tests.support.ast_lock import one_ast_parse_at_a_time
from tests.support.constants import EMAIL
from tests.support.operators import grant
from tests.support.second_factor import enrol_totp
from tests.support.signup import Signup
from tests.support.smtp import Mailbox, smtp_server
from tests.support.structures import sign_up, structure_manager, structure_with_a_member

one_ast_parse_at_a_time()  # see tests.support.ast_lock


@pytest.fixture(autouse=True)
def no_delivery_thread_outlives_its_test():
    """A web worker's mail-delivery thread ends with the test that started it.

    Left running, it would wake in the next test, whose app points the shared
    database at another file, and fail there (« no such table »); Python 3.11
    then formats that failure's traceback with ``ast.parse`` while the next
    test's app compiles its URL rules with ``ast.parse`` too, and the two
    collide (« AST constructor recursion depth mismatch »). A delivery is
    capped at three mail timeouts, so the wait is bounded."""
    yield
    for thread in threading.enumerate():
        if thread.name == "mail-delivery":
            thread.join(timeout=60)
            assert not thread.is_alive(), "a mail-delivery thread still runs 60 s after its test"


@pytest.fixture(autouse=True)
def no_log_handler_outlives_its_test():
    """A production app (FLASK_LOG_JSON) puts the portal's handler on the
    shared loggers, writing to whatever sys.stderr is: left there, a later
    test's command (click's runner) would read its log lines as its output."""
    yield
    logs.unconfigure()


@pytest.fixture
def app(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def htmx_client(app):
    app.test_client_class = HtmxClient
    return app.test_client()


@pytest.fixture(params=["page", "htmx"])
def any_client(request, app):
    """Runs a test twice: as a full page (JavaScript off) and under htmx."""
    app.test_client_class = HtmxClient if request.param == "htmx" else Client
    return app.test_client()


@pytest.fixture
def json_app(tmp_path, monkeypatch):
    """A production app over HTTP logging each request as JSON (FLASK_LOG_JSON)."""
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_LOG_JSON", "true")
    return production_app_over_http(tmp_path, LOG_REQUESTS=True)


@pytest.fixture
def mailbox(app):
    """The mail the app wrote to its outbox, oldest first: ``mailbox(recipient=None)``."""
    return lambda recipient=None: outbox(app, recipient)


@pytest.fixture
def signup(client, mailbox):
    return Signup(client, mailbox)


@pytest.fixture
def operator(any_client, mailbox, app):
    """Marie Curie, an operator (granted by the command), signed in on a
    full-page or an htmx client, her authenticator app enrolled in this
    session (operators need a second factor to reach « Administration »)."""
    client = sign_up(any_client, mailbox)
    grant(app, EMAIL)
    enrol_totp(client)
    return client


@pytest.fixture
def marie(any_client, mailbox):
    """Marie Curie, signed in (no structure yet), on a full-page or an htmx client."""
    return sign_up(any_client, mailbox)


@pytest.fixture
def account(signup) -> str:
    """An active account (PERSON, PASSWORD), signed out again; its address."""
    signup.create_account()
    signup.activate()
    signup.client.submit("/deconnexion")
    return EMAIL


# -- the same app on PostgreSQL -------------------------------------------------------


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for this session (this xdist worker), removed at the end."""
    server = problem = None
    try:
        server = pg_server.PostgresServer().start()
    except pg_server.ServerUnavailable as error:
        problem = str(error)
    if server is None:
        pytest.fail(f"The PostgreSQL tests need a PostgreSQL server. {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scheme() -> str:
    """The URL scheme; ``postgresql+pool`` (a connection pool per process) by parametrize."""
    return "postgresql"


@pytest.fixture
def database_url(postgres, scheme) -> str:
    return postgres.url(postgres.create_database()).replace("postgresql://", f"{scheme}://", 1)


@pytest.fixture
def pg_app(tmp_path, monkeypatch, database_url):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, DATABASE_URL=database_url)
    app.test_client_class = Client
    return app


@pytest.fixture
def pg_mailbox(pg_app):
    return lambda recipient=None: outbox(pg_app, recipient)


@pytest.fixture
def pg_client(pg_app) -> Client:
    return pg_app.test_client()


@pytest.fixture
def pg_signup(pg_client, pg_mailbox) -> Signup:
    return Signup(pg_client, pg_mailbox)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_app(request):
    """Runs a test twice: the app on SQLite, then on PostgreSQL (plain clients)."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_app")
    app = request.getfixturevalue("app")
    app.test_client_class = Client
    return app


@pytest.fixture
def smtp():
    with smtp_server(Mailbox()) as handler:
        yield handler


@pytest.fixture
def smtp_app(tmp_path, monkeypatch, smtp):
    clean_environment(monkeypatch)
    app = make_app(
        tmp_path,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.port,
        MAIL_SUPPRESS_SEND=False,
        MAIL_DEFAULT_SENDER="Portail <portail@exemple.fr>",
        EXTERNAL_BASE_URL="http://portail.test",
    )
    app.test_client_class = Client
    return app


def pytest_terminal_summary(terminalreporter):
    """Figures a test recorded (``record_property("figures", text)``), shown
    after the run even with -q and xdist."""
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == "figures":
                terminalreporter.write_sep("-", f"figures of {report.nodeid}")
                terminalreporter.write_line(str(value))


@pytest.fixture
def structure_id(app, mailbox) -> int:
    """« Ateliers Curie », created by Pierre; Lucie is an active utilisateur of it."""
    return structure_with_a_member(app, mailbox)


@pytest.fixture
def manager(app, mailbox):
    """Marie, gestionnaire principal of « Ateliers Curie », on her own
    full-page browser. A module that needs her otherwise (another client, the
    structure's id too) defines a ``manager`` of its own."""
    return structure_manager(app, mailbox)
