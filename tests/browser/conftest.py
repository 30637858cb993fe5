"""Browser fixtures: a real SMTP server (aiosmtpd), the app as a real server
process, Debian's Chromium driven by Playwright, pages with JavaScript on and
off that fail the test on any console error or CSP violation, screenshots.

Session-scoped fixtures are per xdist worker: each worker has its own mail
server, app server (own port, own SQLite file) and browser."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .helpers import (
    CAPTCHA_ANSWER,
    Company,
    Inbox,
    Person,
    Screenshots,
    Visitor,
    http_create_structure,
    http_sign_up,
    new_company,
    new_person,
    without_javascript,
)

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000  # generous: CI machines are slower than a laptop
expect.set_options(timeout=TIMEOUT_MS)

# Run in every page before its own scripts: report CSP violations on the
# console, where the collector below sees them (Chromium also logs them itself).
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
});
"""

# 422 is the app's designed answer to a form with errors (htmx swaps it);
# Chromium logs every 4xx as "Failed to load resource".
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of 422\b")
SERVER_FAILURE = re.compile(r'Traceback|Unhandled error|" 5\d\d ')

PROBLEMS = pytest.StashKey[list]()
CONSOLE_ALLOWED = pytest.StashKey[list]()
SERVER_LOG_START = pytest.StashKey[int]()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- mail --------------------------------------------------------------------


@pytest.fixture(scope="session")
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 keeping every mail the app sends."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


# -- the app as a server process ---------------------------------------------


@dataclass
class LiveServer:
    url: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log_path.open(encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            return log.read()


def _server_environment(tmp: Path, smtp_port: int) -> dict[str, str]:
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
        PYTHONUNBUFFERED="1",
    )
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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, inbox) -> Iterator[LiveServer]:
    """The app in its own process on 127.0.0.1 (a free port), on a fresh
    SQLite file, delivering its mail to ``inbox``."""
    tmp = tmp_path_factory.mktemp("server")
    env = _server_environment(tmp, inbox.port)
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
            [sys.executable, str(Path(__file__).with_name("serve.py"))],
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
        yield LiveServer(url=url, log_path=log_path, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


# -- the browser -------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, one per worker."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run  make browser  (or: apt-get install -y chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _open_page(
    request, browser: Browser, live_server: LiveServer, *, javascript: bool, storage_state: dict | None = None
) -> Page:
    context = browser.new_context(
        base_url=live_server.url,
        java_script_enabled=javascript,
        viewport=DESKTOP,
        locale="fr-FR",
        storage_state=storage_state,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_REPORTER)
    problems = request.node.stash.setdefault(PROBLEMS, [])

    def on_console(message) -> None:
        if message.type == "error" and not EXPECTED_CONSOLE.search(message.text):
            where = message.location.get("url", "")
            problems.append(f"console error: {message.text} ({where})")

    def on_page_error(error) -> None:
        problems.append(f"uncaught exception: {error}")

    context.on("console", on_console)
    context.on("weberror", lambda web_error: on_page_error(web_error.error))
    request.addfinalizer(context.close)
    page = context.new_page()
    return page if javascript else without_javascript(page)


@pytest.fixture
def page(request, browser, live_server) -> Page:
    """A tab with JavaScript on (htmx enhances the pages)."""
    return _open_page(request, browser, live_server, javascript=True)


@pytest.fixture
def nojs_page(request, browser, live_server) -> Page:
    """A tab with JavaScript disabled: plain forms, 303 redirects."""
    return _open_page(request, browser, live_server, javascript=False)


@pytest.fixture(params=["js", "nojs"])
def any_page(request, browser, live_server) -> Page:
    """Runs a test twice: with JavaScript on and with JavaScript disabled."""
    return _open_page(request, browser, live_server, javascript=request.param == "js")


@pytest.fixture
def console_allows(request) -> list:
    """Patterns of console errors this test expects, e.g. the "status of 410"
    that Chromium logs when a page is answered with that status."""
    return request.node.stash.setdefault(CONSOLE_ALLOWED, [])


