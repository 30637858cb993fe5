"""README « Production », as an operator follows it on Debian: its commands
(the role, the database, a command by hand, the restores) run as written
(systemctl and sudo aside). PostgreSQL asks a password on TCP as Debian's
pg_hba.conf does; deploy/portail.env.example is read by sh as the README has
commands by hand read it. The portal's data survives a backup and a restore
(PostgreSQL: into a new database, then into the one in use; SQLite: beside
a journal a stopped process left), and the portal signs in on it."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import stat
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from models import db
from tests.support.app import Client, clean_environment, make_app, outbox
from tests.support.constants import EMAIL, PASSWORD
from tests.support.pg_server import PostgresServer
from tests.support.signup import Signup

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLE = ROOT / "deploy" / "portail.env.example"
ROLE_PASSWORD = "un mot de passe@du rôle"  # noqa: S105 - the test server's own


def activated_account(app) -> None:
    """Marie signs up and activates her account, as on the portal."""
    signup = Signup(app.test_client(), lambda recipient=None: outbox(app, recipient))
    signup.create_account()
    assert signup.activate().status_code == 303


def readme_commands(start: str) -> list[str]:
    """The README's command lines (code blocks) that begin with ``start``."""
    blocks = README.read_text().split("```")[1::2]
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith(start)]


