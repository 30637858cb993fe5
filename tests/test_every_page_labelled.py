"""Every page a visitor or an operator-manager reaches (tests.support.crawl),
the console's included, read as assistive technology reads its markup:
each id once, each control named (a label, or aria-label/-labelledby),
each aria reference to an element that exists, each image with its
alternative, each button and link with a name. The browser tests run axe
and HTML_CodeSniffer on the flow's pages; this reads every page found,
full page and htmx fragment, in both languages."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

from tests.support.crawl import ANONYMOUS, SIGNED_IN, crawl, operator_world
from tests.support.i18n import speak

UNNAMED_INPUTS = {"hidden", "submit", "button", "reset", "image"}


class Markup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: Counter = Counter()
        self.labelled: set[str] = set()  # ids a <label for> names
        self.controls: list[tuple[str, dict]] = []
        self.references: list[tuple[str, str]] = []  # (attribute, id)
        self.images_without_alt = 0
        self.named: list[tuple[str, dict, list[str]]] = []  # buttons and links, with their text
        self._open: list[tuple[str, dict, list[str]]] = []
        self._labels = 0  # open <label> elements: a control inside one is named by it

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if a.get("id"):
            self.ids[a["id"]] += 1
        for attribute in ("aria-describedby", "aria-labelledby", "aria-controls", "list"):
            self.references += [(attribute, ref) for ref in a.get(attribute, "").split()]
        if tag == "label":
            self._labels += 1
            if a.get("for"):
                self.labelled.add(a["for"])
        if tag in ("select", "textarea") or (tag == "input" and a.get("type", "text") not in UNNAMED_INPUTS):
            self.controls.append((tag, {**a, "_in_label": self._labels > 0}))
        if tag == "img" and "alt" not in a:
            self.images_without_alt += 1
        if tag in ("button", "a"):
            self._open.append((tag, a, []))
        if tag == "img" and self._open:
            self._open[-1][2].append(a.get("alt", ""))

    def handle_endtag(self, tag):
        if tag == "label":
            self._labels = max(0, self._labels - 1)
        if tag in ("button", "a") and self._open and self._open[-1][0] == tag:
            self.named.append(self._open.pop())

    def handle_data(self, data):
        for _, _, text in self._open:
            text.append(data)


def problems(html: str) -> list:
    page = Markup()
    page.feed(html)
    found = [("id twice", i) for i, n in page.ids.items() if n > 1]
    for tag, a in page.controls:
        named = a["_in_label"] or a.get("id") in page.labelled
        if not (named or a.get("aria-label") or a.get("aria-labelledby") or a.get("title")):
            found.append(("control without a name", tag, a.get("name")))
    found += [("reference to nothing", attr, ref) for attr, ref in page.references if ref not in page.ids]
    if page.images_without_alt:
        found.append(("images without alt", page.images_without_alt))
    for tag, a, text in page.named:
        if tag == "a" and "href" not in a:
            continue
        if not ("".join(text).strip() or a.get("aria-label") or a.get("aria-labelledby")):
            found.append((f"{tag} without a name", a.get("href") or a.get("name")))
    return found


def sweep(client, seeds) -> dict:
    pages = crawl(client, seeds).pages
    wrong = {url: problems(html) for url, html in pages.items()}
    for url in pages:  # the same page as htmx swaps it in
        fragment = client.get(url, headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/"})
        wrong[url + " (htmx)"] = problems(fragment.get_data(as_text=True))
    return {url: found for url, found in wrong.items() if found} | {"pages read": len(pages)}


def test_every_anonymous_page_names_its_controls(client):
    for language in ("fr", "en"):
        speak(client, language)
        result = sweep(client, ANONYMOUS)
        assert result.pop("pages read") >= 9 and not result, result


def test_every_signed_in_page_names_its_controls(app, mailbox):
    marie, _ = operator_world(app, mailbox)
    for language in ("fr", "en"):
        speak(marie, language)
        result = sweep(marie, SIGNED_IN)
        assert result.pop("pages read") >= 30 and not result, result


def test_the_reading_finds_what_it_looks_for():
    """The control of the sweeps above: each fault is found in markup that has it."""
    found = problems(
        '<p id="a"></p><p id="a"></p><input name="q"><span aria-describedby="nowhere"></span>'
        '<img src="/x.png"><button type="submit"></button><a href="/"><img src="/y.png" alt=""></a>'
        '<label>Nom <input name="ok"></label><label for="b">B</label><select id="b"></select>'
        '<button aria-label="Fermer"></button><a href="/z"><img src="/z.png" alt="Accueil"></a>'
    )
    assert sorted(found) == sorted([
        ("id twice", "a"), ("control without a name", "input", "q"),
        ("reference to nothing", "aria-describedby", "nowhere"), ("images without alt", 1),
        ("button without a name", None), ("a without a name", "/"),
    ])  # fmt: skip
