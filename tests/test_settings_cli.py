"""The commands and the server without their settings, in a clean environment:
--help always works; a missing required setting outside development is one
line and a non-zero exit, never a traceback."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECRET_MISSING = "FLASK_SECRET_KEY must be set outside development"
BASE_URL_MISSING = "FLASK_EXTERNAL_BASE_URL (e.g. https://portail.example.fr) or FLASK_TRUSTED_HOSTS"
COMMANDS = ("init-db", "send-mail", "purge", "audit")


def _run(args: list[str], tmp_path, timeout: int = 60, **settings) -> subprocess.CompletedProcess:
    """A process with no FLASK_* variable but the ``settings`` given."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    env.update({f"FLASK_{key}": value for key, value in settings.items()})
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def _flask(tmp_path, *args: str, **settings) -> subprocess.CompletedProcess:
    return _run(["flask", "--app", "app", *args], tmp_path, **settings)


def test_flask_help_lists_the_apps_commands_without_any_setting(tmp_path):
    result = _flask(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and not result.stderr.strip()
    for command in COMMANDS:
        assert f"  {command} " in result.stdout


@pytest.mark.parametrize("command", [*COMMANDS, "run", "shell"])
def test_each_commands_help_works_without_any_setting(tmp_path, command):
    result = _flask(tmp_path, command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ") and "Traceback" not in result.stderr


def _one_line_refusal(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"Error: {message}")


@pytest.mark.parametrize("command", ["init-db", "purge", "run", "routes"])
def test_a_command_without_a_secret_key_says_so_in_one_line(tmp_path, command):
    database = tmp_path / "portail.db"
    result = _flask(tmp_path, command, DATABASE_URL=f"sqlite:///{database}")
    _one_line_refusal(result, SECRET_MISSING)
    assert not database.exists()  # the command did nothing


def test_a_command_without_a_base_url_says_so_in_one_line(tmp_path):
    database = tmp_path / "portail.db"
    result = _flask(tmp_path, "init-db", SECRET_KEY="s" * 32, DATABASE_URL=f"sqlite:///{database}")
    _one_line_refusal(result, BASE_URL_MISSING)
    assert not database.exists()


def test_development_needs_neither(tmp_path):
    database = tmp_path / "portail.db"
    result = _flask(tmp_path, "init-db", DEBUG="1", DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert database.exists()


def _gunicorn(tmp_path, *options: str, **settings) -> subprocess.CompletedProcess:
    bind = f"unix:{tmp_path / 'gunicorn.sock'}"
    # One worker: each worker that fails to load logs the reason once (gunicorn
    # reads the repository's gunicorn.conf.py, which starts one per core and more).
    args = ["gunicorn", "--chdir", str(ROOT), "--bind", bind, "--workers", "1", *options, "app:create_app()"]
    return _run(args, tmp_path, timeout=90, **settings)


@pytest.mark.parametrize("options", [(), ("--preload",)], ids=["workers", "preload"])
def test_gunicorn_without_a_secret_key_stops_with_one_log_line(tmp_path, options):
    result = _gunicorn(tmp_path, *options, DATABASE_URL=f"sqlite:///{tmp_path / 'portail.db'}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert sum(SECRET_MISSING in line for line in output.splitlines()) == 1


def test_gunicorn_without_a_base_url_stops_with_one_log_line(tmp_path):
    result = _gunicorn(tmp_path, SECRET_KEY="s" * 32, DATABASE_URL=f"sqlite:///{tmp_path / 'portail.db'}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "App failed to load." in output
    assert sum(BASE_URL_MISSING in line for line in output.splitlines()) == 1
