"""Operating the portal: health probes, metrics, logs, HSTS, backups."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import threading

import pytest

import logs
from app import create_app
from models import SchemaVersion, User, db
from tests.support import pg_server
from tests.support.app import (
    Client,
    HtmxClient,
    clean_environment,
    make_app,
    production_app_over_http,
    user_row,
)
from tests.support.constants import EMAIL, PASSWORD
from tests.support.signup import Signup


def sign_in(client, email=EMAIL, password=PASSWORD):
    return client.submit("/connexion", {"email": email, "password": password})


# -- health ------------------------------------------------------------------------------


def test_livez_answers_without_touching_anything(any_client):
    response = any_client.get("/livez")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_names_every_part(any_client):
    response = any_client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "schema": "ok", "rate_limit_storage": "ok"},
    }


def test_readyz_is_503_when_the_schema_is_behind(app, client):
    with app.app_context(), db.connection_context():
        SchemaVersion.update(version=1).execute()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["schema"] and "run init-db" in body["checks"]["schema"]


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{pg_server.free_port()}/nothing",
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["database", "schema"]
    assert app.test_client().get("/livez").status_code == 200  # alive all the same


def test_probes_are_never_rate_limited_nor_logged_at_info(tmp_path, monkeypatch, caplog):
    clean_environment(monkeypatch)
    app = production_app_over_http(tmp_path, RATELIMIT_SIGN_IN="1 per hour")
    client = app.test_client()
    caplog.set_level("INFO", logger="portail.request")
    for _ in range(50):
        assert client.get("/readyz").status_code == 200
        assert client.get("/livez").status_code == 200
    assert not [r for r in caplog.records if r.name == "portail.request" and r.levelname == "INFO"]
    client.get("/connexion")
    assert [r for r in caplog.records if r.name == "portail.request" and r.levelname == "INFO"]


# -- metrics -----------------------------------------------------------------------------


def sample(text: str, name: str, **labels) -> float:
    """The value of one series in the exposition text (0 when absent)."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_sign_ups_activations_requests_and_the_outbox(app, client, mailbox):
    before = client.get("/metrics").get_data(as_text=True)
    signup = Signup(client, mailbox)
    signup.create_account()
    signup.activate()
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert sample(text, "portail_sign_ups_total") == sample(before, "portail_sign_ups_total") + 1
    assert sample(text, "portail_activations_total") == sample(before, "portail_activations_total") + 1
    assert sample(text, "portail_outbox_pending") == 1  # no mail server in tests: the activation mail waits
    assert "portail_outbox_failing 0.0" in text
    assert 'portail_http_request_duration_seconds_bucket{endpoint="registration.captcha"' in text
    assert (
        sample(
            text,
            "portail_http_requests_total",
            endpoint="registration.personal_info",
            method="POST",
            status="303",
        )
        >= 1
    )


def test_metrics_count_rate_limit_refusals_and_sign_in_throttles(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_SIGN_IN="2 per hour")
    app.test_client_class = Client
    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)
    for _ in range(3):
        sign_in(client, "personne@exemple.fr", "Pas-le-bon-1234")
    text = client.get("/metrics").get_data(as_text=True)
    refused = sample(text, "portail_rate_limit_refusals_total", endpoint="auth.login")
    assert refused == sample(before, "portail_rate_limit_refusals_total", endpoint="auth.login") + 1
    assert (
        sample(text, "portail_sign_in_failures_total") == sample(before, "portail_sign_in_failures_total") + 2
    )
    assert "portail_sign_in_throttles_total" in text


