"""The app as a server process on 127.0.0.1 (a port it picks), on a fresh
SQLite file, delivering its mail to an SMTP port."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.constants import CAPTCHA_ANSWER

REPO = Path(__file__).resolve().parents[3]
SERVE = Path(__file__).resolve().parents[1] / "serve.py"


@dataclass
class LiveServer:
    url: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)
    env: dict = field(repr=False, default_factory=dict)

    def flask(self, *args: str) -> str:
        """A ``flask --app app`` command on the server's database, e.g.
        ``operator grant EMAIL``; its output."""
        done = subprocess.run(  # noqa: S603 (our own command, with this interpreter)
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log_path.open(encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            return log.read()


def _server_environment(tmp: Path, smtp_port: int, overrides: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    env.update(
        FLASK_TESTING="true",
        FLASK_SECRET_KEY=f"browser-tests-{secrets.token_hex(16)}",
        FLASK_DATABASE_URL=f"sqlite:///{tmp / 'portail.db'}",
        FLASK_CAPTCHA_FIXED_ANSWER=CAPTCHA_ANSWER,
        FLASK_MAIL_SERVER="127.0.0.1",
        FLASK_MAIL_PORT=str(smtp_port),
        FLASK_MAIL_SUPPRESS_SEND="false",
        FLASK_RATELIMIT_ENABLED="false",
        FLASK_PASSKEY_SIGN_IN="true",
        # A test loads a SIRENE directory into this server's database; the
        # other tests' random SIRETs must not be refused as unknown to it.
        FLASK_SIRENE_CHECK="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"The app server stopped:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as response:  # noqa: S310 (http to 127.0.0.1)
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"The app server did not answer on {url}:\n{log_path.read_text()}")
        time.sleep(0.05)


@contextmanager
def live_server_process(tmp: Path, smtp_port: int, **overrides: str) -> Iterator[LiveServer]:
    """``flask init-db`` on a new SQLite file in ``tmp``, then the app served
    until the block ends; ``overrides``: settings of its environment."""
    env = _server_environment(tmp, smtp_port, overrides)
    init = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "init-db"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if init.returncode != 0:
        raise RuntimeError(f"flask init-db failed:\n{init.stdout}{init.stderr}")
    log_path = tmp / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own script, with this interpreter)
            [sys.executable, str(SERVE)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        line = process.stdout.readline()
        match = re.match(r"PORT (\d+)", line)
        if not match:
            raise RuntimeError(f"The app server did not start:\n{line}{log_path.read_text()}")
        url = f"http://127.0.0.1:{match.group(1)}"
        _wait_until_up(url, process, log_path)
        yield LiveServer(url=url, log_path=log_path, process=process, env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
