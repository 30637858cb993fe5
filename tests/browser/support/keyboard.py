"""The keyboard: where the focus is, tabbing to an element."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body", name: "", id: "", type: ""};
  let name = el.getAttribute("aria-label") || "";
  if (!name && el.labels && el.labels.length) {
    const label = el.labels[0].cloneNode(true);
    label.querySelectorAll("[aria-hidden=true]").forEach((hidden) => hidden.remove());
    name = label.textContent;
  }
  if (!name) name = el.textContent || el.value || "";
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
    || style.boxShadow !== "none";
  return {tag: el.tagName.toLowerCase(), type: el.type || "", id: el.id,
          name: name.replace(/\\s+/g, " ").trim(), indicator: ring};
}"""


def focused(page: Page) -> dict:
    """The element that has the focus: tag, type, id and accessible name."""
    return page.evaluate(FOCUSED)


def _matches(name: str, wanted: str | re.Pattern) -> bool:
    if isinstance(wanted, re.Pattern):
        return bool(wanted.search(name))
    return name == wanted


def tab_to(page: Page, wanted: str | re.Pattern, *, backwards: bool = False, limit: int = 40) -> dict:
    """Press Tab (or Shift+Tab) until the element named ``wanted`` has the
    focus; every element on the way must show a focus indicator."""
    key = "Shift+Tab" if backwards else "Tab"
    path = []
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        path.append(now["name"] or now["tag"])
        if now["tag"] not in ("body", "audio", "video"):
            assert now["indicator"], f"no visible focus on {now} (after {path})"
        if _matches(now["name"], wanted):
            return now
    raise AssertionError(f"{wanted!r} never got the focus with {key}; the focus went through {path}")


def expect_focus(page: Page, wanted: str | re.Pattern, tag: str | None = None) -> dict:
    """The focus is (or soon is) on the element named ``wanted``."""
    deadline = time.monotonic() + 5
    while True:
        now = focused(page)
        if _matches(now["name"], wanted) and (tag is None or now["tag"] == tag):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"the focus is on {now}, not on {wanted!r}")
        time.sleep(0.02)
