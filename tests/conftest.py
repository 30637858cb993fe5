"""Fixtures: an app on a temporary SQLite file per test, a ``client`` (plain
browser, JavaScript off), an ``htmx_client`` (the headers htmx sends), the
outbox as captured mail, and ``signup`` actions."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pg_server
import pytest
from flask.testing import FlaskClient

import migrations
from app import create_app
from models import OutboxMail, User, db, utcnow

CAPTCHA_ANSWER = "K7MX3P"
PASSWORD = "Correct-Cheval-42"
CSRF_IN_PAGE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def clean_environment(monkeypatch) -> None:
    """FLASK_* variables win over the test config: start without them."""
    import os

    for key in list(os.environ):
        if key.startswith("FLASK_"):
            monkeypatch.delenv(key)


def make_app(tmp_path, **overrides):
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        "CAPTCHA_FIXED_ANSWER": CAPTCHA_ANSWER,
        **overrides,
    }
    app = create_app(settings)
    with app.app_context(), db.connection_context():
        migrations.migrate()
    return app


@pytest.fixture
def app(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    return make_app(tmp_path)


class Client(FlaskClient):
    """A test client that sends the form's CSRF token like a browser does."""

    htmx = False

    def open(self, *args, **kwargs):
        if self.htmx:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("HX-Request", "true")
            headers.setdefault("HX-Current-URL", "http://localhost/")
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        page = super().open("/", headers={}).get_data(as_text=True)
        match = CSRF_IN_PAGE.search(page)
        assert match, "no CSRF token in the home page"
        return match.group(1) or match.group(2)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        """POST a form with its CSRF token."""
        return self.post(url, data={"csrf_token": self.csrf_token(), **(data or {})}, **kwargs)


class HtmxClient(Client):
    htmx = True


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
def mailbox(app):
    """The mail the app wrote to its outbox, oldest first."""

    def read(recipient: str | None = None) -> list[OutboxMail]:
        with app.app_context(), db.connection_context():
            query = OutboxMail.select().order_by(OutboxMail.id)
            if recipient:
                query = query.where(OutboxMail.recipient == recipient)
            return list(query)

    return read


def user_row(email: str = "marie.curie@exemple.fr", **fields) -> User:
    """An account written straight to the database (inside an app context),
    for tests about storage rather than the sign-up flow."""
    defaults = {
        "first_name": "Marie",
        "last_name": "Curie",
        "contact_email": email,
        "terms_accepted_at": utcnow(),
    }
    return User.create(email=email, **{**defaults, **fields})


def link_in(mail: OutboxMail) -> str:
    """The path of the first link of this site in a mail's text."""
    match = re.search(r"https?://\S+", mail.body_text)
    assert match, f"no link in {mail.body_text!r}"
    return urlsplit(match.group(0)).path


PERSON = {
    "email": "Marie.Curie@Exemple.fr",
    "email_confirm": "marie.curie@exemple.fr",
    "first_name": "Marie",
    "last_name": "Curie",
    "phone": "01 23 45 67 89",
    "contact_email": "",
    "terms": "y",
}


class Signup:
    def __init__(self, client: Client, mailbox):
        self.client = client
        self.mailbox = mailbox

    def personal_info(self, **changes):
        return self.client.submit("/inscription/", {**PERSON, **changes})

    def captcha(self, answer: str = CAPTCHA_ANSWER):
        page = self.client.get("/inscription/captcha").get_data(as_text=True)
        challenge = re.search(r'name="challenge_id" value="([^"]+)"', page)
        assert challenge, "no captcha challenge on the page"
        return self.client.submit(
            "/inscription/captcha", {"challenge_id": challenge.group(1), "answer": answer}
        )

    def create_account(self, **changes):
        self.personal_info(**changes)
        return self.captcha()

    def activation_path(self, email: str = "marie.curie@exemple.fr") -> str:
        mails = [m for m in self.mailbox(email) if m.subject == "Activez votre compte"]
        assert mails, f"no activation mail for {email}"
        return link_in(mails[-1])

    def activate(self, password: str = PASSWORD, email: str = "marie.curie@exemple.fr"):
        path = self.activation_path(email)
        return self.client.submit(path, {"password": password, "password_confirm": password})


@pytest.fixture
def signup(client, mailbox):
    return Signup(client, mailbox)


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
