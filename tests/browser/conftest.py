"""Browser fixtures: a real SMTP server (aiosmtpd), the app as a real server
process, Debian's Chromium driven by Playwright, pages with JavaScript on and
off that fail the test on any console error or CSP violation, screenshots.

Session-scoped fixtures are per xdist worker: each worker has its own mail
server, app server (own port, own SQLite file) and browser. What they are
made of lives in ``tests.browser.support``."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.support.checks import SERVER_FAILURE, Screenshots
from tests.browser.support.chromium import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, open_tab
from tests.browser.support.http import http_create_structure, http_sign_up
from tests.browser.support.mail import Inbox
from tests.browser.support.nu import ARCHIVE, DomArchive
from tests.browser.support.people import Owner, new_company, new_person
from tests.browser.support.server import LiveServer, live_server_process
from tests.browser.support.visitor import Visitor
from tests.support.smtp import smtp_server

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
expect.set_options(timeout=TIMEOUT_MS)

PROBLEMS = pytest.StashKey[list]()
TRAFFIC = pytest.StashKey[list]()
CONSOLE_ALLOWED = pytest.StashKey[list]()
SERVER_LOG_START = pytest.StashKey[int]()
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours its access log


# -- mail --------------------------------------------------------------------


@pytest.fixture(scope="session")
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 keeping every mail the app sends."""
    with smtp_server(Inbox()) as handler:
        yield handler


# -- the app as a server process ---------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, inbox) -> Iterator[LiveServer]:
    """The app in its own process on 127.0.0.1 (a free port), on a fresh
    SQLite file, delivering its mail to ``inbox``."""
    with live_server_process(tmp_path_factory.mktemp("server"), inbox.port) as server:
        yield server


@pytest.fixture(scope="session")
def limited_server(tmp_path_factory, inbox) -> Iterator[LiveServer]:
    """Another app server whose rate limits are on, the sign-in's at two
    attempts a minute (the other servers run without limits: one address
    sends everything)."""
    folder = tmp_path_factory.mktemp("limited")
    settings = {
        "FLASK_RATELIMIT_ENABLED": "true",
        "FLASK_RATELIMIT_SIGN_IN": "2 per minute",
        # Each visitor's tab names its own address (X-Forwarded-For), as behind a proxy.
        "FLASK_TRUSTED_PROXIES": "1",
    }
    with live_server_process(folder, inbox.port, **settings) as server:
        yield server


# -- the browser -------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, one per worker."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run  make test-packages  (or: apt-get install -y chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def close_tab(page: Page) -> None:
    """The tab's context closed. A route handler still running (a test's
    slowed answer, a live check sent as the test ended) stops quietly: its
    error would otherwise be raised in the next test of this worker."""
    if not page.is_closed():  # a test may close it itself (the tab closed by the person)
        page.unroute_all(behavior="ignoreErrors")
    page.context.close()


def _open_page(
    request,
    browser: Browser,
    live_server: LiveServer,
    *,
    javascript: bool,
    storage_state: dict | None = None,
    locale: str = "fr-FR",
) -> Page:
    problems = request.node.stash.setdefault(PROBLEMS, [])
    traffic = request.node.stash.setdefault(TRAFFIC, [])
    page = open_tab(
        browser,
        live_server.url,
        problems,
        javascript=javascript,
        storage_state=storage_state,
        locale=locale,
        traffic=traffic,
    )
    request.addfinalizer(lambda: close_tab(page))
    return page


@pytest.fixture
def page(request, browser, live_server) -> Page:
    """A tab with JavaScript on (htmx enhances the pages)."""
    return _open_page(request, browser, live_server, javascript=True)


@pytest.fixture
def localhost_page(request, browser, live_server) -> Page:
    """A tab (JavaScript on) on http://localhost:PORT rather than 127.0.0.1:
    a WebAuthn relying-party id cannot be an IP address."""
    problems = request.node.stash.setdefault(PROBLEMS, [])
    traffic = request.node.stash.setdefault(TRAFFIC, [])
    url = live_server.url.replace("//127.0.0.1:", "//localhost:")
    page = open_tab(browser, url, problems, javascript=True, traffic=traffic)
    request.addfinalizer(lambda: close_tab(page))
    return page


