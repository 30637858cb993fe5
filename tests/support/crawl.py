"""A crawler of the portal's pages as a person finds them: the links (and
the console's searches) followed from a few pages, every form found with
the values it shows, and each htmx POST an element inside a form makes
(live checks, drafts, fills). The attack sweeps use it
(tests/test_attack_every_form.py, tests/test_attack_others_forms.py)."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser

from models import Membership, Structure, User, utcnow
from tests.support.app import Client, query, user_row
from tests.support.constants import EMAIL
from tests.support.operators import grant
from tests.support.second_factor import enrol_totp
from tests.support.signup import PERSON
from tests.support.structures import PIERRE, ask_to_join, create_structure, new_client

SIGNED_IN = [
    "/",
    "/plan-du-site",
    "/espace/",
    "/mon-compte/",
    "/structure/",
    "/approbations/",
    "/administration/",
]
ANONYMOUS = ["/", "/plan-du-site", "/connexion", "/mot-de-passe-oublie/", "/inscription/"]
PAGES_AT_MOST = 120
SEARCHED = ("q",)  # the console's searches: « e » finds every account and structure here
MISSING = object()  # a field left out (an unchecked box)
# Forms whose plain sending ends the session a sweep runs in.
ENDS_THE_SESSION = ("/deconnexion", "/deconnexion-partout", "/supprimer", "/sessions", "/desactiver")
SKIPPED = re.compile(r"^/(static|assets)/|^/metrics|\.(png|wav|svg|ico|css|js)(\?|$)")


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)


class Page(HTMLParser):
    """The forms and the links of a page."""

    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._live: list[tuple[int, str]] = []  # (form, URL) of an htmx POST made inside a form

    def all_forms(self) -> list[Form]:
        """The forms, and each htmx POST an element inside one makes (a live
        check, a draft, a fill), with that form's fields as htmx sends them."""
        live = [Form(url, "post", list(self.forms[n].fields)) for n, url in self._live]
        return self.forms + live

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag != "form" and self.forms and a.get("data-hx-post"):
            self._live.append((len(self.forms) - 1, urllib.parse.urljoin(self.url, a["data-hx-post"])))
        if tag == "a" and a.get("href"):
            self.links.append(urllib.parse.urljoin(self.url, a["href"]))
        elif tag == "form":
            action = urllib.parse.urljoin(self.url, a.get("action") or self.url)
            self.forms.append(Form(action, (a.get("method") or "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                self.forms[-1].fields.append((a["name"], MISSING))
            else:
                self.forms[-1].fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("name"):
            self.forms[-1].fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.forms[-1].fields.append((a["name"], ""))
        elif tag == "option" and self._select and "selected" in a:
            name = self._select
            self.forms[-1].fields = [
                (n, a.get("value", "") if n == name else v) for n, v in self.forms[-1].fields
            ]
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1].fields.append((a["name"], ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            name = self._textarea
            self.forms[-1].fields = [(n, data if n == name else v) for n, v in self.forms[-1].fields]


def local(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost") or parts.scheme not in ("", "http", "https"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def query_of(form: Form, changes: dict) -> str:
    fields = [(n, changes.get(n, v)) for n, v in form.fields]
    return form.action.split("?")[0] + "?" + body(fields)


def body(fields: list[tuple[str, object]]) -> str:
    return urllib.parse.urlencode([(n, v) for n, v in fields if v is not MISSING])


@dataclass
class Crawl:
    visited: list[str]  # every URL asked for, in order
    pages: dict[str, str]  # the HTML of each that answered with a page
    forms: list[Form]  # one of each kind (action, method, fields' names)


def crawl(client, seeds: list[str] | tuple[str, ...]) -> Crawl:
    """The pages reached from ``seeds`` and their forms, read as full pages
    whatever the client sends its forms as."""
    htmx, client.htmx = client.htmx, False
    try:
        return _crawl(client, seeds)
    finally:
        client.htmx = htmx


def _crawl(client, seeds) -> Crawl:
    found = Crawl([], {}, [])
    forms: dict[tuple, Form] = {}
    queue = list(seeds)
    while queue and len(found.visited) < PAGES_AT_MOST:
        url = queue.pop(0)
        if url in found.visited or SKIPPED.search(url):
            continue
        found.visited.append(url)
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        found.pages[url] = response.get_data(as_text=True)
        page = Page("http://localhost" + url)
        page.feed(found.pages[url])
        for form in page.all_forms():
            action = local(form.action)
            if action is None:
                continue
            form.action = action
            key = (action.split("?")[0], form.method, tuple(sorted({n for n, _ in form.fields})))
            forms.setdefault(key, form)
            if form.method == "get":  # a search, as a person makes it: what it finds has links too
                queue.append(query_of(form, {n: "e" for n, v in form.fields if n in SEARCHED}))
        queue += [path.split("#")[0] for path in map(local, page.links) if path]
    found.forms = list(forms.values())
    return found


def build_world(operator, app, mailbox) -> tuple:
    """Marie, an operator on ``operator``, manages « Ateliers Curie »:
    Pierre asked to join it, Lucie is a member. Returns (Marie's client,
    Pierre's)."""
    assert create_structure(operator).status_code in (200, 303)
    pierre = new_client(app, mailbox, PIERRE)
    assert ask_to_join(pierre).status_code in (200, 303)

    def add_lucie():
        structure = Structure.get()
        lucie = user_row(
            "lucie.martin@exemple.fr", first_name="Lucie", last_name="Martin", status=User.ACTIVE
        )
        Membership.create(user=lucie, structure=structure, status=Membership.ACTIVE, decided_at=utcnow())

    query(app, add_lucie)
    return operator, pierre


def operator_world(app, mailbox) -> tuple:
    """``build_world`` for a Marie signed up on a full-page client of her
    own, made an operator with her authenticator app enrolled."""
    app.test_client_class = Client
    marie = new_client(app, mailbox, PERSON)
    grant(app, EMAIL)
    enrol_totp(marie)
    return build_world(marie, app, mailbox)
