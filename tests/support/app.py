"""An app on a temporary SQLite file, and test clients that behave like a
browser: the form's CSRF token sent along, the htmx headers when asked."""

from __future__ import annotations

import os
import re

from flask import has_request_context
from flask.testing import FlaskClient

import migrations
from app import create_app
from migrations import v001_accounts
from models import OutboxMail, User, db, utcnow
from tests.support.constants import CAPTCHA_ANSWER

CSRF_IN_PAGE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def clean_environment(monkeypatch) -> None:
    """FLASK_* variables win over the test config: start without them."""
    for key in list(os.environ):
        if key.startswith("FLASK_"):
            monkeypatch.delenv(key)


def operator_texts(folder, monkeypatch):
    """An operator's own terms (Markdown) and legal notice (HTML), in French,
    set as FLASK_TERMS_FILE and FLASK_LEGAL_FILE; returns the notice's path."""
    terms = folder / "conditions.md"
    terms.write_text("# Nos conditions\n\nUn **texte** de l'opérateur.\n", encoding="utf-8")
    legal = folder / "mentions.html"
    legal.write_text("<h2>Éditeur</h2><p>Exemple SA, 1 rue de la Paix.</p>", encoding="utf-8")
    monkeypatch.setenv("FLASK_TERMS_FILE", str(terms))
    monkeypatch.setenv("FLASK_LEGAL_FILE", str(legal))
    return legal


def make_app(tmp_path, *, at_version: int | None = None, **overrides):
    """An app on a SQLite file in ``tmp_path`` (or ``DATABASE_URL``), its schema
    made by the real migration steps: the latest, or ``at_version``."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        "CAPTCHA_FIXED_ANSWER": CAPTCHA_ANSWER,
        **overrides,
    }
    app = create_app(settings)
    with app.app_context(), db.connection_context():
        migrations.migrate(at_version)
    return app


def old_account(app, email: str) -> None:
    """An account and a reset link written as the first version stored them
    (its frozen models): the rows an upgrade must keep."""
    with app.app_context(), db.connection_context():
        user = v001_accounts.User.create(
            email=email, first_name="Marie", last_name="Curie", contact_email=email,
            terms_accepted_at=utcnow(), status="pending", created_at=utcnow(),
        )  # fmt: skip
        v001_accounts.Token.create(
            user=user, purpose="reset", token_hash="h", created_at=utcnow(), expires_at=utcnow()
        )


def production_app(tmp_path, **overrides):
    """The app as it runs in production (not TESTING), on a SQLite file
    left empty: only what production refuses or sets differently is tested."""
    settings = {
        "SECRET_KEY": "production-secret-0123456789abcdef",
        "EXTERNAL_BASE_URL": "https://portail.exemple.fr",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        **overrides,
    }
    return create_app(settings)


def production_app_over_http(tmp_path, **settings):
    """Production mode (neither TESTING nor debug), on a SQLite file made by
    the migrations, served over plain HTTP (its cookies without Secure), and
    clients that send the CSRF token."""
    app = make_app(
        tmp_path,
        TESTING=False,
        SECRET_KEY="production-secret-0123456789abcdef",
        CAPTCHA_FIXED_ANSWER=None,
        EXTERNAL_BASE_URL="https://portail.example.fr",
        **{"PREFERRED_URL_SCHEME": "http", "SESSION_COOKIE_SECURE": False, "SESSION_COOKIE_NAME": "session"}
        | settings,
    )
    app.test_client_class = Client
    return app


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


def query(app, fn):
    """``fn()`` inside the app's context, with a database connection."""
    with app.app_context(), db.connection_context():
        return fn()


def outbox(app, recipient: str | None = None) -> list[OutboxMail]:
    """The mail the app wrote to its outbox (to ``recipient``), oldest first."""

    def read():
        rows = OutboxMail.select().order_by(OutboxMail.id)
        if recipient:
            rows = rows.where(OutboxMail.recipient == recipient)
        return list(rows)

    return query(app, read)


def failed_mail(
    app, recipient: str = "a@exemple.fr", error: str = "550 Mailbox unavailable", for_good: bool = False
) -> int:
    """A mail « Essai » the server refused (``for_good``: given up); its id."""

    def fail_one() -> int:
        mail = OutboxMail.create(recipient=recipient, subject="Essai", body_text="x")
        mail.mark_failed(error, for_good=for_good)
        return mail.id

    return query(app, fail_one)


def user_fields(email: str = "marie.curie@exemple.fr", **fields) -> dict:
    """What an account needs (names, contact address, terms accepted now),
    with ``fields`` over it."""
    defaults = {
        "first_name": "Marie",
        "last_name": "Curie",
        "contact_email": email,
        "terms_accepted_at": utcnow(),
    }
    return {"email": email, **defaults, **fields}


def user_row(email: str = "marie.curie@exemple.fr", **fields) -> User:
    """An account written straight to the database (inside an app context),
    for tests about storage rather than the sign-up flow."""
    return User.create(**user_fields(email, **fields))


def recorded_statements(monkeypatch, params: bool = False, requests_only: bool = False) -> list:
    """Every SQL statement the app's database runs from now on, as sent (with
    its parameters, as ``(sql, params)``, when ``params``; those a request
    runs only, not the test's own reads, when ``requests_only``): the list
    fills as the test goes."""
    statements: list = []
    original = db.obj.execute_sql

    def execute_sql(sql, values=None, *args, **kwargs):
        if not requests_only or has_request_context():
            statements.append((sql, tuple(values or ())) if params else sql)
        return original(sql, values, *args, **kwargs)

    monkeypatch.setattr(db.obj, "execute_sql", execute_sql)
    return statements


def limited_app(tmp_path, monkeypatch, **limits):
    """An app with its rate limits on (the tests' default is off), ``limits``
    (``RATELIMIT_…`` settings) set, and clients that send the CSRF token."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, **limits)
    app.test_client_class = Client
    return app