def test_metrics_refused_from_other_addresses_attack_scrape(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 404
    assert "portail_" not in response.get_data(as_text=True)


def test_metrics_forged_forwarded_for_does_not_open_them_attack_spoof(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, TRUSTED_PROXIES=1)
    client = app.test_client()
    # Through the proxy: the client is the address the proxy saw, not the proxy's.
    response = client.get(
        "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert response.status_code == 404


def test_metrics_with_the_token_from_anywhere_and_not_with_a_wrong_one_attack_guess(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, METRICS_TOKEN="s3cret-scrape-token", METRICS_ALLOWED_NETWORKS=[])
    client = app.test_client()
    remote = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
    assert client.get("/metrics", **remote).status_code == 404
    wrong = {"Authorization": "Bearer guess"}
    assert client.get("/metrics", headers=wrong, **remote).status_code == 404
    right = {"Authorization": "Bearer s3cret-scrape-token"}
    assert client.get("/metrics", headers=right, **remote).status_code == 200


def test_metrics_settings_from_the_environment(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_METRICS_ALLOWED_NETWORKS", '["10.0.0.0/8"]')
    monkeypatch.setenv("FLASK_METRICS_TOKEN", "12345")
    app = make_app(tmp_path)
    assert app.config["METRICS_ALLOWED_NETWORKS"] == ["10.0.0.0/8"]
    assert app.config["METRICS_TOKEN"] == "12345"
    assert app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


# -- logs --------------------------------------------------------------------------------


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("client_class", [Client, HtmxClient], ids=["page", "htmx"])
def test_json_logs_one_object_per_request_with_its_facts(json_app, capsys, client_class):
    json_app.test_client_class = client_class
    client = json_app.test_client()
    with json_app.app_context(), db.connection_context():
        from passwords import hash_password

        user = user_row(status=User.ACTIVE, password_hash=hash_password(PASSWORD))
    capsys.readouterr()
    sign_in(client)
    client.get("/structure/", headers={"X-Request-ID": "abc-123"})
    entries = [e for e in json_lines(capsys.readouterr().err) if e["logger"] == "portail.request"]
    last = entries[-1]
    assert last["method"] == "GET" and last["path"] == "/structure/" and last["status"] == 200
    assert last["request_id"] == "abc-123"
    assert last["account_id"] == user.id
    assert isinstance(last["duration_ms"], float)
    assert last["level"] == "info" and last["time"].endswith("+00:00")
    assert entries[0]["account_id"] is None and len(entries[0]["request_id"]) == 32


def test_request_log_redacts_token_paths_attack_log_reader(json_app, capsys):
    client = json_app.test_client()
    token = "Zr3kQ9mX7fPp2LwY8vTn4HcB1sJdE6aGuKoVqRyWiMx"
    client.get(f"/activation/{token}?next=/x")
    client.get(f"/mot-de-passe-oublie/{token}")
    text = capsys.readouterr().err
    assert token not in text and "next=" not in text
    paths = [e["path"] for e in json_lines(text) if e["logger"] == "portail.request"]
    assert paths == ["/activation/[redacted]", "/mot-de-passe-oublie/[redacted]"]


def test_forged_request_id_is_replaced_attack_log_injection(json_app, capsys):
    client = json_app.test_client()
    response = client.get("/", headers={"X-Request-ID": 'x" {"level":"critical"}'})
    entry = [e for e in json_lines(capsys.readouterr().err) if e["logger"] == "portail.request"][-1]
    assert len(entry["request_id"]) == 32 and response.headers["X-Request-ID"] == entry["request_id"]


def test_plain_text_logs_in_development(app, client, capsys):
    client.get("/")
    assert not json_lines(capsys.readouterr().err)


def test_redact_keeps_the_portals_own_words():
    assert logs.redact("/inscription/captcha") == "/inscription/captcha"
    assert logs.redact("/structure/12/modifier") == "/structure/12/modifier"
    # A token as token_urlsafe draws it: lowercase words alone are the portal's (test_logs_redact.py).
    token = "Zr3kQ9mX7fPp2LwY8vTn4HcB1sJdE6aGuKoVqRyWiMx"
    assert logs.redact_url(f"https://h/activation/{token}?x=1") == "https://h/activation/[redacted]"


# -- HSTS --------------------------------------------------------------------------------


def test_hsts_when_https_is_configured_even_behind_an_untrusted_proxy(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = production_app_over_http(tmp_path, PREFERRED_URL_SCHEME="https")
    # Plain HTTP to the app (a TLS proxy in front, FLASK_TRUSTED_PROXIES=0): is_secure is false.
    response = app.test_client().get("/", base_url="http://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_no_hsts_in_development_over_http(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_no_hsts_when_the_scheme_is_http(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = production_app_over_http(tmp_path, PREFERRED_URL_SCHEME="http")
    assert "Strict-Transport-Security" not in app.test_client().get("/", base_url="http://localhost").headers


def test_https_is_the_default_scheme_outside_development(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = create_app(
        {
            "SECRET_KEY": "x" * 32,
            "EXTERNAL_BASE_URL": "https://p.example.fr",
            "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
        }
    )
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    assert "Strict-Transport-Security" in app.test_client().get("/livez", base_url="http://localhost").headers


def test_without_a_mail_server_production_logs_keep_no_link_attack_token_in_logs(
    tmp_path, monkeypatch, caplog
):
    """Logs are kept and read by others (journald, a log service): a mail's
    activation or reset link there would open the account to them."""
    import mailer
    from models import OutboxMail

    clean_environment(monkeypatch)
    app = production_app_over_http(tmp_path)
    assert not app.config["MAIL_DELIVERY"]
    link = "https://portail.example.fr/mot-de-passe/reinitialiser/Secret-Token-123"
    with app.app_context(), db.connection_context():
        mail = OutboxMail.create(recipient="marie@exemple.fr", subject="S", body_text=link, body_html=link)
    caplog.set_level("DEBUG")
    with app.app_context(), db.connection_context():
        mailer.kick(app, [mail.id])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "1 mail(s) kept in the outbox" in logged
    assert "Secret-Token-123" not in logged and "marie@exemple.fr" not in logged


# -- backups -----------------------------------------------------------------------------


def test_sqlite_backup_while_writing_restores_and_signs_in(app, client, mailbox, tmp_path, monkeypatch):
    signup = Signup(client, mailbox)
    signup.create_account()
    signup.activate()
    stop = threading.Event()

    def write_meanwhile():
        with app.app_context(), db.connection_context():
            index = 0
            while not stop.is_set():
                user_row(f"ecrivain{index}@exemple.fr")
                index += 1

    writer = threading.Thread(target=write_meanwhile)
    writer.start()
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copies" / "portail.backup")])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    copy = tmp_path / "copies" / "portail.backup"
    assert "Backup written to" in result.output
    assert not list(copy.parent.glob("*.partial"))
    with sqlite3.connect(copy) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(copy, restored / "test.db")
    clean_environment(monkeypatch)
    again = make_app(restored)
    again.test_client_class = Client
    other = again.test_client()
    response = sign_in(other)
    assert response.status_code == 303 and response.headers["Location"] == "/structure/"


def test_backup_of_a_missing_sqlite_file_says_so(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/none.db"})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code != 0 and "No SQLite database file" in result.output


def backup_to(app, path):
    return app.test_cli_runner().invoke(args=["backup", str(path)])


def files_beside_the_database(folder):
    return sorted(path.name for path in folder.iterdir() if not path.name.startswith("test.db"))


def test_backup_is_readable_by_its_owner_only_attack_world_readable_copy(app, tmp_path):
    previous = os.umask(0o022)  # the usual umask: new files are world-readable
    try:
        result = backup_to(app, tmp_path / "portail.backup")
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "portail.backup").stat().st_mode) == 0o600


def test_backup_replaces_an_earlier_backup_and_no_other_file(app, tmp_path):
    copy = tmp_path / "portail.backup"
    assert backup_to(app, copy).exit_code == 0
    result = backup_to(app, copy)
    assert result.exit_code == 0 and "Backup written to" in result.output
    notes = tmp_path / "notes.txt"
    notes.write_text("the operator's notes\n")
    result = backup_to(app, notes)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "exists and is not a backup" in result.output
    assert notes.read_text() == "the operator's notes\n"
    assert files_beside_the_database(tmp_path) == ["notes.txt", "portail.backup"]


def test_backup_refuses_the_database_itself_attack_overwriting_the_live_database(app, tmp_path):
    live = tmp_path / "test.db"
    before = live.stat().st_ino
    for target in (live, tmp_path / "." / "test.db", tmp_path / "test.db-wal"):
        result = backup_to(app, target)
        assert result.exit_code == 1 and "is the database itself" in result.output
    assert live.stat().st_ino == before


def test_a_failed_backup_leaves_nothing_behind_and_the_earlier_one_intact(app, tmp_path, monkeypatch):
    import backup

    copy = tmp_path / "portail.backup"
    assert backup_to(app, copy).exit_code == 0
    earlier = copy.read_bytes()
    real_connect = sqlite3.connect

    class DiskFull:
        def __init__(self, connection):
            self.connection = connection

        def backup(self, target, **options):
            self.connection.backup(target, **options)
            raise sqlite3.OperationalError("database or disk is full")

        def close(self):
            self.connection.close()

    calls = []

    def connect(database, *args, **kwargs):
        calls.append(database)
        connection = real_connect(database, *args, **kwargs)
        return DiskFull(connection) if len(calls) == 1 else connection

    monkeypatch.setattr(backup.sqlite3, "connect", connect)
    result = backup_to(app, copy)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip() == f"Error: No backup written to {copy}: database or disk is full."
    assert copy.read_bytes() == earlier
    assert files_beside_the_database(tmp_path) == ["portail.backup"]


def test_backup_under_a_path_that_cannot_be_a_directory_says_so(app, tmp_path):
    (tmp_path / "a-file").write_text("x")
    result = backup_to(app, tmp_path / "a-file" / "copies" / "portail.backup")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: No backup written to") and len(result.output.splitlines()) == 1


def test_postgresql_backup_keeps_the_password_off_the_command_line_attack_process_listing(
    tmp_path, monkeypatch
):
    """Any local user reads a process's arguments (ps, /proc/PID/cmdline):
    pg_dump gets the password in its environment."""
    import backup

    clean_environment(monkeypatch)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": "postgresql://portail:s%40cret%3A1@db.example:5433/portail",
        }
    )
    seen = {}

    def run(arguments, **options):
        seen.update(arguments=arguments, env=options["env"])
        partial = arguments[arguments.index("--file") + 1]
        with open(partial, "wb") as archive:
            archive.write(b"PGDMP")
        return subprocess.CompletedProcess(arguments, 0, "", "")

    monkeypatch.setattr(backup.shutil, "which", lambda name: "/usr/bin/pg_dump")
    monkeypatch.setattr(backup.subprocess, "run", run)
    result = backup_to(app, tmp_path / "portail.dump")
    assert result.exit_code == 0, result.output
    assert not any("cret" in argument for argument in seen["arguments"])
    assert "postgresql://portail@db.example:5433/portail" in seen["arguments"]
    assert seen["env"]["PGPASSWORD"] == "s@cret:1"


def test_postgresql_backup_with_pg_dump_restores_and_signs_in(postgres, tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    source = postgres.url(postgres.create_database())
    app = make_app(tmp_path, DATABASE_URL=source)
    app.test_client_class = Client

    def read(recipient=None):
        from models import OutboxMail

        with app.app_context(), db.connection_context():
            query = OutboxMail.select().order_by(OutboxMail.id)
            return list(query.where(OutboxMail.recipient == recipient) if recipient else query)

    signup = Signup(app.test_client(), read)
    signup.create_account()
    signup.activate()
    copy = tmp_path / "portail.dump"
    result = app.test_cli_runner().invoke(args=["backup", str(copy)])
    assert result.exit_code == 0, result.output

    target = postgres.create_database("restored")
    restore = subprocess.run(  # noqa: S603
        ["pg_restore", "--no-owner", "--dbname", postgres.url(target), str(copy)],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert restore.returncode == 0, restore.stderr
    again = make_app(tmp_path / "restored", DATABASE_URL=postgres.url(target))
    again.test_client_class = Client
    response = sign_in(again.test_client())
    assert response.status_code == 303 and response.headers["Location"] == "/structure/"


def test_a_bad_metrics_network_stops_the_start(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    with pytest.raises(RuntimeError, match="FLASK_METRICS_ALLOWED_NETWORKS"):
        make_app(tmp_path, METRICS_ALLOWED_NETWORKS=["not-a-network"])


def test_backup_to_a_path_ending_with_a_slash_says_it_names_a_folder(app, tmp_path):
    """« backup /var/backups/portail/ » (a folder that does not exist yet)
    would have written the copy as a file of that name."""
    folder = f"{tmp_path / 'copies'}/"
    result = app.test_cli_runner().invoke(args=["backup", folder])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"'{folder}' names a folder: give the backup file's name, e.g. {folder}portail-" in result.output
    assert not (tmp_path / "copies").exists()