def example_settings() -> dict[str, str]:
    """deploy/portail.env.example as sh reads it (``set -a && . FILE``)."""
    result = subprocess.run(  # noqa: S603 - fixed program
        ["/bin/sh", "-c", 'set -a && . "$0" && exec env -0', str(EXAMPLE)],  # noqa: S607
        capture_output=True, text=True, timeout=30, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    pairs = (item.split("=", 1) for item in result.stdout.split("\0") if "=" in item)
    return {name: value for name, value in pairs if name.startswith(("FLASK_", "GUNICORN_"))}


def test_the_example_settings_read_by_sh_are_those_systemd_reads():
    """systemd's EnvironmentFile= takes a double-quoted value without its
    quotes, and an unquoted one as it is: sh must see the same values, or the
    commands run by hand would not run with the portal's settings."""
    expected = {}
    for line in EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            expected[name] = value[1:-1] if value[:1] == value[-1:] == '"' else value
    assert example_settings() == expected
    assert expected["FLASK_MAIL_DEFAULT_SENDER"] == "Portail Structures <ne-pas-repondre@portail.example.fr>"


@pytest.fixture
def debian_postgres():
    server = PostgresServer(host_auth="scram-sha-256").start()
    try:
        yield server
    finally:
        server.stop()


def as_postgres(server: PostgresServer, command: str) -> None:
    """A README line ``sudo -u postgres PROGRAM …``, run against ``server``."""
    assert command.startswith("sudo -u postgres "), command
    args = shlex.split(command.removeprefix("sudo -u postgres "))
    # --pwprompt asks on the terminal; the test sets that password below instead.
    args = [arg for arg in args if arg != "--pwprompt"]
    connection = ["-h", str(server.sockets), "-p", str(server.port), "-U", "postgres"]
    result = subprocess.run(  # noqa: S603 - the README's own command
        [str(server.bindir / args[0]), *connection, *args[1:]],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


def sql(server: PostgresServer, statement: str, *values) -> None:
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, values)
    finally:
        connection.close()


def test_the_readme_steps_back_up_and_restore_postgresql_and_the_portal_signs_in(
    debian_postgres, tmp_path, monkeypatch
):
    server = debian_postgres
    setup = readme_commands("sudo -u postgres create")
    assert [command.split()[3] for command in setup] == ["createuser", "createdb"]
    for command in setup:
        as_postgres(server, command)
    sql(server, "ALTER ROLE portail PASSWORD %s", ROLE_PASSWORD)  # what --pwprompt asks

    url = example_settings()["FLASK_DATABASE_URL"]
    assert url.startswith("postgresql://portail:change-me-too@127.0.0.1:5432/"), url
    quoted = urllib.parse.quote(ROLE_PASSWORD, safe="")  # as the README asks
    url = url.replace("change-me-too", quoted).replace(":5432/", f":{server.port}/")

    clean_environment(monkeypatch)
    app = make_app(tmp_path, DATABASE_URL=url)  # init-db's migration, as the portal's role
    app.test_client_class = Client
    activated_account(app)
    copy = tmp_path / "portail-20260101-0215.backup"
    result = app.test_cli_runner().invoke(args=["backup", str(copy)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.close_all()  # pooled connections closed, as `systemctl stop` would

    # A new machine: the database made by the same commands, then restored;
    # then restored again over itself, as on the machine in use.
    sql(server, "DROP DATABASE portail")
    as_postgres(server, readme_commands("sudo -u postgres createdb")[0])
    (restore,) = readme_commands("sudo -u postgres pg_restore")
    for _time in range(2):
        as_postgres(server, restore.replace("FILE", str(copy)))

    clean_environment(monkeypatch)
    (tmp_path / "restored").mkdir()
    again = make_app(tmp_path / "restored", DATABASE_URL=url)
    again.test_client_class = Client
    client = again.test_client()
    response = client.submit("/connexion", {"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/structure/"
    assert client.get("/structure/").status_code == 200
    assert again.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    # New rows after the restore: the sequences came back, and are the portal's.
    newcomer = Signup(again.test_client(), lambda recipient=None: [])
    email = "pierre.curie@exemple.fr"
    assert newcomer.create_account(email=email, email_confirm=email).status_code == 303

    # A command by hand, as the README writes it (less sudo: the test's own
    # user), with the settings file made from the example.
    settings = EXAMPLE.read_text().replace(":5432/", f":{server.port}/").replace("change-me-too", quoted)
    settings = settings.replace("FLASK_SECRET_KEY=change-me", f"FLASK_SECRET_KEY={secrets.token_hex(32)}")
    (tmp_path / "portail.env").write_text(settings)
    (by_hand,) = readme_commands("cd /srv/portail && sudo -u portail sh -c")
    by_hand = by_hand.replace("/etc/portail/portail.env", str(tmp_path / "portail.env"))
    by_hand = by_hand.replace("/srv/portail", str(ROOT)).replace("sudo -u portail ", "")
    result = subprocess.run(  # noqa: S602 - the README's own command line
        by_hand.replace("EMAIL", EMAIL), shell=True, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert EMAIL in result.stdout


def test_every_setting_the_example_names_is_one_the_readme_documents():
    """A misspelt name is silently ignored: the portal would run without it."""
    readme = README.read_text()
    names = re.findall(
        r"^#? ?((?:FLASK|GUNICORN)_[A-Z_]+|WEB_CONCURRENCY)=", EXAMPLE.read_text(), re.MULTILINE
    )
    assert len(names) >= 15
    for name in names:
        assert f"`{name}" in readme or re.search(rf"`[^`]*\b{name}\b", readme), name


def test_the_readme_restores_a_sqlite_backup_beside_a_journal_left_behind(tmp_path, monkeypatch):
    """A process stopped without closing the database (portail-mail killed,
    still running, or a crash) leaves portail.db-wal beside it, holding what
    changed after the backup: SQLite would replay it over the restored file,
    and the account renamed (or deleted) since would stay so."""
    clean_environment(monkeypatch)
    instance = tmp_path / "srv" / "portail" / "instance"
    instance.mkdir(parents=True)
    live = instance / "portail.db"
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{live}")
    app.test_client_class = Client
    activated_account(app)
    copy = tmp_path / "portail-20260101-0215.backup"
    assert app.test_cli_runner().invoke(args=["backup", str(copy)]).exit_code == 0
    with app.app_context():
        db.close_all()  # the web workers stopped
    # After the backup, a process changes the account and dies without closing.
    changed = subprocess.run(  # noqa: S603 - fixed program
        [sys.executable, "-c", CHANGE_AND_DIE, str(live)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert changed.returncode == 0, changed.stderr
    assert (instance / "portail.db-wal").exists()

    for command in readme_commands("rm -f /srv/portail/instance/") + readme_commands("install -o portail"):
        command = command.replace("/srv/portail", str(tmp_path / "srv" / "portail")).replace(
            "FILE", str(copy)
        )
        if os.geteuid() != 0 or not _user_exists("portail"):
            command = command.replace("-o portail -g portail ", "")  # only root gives files away
        result = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
        assert result.returncode == 0, f"{command}\n{result.stderr}"
    assert stat.S_IMODE(live.stat().st_mode) == 0o600

    clean_environment(monkeypatch)
    again = make_app(tmp_path / "restored-app", DATABASE_URL=f"sqlite:///{live}")
    again.test_client_class = Client
    response = again.test_client().submit("/connexion", {"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/structure/"


# Opens the database as the portal does (WAL), renames the account, commits,
# and exits without closing: the write stays in portail.db-wal.
CHANGE_AND_DIE = """
import os, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("PRAGMA wal_autocheckpoint = 0")
connection.execute('UPDATE "user" SET email = ?', ("renomme@exemple.fr",))
connection.commit()
os._exit(0)
"""


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
