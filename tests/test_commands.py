"""The commands that use the portal's tables, on a database that is not
ready for them: one line naming what to do, exit 1, nothing created."""

from __future__ import annotations

import pytest

import migrations
from app import create_app
from models import db
from tests.support.app import clean_environment, make_app
from tests.support.sirene_files import LEGAL_UNIT_HEADER, legal_unit, write


def commands(tmp_path) -> list[list[str]]:
    stock = write(tmp_path / "StockUniteLegale_utf8.csv", LEGAL_UNIT_HEADER, [legal_unit("732829320")])
    return [
        ["purge"],
        ["send-mail"],
        ["audit"],
        ["operator", "list"],
        ["operator", "grant", "marie@exemple.fr"],
        ["operator", "revoke", "marie@exemple.fr"],
        ["sirene", "status"],
        ["sirene", "import", str(stock)],
    ]


def assert_one_line_error(result, *words):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for word in words:
        assert word in lines[0], result.output


def test_commands_before_init_db_say_so_and_create_no_database(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    database = tmp_path / "instance" / "portail.db"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{database}"})
    for args in commands(tmp_path):
        assert_one_line_error(app.test_cli_runner().invoke(args=args), "init-db")
        assert not database.exists(), args


def test_commands_on_an_empty_database_file_say_run_init_db(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    database = tmp_path / "portail.db"
    database.touch()
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{database}"})
    for args in commands(tmp_path):
        assert_one_line_error(app.test_cli_runner().invoke(args=args), "version 0", "init-db")


def test_commands_on_a_schema_not_migrated_yet_say_run_init_db(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, at_version=migrations.SCHEMA_VERSION - 1)
    for args in commands(tmp_path):
        result = app.test_cli_runner().invoke(args=args)
        assert_one_line_error(result, f"version {migrations.SCHEMA_VERSION - 1}", "init-db")
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    assert app.test_cli_runner().invoke(args=["operator", "list"]).output == "No operator.\n"


def test_commands_on_a_schema_newer_than_the_code_do_not_send_to_init_db(tmp_path, monkeypatch):
    """A database a newer version migrated (the code rolled back): init-db
    cannot take it down, so the other commands do not send the operator to
    it, and it says the schema is newer than the code, not just up to date."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path)
    newer = migrations.SCHEMA_VERSION + 1
    with app.app_context(), db.connection_context():
        migrations.SchemaVersion.update(version=newer).execute()
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and f"version {newer}): newer than this code's" in result.output
    for args in commands(tmp_path):
        result = app.test_cli_runner().invoke(args=args)
        assert_one_line_error(result, f"version {newer}", "newer")
        assert "init-db" not in result.output, args


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+pool"])
def test_commands_with_postgresql_down_say_so_attack_password_in_the_message(tmp_path, monkeypatch, scheme):
    clean_environment(monkeypatch)
    url = f"{scheme}://portail:s3cret-pw@127.0.0.1:1/portail"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    for args in commands(tmp_path):
        result = app.test_cli_runner().invoke(args=args)
        assert_one_line_error(result, "Database unusable", "Connection refused")
        assert "s3cret" not in result.output


def test_init_db_on_a_database_it_cannot_open_says_so_in_one_line(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    garbage = tmp_path / "portail.db"
    garbage.write_bytes(b"not a database" * 100)
    cases = {
        f"sqlite:///{garbage}": "file is not a database",
        f"sqlite:///{tmp_path}/a-folder": "unable to open database file",
        "postgresql://portail:s3cret-pw@127.0.0.1:1/portail": "Connection refused",
    }
    (tmp_path / "a-folder").mkdir()
    for url, words in cases.items():
        app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert_one_line_error(result, "Database unusable", words)
        assert "s3cret" not in result.output
