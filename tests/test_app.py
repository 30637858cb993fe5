"""Configuration, storage, headers and error pages."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

import migrations
from app import create_app
from models import SchemaVersion, db
from tests.support.app import CSRF_IN_PAGE, Client, clean_environment, make_app, production_app, user_row
from tests.support.signup import Signup
from views import PORTAL_ANSWER

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    with pytest.raises(RuntimeError, match="FLASK_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    monkeypatch.setenv("FLASK_SECRET_KEY", "12345678901234567890123456789012")
    monkeypatch.setenv("FLASK_EXTERNAL_BASE_URL", "https://portail.exemple.fr")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["SECRET_KEY"] == "12345678901234567890123456789012"  # a string, not a number


def test_production_refuses_to_start_without_a_base_for_mail_links(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    settings = {"SECRET_KEY": "s" * 32, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    with pytest.raises(RuntimeError, match="FLASK_EXTERNAL_BASE_URL"):
        create_app(settings)
    assert create_app({**settings, "TRUSTED_HOSTS": ["portail.exemple.fr"]})


def test_a_forged_host_header_never_reaches_a_mail_link(tmp_path, monkeypatch):
    """Reset-link poisoning: the attacker asks for the victim's reset from their own host."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, EXTERNAL_BASE_URL="https://portail.exemple.fr", RESEND_COOLDOWN_SECONDS=0)
    app.test_client_class = Client
    Signup(app.test_client(), lambda r=None: read_outbox(app, r)).create_account()
    attacker = app.test_client()
    evil = "http://evil.example"
    token = CSRF_IN_PAGE.search(attacker.get("/", base_url=evil).get_data(as_text=True))
    response = attacker.post(
        "/inscription/renvoyer",
        data={"email": "marie.curie@exemple.fr", "csrf_token": token.group(1) or token.group(2)},
        base_url=evil,
    )
    assert response.status_code == 303
    mails = read_outbox(app)
    assert len(mails) == 2
    for mail in mails:
        assert "evil.example" not in mail.body_text
        assert "https://portail.exemple.fr/activation/" in mail.body_text


def read_outbox(app, recipient=None):
    from models import OutboxMail

    with app.app_context(), db.connection_context():
        return list(OutboxMail.select().order_by(OutboxMail.id))


def test_the_captcha_test_hook_is_refused_outside_testing(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_CAPTCHA_FIXED_ANSWER", "123456")
    with pytest.raises(RuntimeError, match="CAPTCHA_FIXED_ANSWER"):
        production_app(tmp_path)
    app = create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["CAPTCHA_FIXED_ANSWER"] == "123456"


def test_attack_the_development_outbox_page_is_refused_in_production(tmp_path, monkeypatch):
    """It lists every mail with its links: turned on in production (while the
    mail server is not set up yet), anyone could take over any account.
    Turned off in any of the words a boolean takes, production starts."""
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_DEV_OUTBOX_PAGE", "true")
    with pytest.raises(RuntimeError, match="FLASK_DEV_OUTBOX_PAGE"):
        production_app(tmp_path)
    for off in ("off", "no", "False", "0"):
        monkeypatch.setenv("FLASK_DEV_OUTBOX_PAGE", off)
        assert production_app(tmp_path).config["DEV_OUTBOX_PAGE"] is False


def test_the_environment_wins_over_the_test_mode_defaults(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_MAIL_SUPPRESS_SEND", "false")
    monkeypatch.setenv("FLASK_MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("FLASK_MAIL_PORT", "2525")
    monkeypatch.setenv("FLASK_MAIL_PASSWORD", "000123")
    monkeypatch.setenv("FLASK_ACTIVATION_TTL_MINUTES", "15")
    app = make_app(tmp_path)
    assert app.config["MAIL_SUPPRESS_SEND"] is False
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["MAIL_PASSWORD"] == "000123"
    assert app.config["ACTIVATION_TTL_MINUTES"] == 15
    assert app.config["MAIL_DELIVERY"] is True
    assert app.extensions["mail"].suppress is False


def test_testing_defaults_apply_when_nothing_is_explicit(app):
    assert app.config["MAIL_SUPPRESS_SEND"] is True
    assert app.config["PASSWORD_HASH_PROFILE"] == "CHEAPEST"
    assert app.config["MAIL_DELIVERY"] is False


def test_the_database_is_a_wal_sqlite_file_with_foreign_keys(app, tmp_path):
    with app.app_context(), db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert (tmp_path / "test.db").exists()


def test_init_db_creates_the_folder_of_a_new_database(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'instance' / 'portail.db'}")
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "portail.db").exists()


def test_init_db_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "up to date" in second.output
    with app.app_context(), db.connection_context():
        assert SchemaVersion.select().count() == 1


def test_init_db_keeps_the_data_of_an_existing_database(app, tmp_path):
    with app.app_context(), db.connection_context():
        user_row("a@b.fr")
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0
    connection = sqlite3.connect(tmp_path / "test.db")
    assert connection.execute("select email from user").fetchall() == [("a@b.fr",)]


def test_a_migration_step_runs_once_on_an_older_database(app, monkeypatch):
    ran = []
    monkeypatch.setitem(migrations.STEPS, migrations.SCHEMA_VERSION + 1, lambda migrator: ran.append(1))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", migrations.SCHEMA_VERSION + 1)
    with app.app_context(), db.connection_context():
        assert migrations.migrate() == (migrations.SCHEMA_VERSION - 1, migrations.SCHEMA_VERSION)
        assert migrations.migrate() == (migrations.SCHEMA_VERSION, migrations.SCHEMA_VERSION)
    assert ran == [1]


def test_unique_login_email_is_enforced_by_the_database(app):
    from peewee import IntegrityError

    with app.app_context(), db.connection_context():
        user_row("a@b.fr")
        with pytest.raises(IntegrityError), db.atomic():
            user_row("a@b.fr")


def test_security_headers(client):
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_no_inline_script_or_handler_in_pages(client):
    for url in ("/", "/inscription/", "/connexion"):
        text = client.get(url).get_data(as_text=True)
        assert "<script>" not in text
        assert " onclick=" not in text and " onload=" not in text and "style=" not in text


def test_errors_are_pages_in_french_without_internals(any_client):
    response = any_client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)
    if any_client.htmx:
        assert response.headers["HX-Retarget"] == "#main"


def test_every_answer_to_htmx_says_it_is_the_portals_error_or_not(app, any_client):
    """app.js swaps an error answer in only when it bears the portal's header
    (views.PORTAL_ANSWER): a proxy's page (nginx's maintenance page) does not,
    and would otherwise replace the form. Every answer of the portal's to
    htmx bears it, its errors first; a full page has no use for it."""

    @app.post("/boom")
    def boom():
        raise ZeroDivisionError

    answers = [
        any_client.get("/"),
        any_client.get("/nulle-part"),  # 404
        any_client.get("/structure/rattachement/demande"),  # 405
        any_client.post("/inscription/", data={"email": "x"}),  # no CSRF token: 400
        any_client.post("/boom", data={"csrf_token": any_client.csrf_token()}),  # 500
    ]
    assert [answer.status_code for answer in answers] == [200, 404, 405, 400, 500]
    for answer in answers:
        assert (answer.headers.get(PORTAL_ANSWER) == "1") is any_client.htmx, answer.status


def test_a_wrong_method_is_a_405_page_that_says_which_methods_the_address_takes(any_client):
    response = any_client.get("/structure/rattachement/demande")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"POST", "OPTIONS"}
    assert response.mimetype == "text/html" and "<h1>" in response.get_data(as_text=True)