@pytest.fixture
def visitor(page, inbox) -> Visitor:
    return Visitor(page, inbox, javascript=True)


@pytest.fixture
def nojs_visitor(nojs_page, inbox) -> Visitor:
    return Visitor(nojs_page, inbox, javascript=False)


@pytest.fixture
def any_visitor(any_page, inbox, request) -> Visitor:
    return Visitor(any_page, inbox, javascript=request.node.callspec.params["any_page"] == "js")


@pytest.fixture
def open_visitor(request, browser, live_server, inbox):
    """Another person, in a browser context of their own (own cookies):
    ``open_visitor(javascript=True) -> Visitor``."""

    def open_one(javascript: bool = True) -> Visitor:
        page = _open_page(request, browser, live_server, javascript=javascript)
        return Visitor(page, inbox, javascript=javascript)

    return open_one


@dataclass
class Owner:
    person: Person
    company: Company
    storage_state: dict


@pytest.fixture(scope="session")
def owner_account(browser, live_server, inbox) -> Owner:
    """The gestionnaire principal of a structure, shared by the tests of a
    worker: signed up once (through plain requests), then its cookies open
    each test's own browser context. Tests may add structures and decide
    requests; none changes its password nor signs its session out."""
    context = browser.new_context(base_url=live_server.url)
    try:
        person = new_person("gestionnaire", first_name="Hélène", last_name="Langevin")
        company = new_company("Laboratoires Langevin")
        http_sign_up(context.request, inbox, person)
        http_create_structure(context.request, company)
        return Owner(person, company, context.storage_state())
    finally:
        context.close()


@pytest.fixture
def open_owner(request, browser, live_server, inbox, owner_account):
    """The shared structure owner in a browser context of its own, signed in:
    ``open_owner(javascript=True) -> Visitor``."""

    def open_one(javascript: bool = True) -> Visitor:
        page = _open_page(
            request, browser, live_server, javascript=javascript, storage_state=owner_account.storage_state
        )
        owner = Visitor(page, inbox, javascript=javascript)
        owner.person, owner.company = owner_account.person, owner_account.company
        return owner

    return open_one


@pytest.fixture(params=["js", "nojs"])
def any_owner(request, open_owner) -> Visitor:
    """The shared structure owner, with JavaScript on and again disabled."""
    return open_owner(javascript=request.param == "js")


@pytest.fixture
def signed_in(visitor) -> Visitor:
    """A new account, activated, signed in, on the structure step (JS on)."""
    visitor.create_and_activate()
    return visitor


@pytest.fixture
def shots(request) -> Screenshots:
    """Screenshots at desktop and phone width into test-artifacts/screenshots."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_")).strip("-")
    for old in SCREENSHOTS.glob(f"{name}-[0-9][0-9]-*.png"):
        old.unlink()  # this test's screenshots of an earlier run
    return Screenshots(SCREENSHOTS, name)


# -- checks around each browser test ------------------------------------------


@pytest.fixture(autouse=True)
def _server_log_mark(request):
    """Remember where the server log was when the test started."""
    if "live_server" in request.fixturenames:
        server = request.getfixturevalue("live_server")
        request.node.stash[SERVER_LOG_START] = server.log_size()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that passed still fails on a console error, a CSP violation or
    a server error (500, traceback) while it ran."""
    result = yield
    allowed = [re.compile(pattern) for pattern in item.stash.get(CONSOLE_ALLOWED, [])]
    problems = [p for p in item.stash.get(PROBLEMS, []) if not any(a.search(p) for a in allowed)]
    if SERVER_LOG_START in item.stash:
        server = item.funcargs["live_server"]
        log = server.log_since(item.stash[SERVER_LOG_START])
        if SERVER_FAILURE.search(log):
            problems.append("server error; its log during the test:\n" + log[-6000:])
    if problems:
        raise AssertionError("Problems in the browser or the server:\n  " + "\n  ".join(problems))
    return result


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"Browser screenshots: {SCREENSHOTS}")
