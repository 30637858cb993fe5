"""HTML_CodeSniffer (npm html_codesniffer, pinned in package.json), WCAG2AA,
the second accessibility engine beside axe-core.

Its script reaches the pages through Playwright's ``add_init_script`` (see
``chromium.open_tab``), which the portal's CSP does not govern; pages opened
with JavaScript disabled run no init script, so there it is evaluated through
the DevTools protocol, as axe is."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[3]
HTMLCS = REPO / "node_modules" / "html_codesniffer" / "build" / "HTMLCS.js"


@cache
def htmlcs_source() -> str:
    return HTMLCS.read_text(encoding="utf-8")


# Two faults of html_codesniffer 2.5.1 (its last release, 2020), worked around
# narrowly:
# - its check of autocomplete values (H98, checkControlGroups) asks for the
#   message "1_3_5_H98.InvalidAutoComplete_*" while its translations spell it
#   "InvalidAutocomplete_*": the lookup gives undefined and the whole run
#   crashes on its .replace (the sign-in and reset pages). The patched lookup
#   falls back to the translations' spelling, so the message is reported.
# - that check predates the HTML standard's "Username" control group, which
#   allows autocomplete="username" on an e-mail field (the sign-in form's
#   identifier is the e-mail address; the Nu checker accepts it). That one
#   error, on exactly such a field, is left out; any other H98 error stays.
HTMLCS_PATCH = """() => {
  if (HTMLCS.getTranslation.patched) return;
  const lookUp = HTMLCS.getTranslation;
  HTMLCS.getTranslation = function (key) {
    const text = lookUp.call(this, key);
    const spelled = key.replace("InvalidAutoComplete_", "InvalidAutocomplete_");
    return text !== undefined ? text : lookUp.call(this, spelled);
  };
  HTMLCS.getTranslation.patched = true;
}"""

# Errors only (warnings and notices ask a person to look; docs/rgaa records
# what was looked at).
HTMLCS_RUN = """() => new Promise((resolve, reject) => {
  const usernameAsEmail = (m) => m.code.endsWith(".H98") && m.element instanceof HTMLInputElement
    && m.element.type === "email" && m.element.getAttribute("autocomplete") === "username";
  try {
    HTMLCS.process("WCAG2AA", document, () => {
      resolve(HTMLCS.getMessages().filter((m) => m.type === HTMLCS.ERROR && !usernameAsEmail(m)).map((m) => ({
        code: m.code, msg: m.msg,
        html: m.element && m.element.outerHTML ? m.element.outerHTML.slice(0, 160) : String(m.element),
      })));
    }, (error) => reject(new Error(`HTML_CodeSniffer failed: ${error}`)));
  } catch (error) {
    reject(error);
  }
})"""


def check_htmlcs(page: Page, state: str = "") -> None:
    """HTML_CodeSniffer finds no WCAG2AA error on the page."""
    if not page.evaluate("() => typeof window.HTMLCS === 'object'"):
        page.evaluate(htmlcs_source())
    page.evaluate(HTMLCS_PATCH)
    errors = page.evaluate(HTMLCS_RUN)
    if errors:
        lines = [f"HTML_CodeSniffer: {len(errors)} error(s) on {page.url} {state}".rstrip()]
        for error in errors[:20]:
            lines.append(f"- {error['code']}: {error['msg']}")
            lines.append(f"    {error['html']}")
        raise AssertionError("\n".join(lines))