def test_an_unexpected_error_is_a_french_500_page(app, client):
    @app.get("/boom")
    def boom():
        raise ZeroDivisionError

    response = client.get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Erreur du service" in text and "ZeroDivisionError" not in text


@pytest.mark.parametrize("setting", ["SECRET_KEY", "TWO_FACTOR_KEY", "METRICS_TOKEN"])
def test_attack_the_example_secret_left_in_place(tmp_path, monkeypatch, setting):
    """deploy/portail.env.example is public: with its FLASK_SECRET_KEY anyone
    signs session cookies and CSRF tokens and derives captcha answers. Outside
    development the app refuses to start with it, as it does without a key."""
    clean_environment(monkeypatch)
    example = (ROOT / "deploy" / "portail.env.example").read_text()
    placeholder = re.search(r"^FLASK_SECRET_KEY=(.*)$", example, re.MULTILINE).group(1)
    with pytest.raises(RuntimeError, match=f"FLASK_{setting} is still the example's placeholder"):
        production_app(tmp_path, **{setting: placeholder})
    monkeypatch.setenv(f"FLASK_{setting}", placeholder)
    with pytest.raises(RuntimeError, match=f"FLASK_{setting}"):
        production_app(tmp_path)
    monkeypatch.delenv(f"FLASK_{setting}")
    assert make_app(tmp_path, **{setting: placeholder}).testing  # tests and development keep any value


def test_attack_the_example_database_password_left_in_place(tmp_path, monkeypatch):
    """The example's FLASK_DATABASE_URL names the role's password, public
    like its secret key: left in place, anyone with an account on the
    machine signs in to PostgreSQL as the portal and reads or rewrites every
    account. Outside development the app refuses to start with it."""
    clean_environment(monkeypatch)
    example = (ROOT / "deploy" / "portail.env.example").read_text()
    url = re.search(r"^FLASK_DATABASE_URL=(.*)$", example, re.MULTILINE).group(1)
    monkeypatch.setenv("FLASK_DATABASE_URL", url)
    with pytest.raises(RuntimeError, match="FLASK_DATABASE_URL still has the example's password"):
        production_app(tmp_path, DATABASE_URL=url)
    own = url.replace(":change-me-too@", ":n0t-the%40example@")
    monkeypatch.setenv("FLASK_DATABASE_URL", own)
    assert not production_app(tmp_path, DATABASE_URL=own).testing  # a password of one's own starts
