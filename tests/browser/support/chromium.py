"""Debian's Chromium, and tabs that report console errors, uncaught
exceptions and CSP violations (see ``checks``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Request

from tests.browser.support.checks import CSP_REPORTER, watch_console, without_javascript
from tests.browser.support.htmlcs import htmlcs_source

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


def open_tab(
    browser: Browser,
    base_url: str,
    problems: list,
    *,
    javascript: bool,
    storage_state: dict | None = None,
    locale: str = "fr-FR",
    traffic: list | None = None,
) -> Page:
    """A tab in a browser context of its own (close it with ``page.context.close()``);
    what goes wrong in it is appended to ``problems``, and a line for each of
    its requests to ``traffic`` (see ``watch_traffic``). ``locale`` is the
    browser's language (its Accept-Language)."""
    context = browser.new_context(
        base_url=base_url,
        java_script_enabled=javascript,
        viewport=DESKTOP,
        locale=locale,
        storage_state=storage_state,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_REPORTER)
    context.add_init_script(htmlcs_source())  # the second engine; the CSP does not govern it
    watch_console(context, problems)
    if traffic is not None:
        watch_traffic(context, traffic)
    page = context.new_page()
    return page if javascript else without_javascript(page)


def watch_traffic(context: BrowserContext, traffic: list) -> None:
    """Append a line to ``traffic`` as each request of the context leaves and
    as it ends, timed from the tab's opening: what a failed test's report shows of
    what the tab asked and when it was answered (a step that never came: was
    it sent, answered, or answered late?). Static files are left out."""
    start = time.monotonic()

    def line(request: Request, what: str) -> None:
        parts = urlsplit(request.url)
        if parts.path.startswith("/static/"):
            return
        by = " (htmx)" if request.headers.get("hx-request") else ""
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        traffic.append(f"{time.monotonic() - start:8.3f} s  {request.method} {path}{by}: {what}")

    def finished(request: Request) -> None:
        response = request.response()
        line(request, f"answered {response.status if response else '?'}")

    context.on("request", lambda request: line(request, "sent"))
    context.on("requestfinished", finished)
    context.on("requestfailed", lambda request: line(request, f"failed ({request.failure})"))


def add_virtual_authenticator(page: Page) -> Callable[[], int]:
    """Chromium's virtual authenticator (the DevTools protocol's WebAuthn
    domain) for this tab: a platform passkey that verifies its user and
    answers at once. Returns how to count the passkeys it holds."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]
    return lambda: len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"])
