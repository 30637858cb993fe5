"""The app under gunicorn with the repository's gunicorn.conf.py, on a free
port of 127.0.0.1, with the given environment; and a small HTTP client that
keeps cookies and sends the CSRF token like a browser (JavaScript off)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.support.pg_server import free_port
from tests.support.redis_server import terminate

ROOT = Path(__file__).resolve().parent.parent.parent
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

# Production mode over plain HTTP: cookies without Secure/__Host- (the only
# production setting the tests change, because they do not speak TLS).
PLAIN_HTTP_COOKIES = {
    "FLASK_SESSION_COOKIE_SECURE": "false",
    "FLASK_SESSION_COOKIE_NAME": "session",
    "FLASK_REMEMBER_COOKIE_SECURE": "false",
    "FLASK_REMEMBER_COOKIE_NAME": "remember_token",
}


def production_environment(tmp_path: Path, **settings: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "GUNICORN"))}
    env.update(
        {
            "FLASK_SECRET_KEY": "rehearsal-secret-key-0123456789abcdef",
            "FLASK_EXTERNAL_BASE_URL": "http://portail.test",
            "FLASK_DATABASE_URL": f"sqlite:///{tmp_path / 'portail.db'}",
            "PROMETHEUS_MULTIPROC_DIR": str(_fresh(tmp_path / "metrics")),
            **PLAIN_HTTP_COOKIES,
            **settings,
        }
    )
    return env


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def flask_command(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603 - fixed program
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


class Gunicorn:
    def __init__(self, env: dict, workers: int, log: Path, conf: Path | None = None) -> None:
        self.conf = conf or ROOT / "gunicorn.conf.py"
        self.port = free_port()
        self.env = {**env, "WEB_CONCURRENCY": str(workers), "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed program
                [sys.executable, "-m", "gunicorn", "-c", str(self.conf), "app:create_app()"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_text()}")
            if len(self.worker_pids()) == self.workers and self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{self.log_text()}")

    def _answers(self) -> bool:
        try:
            root = self.env.get("SCRIPT_NAME", "")  # the root gunicorn mounts the app at
            with urllib.request.urlopen(self.base + root + "/livez", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in children.split()]

    def kill_worker(self) -> int:
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        terminate(self.process, 40)  # graceful_timeout is 30 s
        self.process = None


class Browser:
    """Cookies, CSRF tokens, an X-Forwarded-For address (as nginx would add)."""

    def __init__(self, base: str, address: str | None = None, timeout: float = 30) -> None:
        self.base = base
        self.address = address
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf: str | None = None

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        """(status, body text); 303 redirects are followed with a GET."""
        headers = dict(headers or {})
        if self.address:
            headers["X-Forwarded-For"] = self.address
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrf_token": self.csrf or "", **data}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:  # its socket closed now, not whenever the error is collected
                status, text = error.code, error.read().decode(errors="replace")
        match = CSRF.search(text)
        if match:
            self.csrf = match.group(1)
        return status, text

    def get(self, path: str, **kwargs):
        return self.request(path, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        if self.csrf is None:
            self.get("/connexion")
        return self.request(path, data, **kwargs)
