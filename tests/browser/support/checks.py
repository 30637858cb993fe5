"""The checks made on every page: axe-core (WCAG 2.2 A/AA), HTML_CodeSniffer
(WCAG2AA), the W3C Nu checker (at the session's end), screenshots at
desktop and phone width, console errors and CSP violations."""

from __future__ import annotations

import re
import weakref
from functools import cache
from pathlib import Path

from playwright.sync_api import BrowserContext, Page

from tests.browser.support.htmlcs import check_htmlcs
from tests.browser.support.nu import save_dom

REPO = Path(__file__).resolve().parents[3]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 375, "height": 740}


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html.slice(0, 160),
                                 summary: (n.failureSummary || "").replace(/\\s+/g, " ")})),
  }));
}"""


# Pages opened with JavaScript disabled: the DevTools protocol still evaluates
# scripts there, but timers (and queueMicrotask) never fire, and axe.run waits
# on them; promise callbacks do run.
_WITHOUT_JAVASCRIPT: weakref.WeakSet = weakref.WeakSet()
TIMERS_AS_PROMISES = """() => {
  window.setTimeout = (callback, _delay, ...args) => {
    Promise.resolve().then(() => callback(...args));
    return 0;
  };
  window.clearTimeout = () => {};
}"""


def without_javascript(page: Page) -> Page:
    """Record that ``page`` was opened with JavaScript disabled."""
    _WITHOUT_JAVASCRIPT.add(page)
    return page


def check_axe(page: Page, state: str = "") -> None:
    """axe-core (from node_modules) finds no WCAG 2.2 A/AA violation on the page.

    The script is evaluated through the DevTools protocol, which the page's
    CSP does not govern, so the page needs no relaxed policy to be checked.
    HTML_CodeSniffer (WCAG2AA) then checks the page too (see ``htmlcs``),
    and the page's DOM is kept for the W3C Nu checker (see ``nu``)."""
    save_dom(page, state)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        if page in _WITHOUT_JAVASCRIPT:
            page.evaluate(TIMERS_AS_PROMISES)
        page.evaluate(_axe_source())
    violations = page.evaluate(AXE_RUN, WCAG_TAGS)
    if violations:
        lines = [f"axe: {len(violations)} violation(s) on {page.url} {state}".rstrip()]
        for v in violations:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['url']}>")
            for node in v["nodes"][:5]:
                lines.append(f"    {node['target']}: {node['html']}")
                lines.append(f"      {node['summary']}")
        raise AssertionError("\n".join(lines))
    check_htmlcs(page, state)


class Screenshots:
    """Full-page screenshots of a test's steps, at desktop then phone width;
    at phone width the page must not scroll sideways."""

    def __init__(self, folder: Path, prefix: str):
        self.folder = folder
        self.prefix = prefix
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, step: str) -> None:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        base = self.folder / f"{self.prefix}-{self.count:02d}-{slug}"
        page.screenshot(path=f"{base}-desktop.png", full_page=True, animations="disabled")
        desktop = page.viewport_size
        page.set_viewport_size(PHONE)
        try:
            page.screenshot(path=f"{base}-phone.png", full_page=True, animations="disabled")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{step}: at {PHONE['width']} px the page is {width} px wide"
        finally:
            page.set_viewport_size(desktop)


def check_page(page: Page, shots: Screenshots | None, step: str) -> None:
    """What every page and every error state goes through."""
    check_axe(page, step)
    if shots is not None:
        shots.take(page, step)


# -- the console -----------------------------------------------------------------

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


def watch_console(context: BrowserContext, problems: list) -> None:
    """Append every console error (but the expected 422s) and every uncaught
    exception of the context's pages to ``problems``."""

    def on_console(message) -> None:
        if message.type == "error" and not EXPECTED_CONSOLE.search(message.text):
            where = message.location.get("url", "")
            problems.append(f"console error: {message.text} ({where})")

    def on_page_error(error) -> None:
        problems.append(f"uncaught exception: {error}")

    context.on("console", on_console)
    context.on("weberror", lambda web_error: on_page_error(web_error.error))