@pytest.fixture(params=["js", "nojs"])
def english_page(request, browser, live_server) -> Page:
    """A browser whose language is English (en-GB), with JavaScript on and off."""
    return _open_page(request, browser, live_server, javascript=request.param == "js", locale="en-GB")


@pytest.fixture
def nojs_page(request, browser, live_server) -> Page:
    """A tab with JavaScript disabled: plain forms, 303 redirects."""
    return _open_page(request, browser, live_server, javascript=False)


@pytest.fixture(params=["js", "nojs"])
def any_page(request, browser, live_server) -> Page:
    """Runs a test twice: with JavaScript on and with JavaScript disabled."""
    return _open_page(request, browser, live_server, javascript=request.param == "js")


@pytest.fixture(params=["js", "nojs"])
def any_limited_visitor(request, browser, limited_server, inbox) -> Visitor:
    """A visitor of ``limited_server``, with JavaScript on and again disabled,
    from an address of its own: its limits are counted afresh."""
    javascript = request.param == "js"
    page = _open_page(request, browser, limited_server, javascript=javascript)
    page.context.set_extra_http_headers({"X-Forwarded-For": f"198.51.100.{next(_LIMITED_ADDRESSES)}"})
    return Visitor(page, inbox, javascript=javascript)


_LIMITED_ADDRESSES = itertools.count(1)


@pytest.fixture(scope="session")
def outage_server(tmp_path_factory, inbox) -> Iterator[LiveServer]:
    """An app server of its own for the tests that make its database
    unavailable: its 503s are what they look at, not a failure of theirs."""
    with live_server_process(tmp_path_factory.mktemp("outage"), inbox.port) as server:
        yield server


@pytest.fixture
def nojs_outage_visitor(request, browser, outage_server, inbox) -> Visitor:
    """A visitor of ``outage_server`` with JavaScript disabled."""
    return Visitor(_open_page(request, browser, outage_server, javascript=False), inbox, javascript=False)


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


@pytest.fixture(scope="session", autouse=True)
def nu_checker(tmp_path_factory) -> Iterator[DomArchive]:
    """Every DOM the checks saw, validated at the end of the worker's session
    by the W3C Nu checker in one Java call; its errors fail the session (as
    an error in the teardown of the worker's last test)."""
    archive = DomArchive(tmp_path_factory.mktemp("dom"))
    ARCHIVE[:] = [archive]
    yield archive
    ARCHIVE.clear()
    errors = archive.validate()
    if errors:
        pytest.fail(f"W3C Nu checker: {len(errors)} error(s) in the pages' HTML:\n  " + "\n  ".join(errors))


@pytest.fixture(autouse=True)
def _server_log_mark(request):
    """Remember where the server log was when the test started."""
    if "live_server" in request.fixturenames:
        server = request.getfixturevalue("live_server")
        request.node.stash[SERVER_LOG_START] = server.log_size()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that passed still fails on a console error, a CSP violation or
    a server error (500, traceback) while it ran. A test that failed reports
    what its tabs asked of the server, what their consoles said, and the
    server's log meanwhile."""
    try:
        result = yield
    except BaseException:
        _report_what_happened(item)
        raise
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


def _report_what_happened(item) -> None:
    """The requests of the test's tabs, their console errors and the server's
    log while it ran, as sections of its failure's report (the last of them:
    what led to it)."""
    problems = item.stash.get(PROBLEMS, [])
    if problems:
        item.add_report_section("call", "the tabs' console errors", "\n".join(problems[-30:]))
    traffic = item.stash.get(TRAFFIC, [])
    if traffic:
        item.add_report_section("call", "the tabs' requests", "\n".join(traffic[-60:]))
    if SERVER_LOG_START in item.stash:
        log = item.funcargs["live_server"].log_since(item.stash[SERVER_LOG_START])
        item.add_report_section("call", "the server's log", ANSI_COLOUR.sub("", log)[-6000:])


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"Browser screenshots: {SCREENSHOTS}")
