"""Measured in the browser: reflow at 320 CSS px and text at 200 % (RGAA 10.4,
10.11), and the contrast of the focus indicator (RGAA 10.7, WCAG 1.4.11).
Text contrast is axe's color-contrast rule, run on every page by ``checks``."""

from __future__ import annotations

from playwright.sync_api import Page

NARROW = {"width": 320, "height": 640}

# Elements that stick out of the viewport, or whose text is cut off by an
# overflow they hide; the visually hidden texts (a class, or its rules: a
# stacked table's column names on a phone) and the off-screen skip link are
# hidden on purpose.
CUT_OFF = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const clipped = [...document.body.querySelectorAll("*")].filter(
    (el) => getComputedStyle(el).clip === "rect(0px, 0px, 0px, 0px)");
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".visually-hidden, .skip-link, script, style, template, [hidden]")) continue;
    if (clipped.some((hidden) => hidden.contains(el))) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") continue;
    const clips = ["hidden", "clip"].includes(style.overflowX);
    if (box.left < -1 || box.right > width + 1 || (clips && el.scrollWidth > el.clientWidth + 1)) {
      const name = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`;
      found.push(`${name}: ${Math.round(box.left)}..${Math.round(box.right)} px`
                 + ` (${el.textContent.trim().slice(0, 40)})`);
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, found: found.slice(0, 10)};
}"""


def check_reflow(page: Page, step: str) -> None:
    """At 320 CSS px, with the text at 200 %, with wider text spacing: no sideways scroll, nothing cut off."""
    viewport = page.viewport_size
    try:
        page.set_viewport_size(NARROW)
        no_overflow(page, f"{step} à 320 px")
    finally:
        page.set_viewport_size(viewport)
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    try:
        no_overflow(page, f"{step} texte à 200 %")
    finally:
        page.evaluate("() => { document.documentElement.style.fontSize = ''; }")
    index = page.evaluate(TEXT_SPACING)
    try:
        no_overflow(page, f"{step} espacement du texte")
    finally:
        page.evaluate("(index) => document.styleSheets[0].deleteRule(index)", index)


# WCAG 1.4.12 / RGAA 10.12: the spacings a reader may impose (a CSSOM rule,
# which the CSP allows, unlike a <style> element).
TEXT_SPACING = """() => {
  const sheet = document.styleSheets[0];
  return sheet.insertRule("* { line-height: 1.5 !important; letter-spacing: .12em !important;"
    + " word-spacing: .16em !important; } ", sheet.cssRules.length);
}"""


def no_overflow(page: Page, where: str) -> None:
    result = page.evaluate(CUT_OFF)
    assert result["scroll"] <= result["width"], f"{where}: scrolls sideways ({result['scroll']} px)"
    assert result["found"] == [], f"{where}: cut off or outside the page: {result['found']}"


# Each focusable element focused in turn: its indicator (outline, and the
# ring of box-shadow around it) has 3:1 against the background behind it.
FOCUS = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const linear = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const behind = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const results = [];
  const selector = "a[href], button:not([hidden]), input:not([type=hidden]), select, textarea,"
    + " audio[controls], [tabindex='0']";
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest("[hidden]") || el.getClientRects().length === 0) continue;
    el.focus();
    if (document.activeElement !== el) continue;
    const style = getComputedStyle(el);
    const background = behind(el);
    const outline = style.outlineStyle !== "none" ? parseFloat(style.outlineWidth) : 0;
    const colours = [];
    if (outline) colours.push(rgb(style.outlineColor).slice(0, 3));
    const shadow = style.boxShadow.match(/rgba?\\([^)]*\\)/);
    if (shadow) colours.push(rgb(shadow[0]).slice(0, 3));
    const best = Math.max(0, ...colours.map((c) => ratio(c, background)));
    const label = (el.textContent || el.name || el.id).trim().slice(0, 30);
    results.push({what: `${el.tagName.toLowerCase()} ${label}`, outline, best: Math.round(best * 100) / 100});
  }
  document.activeElement.blur();
  return results;
}"""


def check_focus_indicators(page: Page, step: str) -> float:
    """Every focus indicator: at least 2 px of outline and a 3:1 contrast; the lowest ratio."""
    page.keyboard.press("Shift")  # the last input is the keyboard: :focus-visible applies
    results = page.evaluate(FOCUS)
    assert results, f"{step}: nothing focusable measured"
    weak = [r for r in results if r["outline"] < 2 or r["best"] < 3]
    assert weak == [], f"{step}: focus indicators too faint: {weak}"
    return min(r["best"] for r in results)
