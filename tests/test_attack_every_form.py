"""Every form the portal shows, sent with values no person would type: never
a 500. The pages are found as a person finds them, by following links (and
the console's searches) from the home page, from the spaces of a signed-in
operator who manages a structure, and from each step of the sign-up, the
password reset and the sign-in's second step; each form found is sent again
with one field at a time replaced by a hostile value (markup, NUL, invalid
UTF-8, a lone surrogate, numbers out of range, 5,000 characters, a field
sent twice or missing), both as a full page and under htmx."""

from __future__ import annotations

import urllib.parse
from collections import Counter

import pytest

from tests.support.constants import EMAIL
from tests.support.crawl import (
    ANONYMOUS,
    ENDS_THE_SESSION,
    MISSING,
    SIGNED_IN,
    Form,
    Page,
    body,
    build_world,
    crawl,
    local,
)
from tests.support.second_factor import VERIFY, password_step
from tests.support.signup import PERSON, Signup, link_in

# The query parameters the pages read beside their forms' (a search's own
# fields are sent with the form), each given to every page found.
PARAMETERS = ("next", "siret", "methode", "recherche")
IN_A_QUERY = [
    "a\x00b",
    "\u202eevil",
    "9" * 40,
    "x" * 5000,
    "<script>",
    "//evil.example/",
    "https://evil.example/",
    b"\xff\xfe",
    b"\xed\xa0\x80",
]
TWICE = object()
HOSTILE: list = [
    "",
    "   ",
    "a\x00b",
    "\u202eevil\u202c",
    "\ufeff\u200b",
    "😀" * 3,
    '<script>alert("x")</script>',
    "' OR '1'='1' --",
    "9" * 40,
    "-1",
    "NaN",
    "x" * 5000,
    "a\r\nSet-Cookie: planted=1",
    "{{ 7*7 }}",
    "//evil.example/",  # a « next » (the language switch's) off the site
    b"\xff\xfe",  # not UTF-8
    b"\xed\xa0\x80",  # a lone surrogate, as UTF-8 bytes
    MISSING,
    TWICE,
]


def variants(form: Form, token: str):
    """The form's fields with one replaced by each hostile value."""
    sent = [(n, token if n == "csrf_token" else v) for n, v in form.fields]
    names = list(dict.fromkeys(n for n, _ in sent))
    # A form that ends the crawl's session: only its token and its password
    # are replaced, which refuses it.
    guarded = any(part in form.action for part in ENDS_THE_SESSION)
    for name in names:
        if guarded and name not in ("csrf_token", "password"):
            continue
        for value in HOSTILE:
            if guarded and value is TWICE:
                continue
            if value is TWICE:
                yield name, "twice", [*sent, *[(n, v) for n, v in sent if n == name]]
            else:
                yield name, value, [(n, value if n == name else v) for n, v in sent]


def leaves_the_site(response) -> bool:
    """The answer sends the browser elsewhere than this site (a redirect, or
    htmx's own), or links or sends a form to the hostile address."""
    sent_to = [response.headers.get(h, "") for h in ("Location", "HX-Redirect", "HX-Location")]
    if any(local(urllib.parse.urljoin("http://localhost/", to)) is None for to in sent_to if to):
        return True
    text = response.get_data(as_text=True)
    if "html" not in response.content_type or "evil.example" not in text:
        return False
    page = Page("http://localhost/")
    page.feed(text)
    targets = page.links + [form.action for form in page.all_forms()]
    return any("evil.example" in urllib.parse.urlsplit(target).netloc for target in targets)


def send_hostile(client, forms: list[Form], still_there: str) -> Counter:
    """Each form with each hostile value in each field; the answers' statuses
    by form. Asserts none is a 500 nor leaves the site, and that
    ``still_there`` still answers 200 after each form (the crawl has not
    ended its own session)."""
    statuses: Counter = Counter()
    failures = []
    for form in forms:
        for name, value, fields in variants(form, client.csrf_token()):
            if form.method == "get":
                response = client.get(form.action.split("?")[0] + "?" + body(fields))
            else:
                response = client.post(
                    form.action, data=body(fields), content_type="application/x-www-form-urlencoded"
                )
            statuses[response.status_code] += 1
            if response.status_code >= 500 or leaves_the_site(response):
                failures.append((form.action, name, value[:20] if isinstance(value, str) else repr(value)))
        assert client.get(still_there).status_code == 200, f"{form.action} ended the crawl's session"
    assert not failures, failures
    return statuses


def get_hostile(client, pages: list[str]) -> Counter:
    """Each page found with each parameter set to each hostile value: never a
    500, never sent or linked off the site."""
    statuses: Counter = Counter()
    failures = []
    for path in dict.fromkeys(page.split("?")[0] for page in pages):
        for name in PARAMETERS:
            for value in IN_A_QUERY:
                response = client.get(path + "?" + urllib.parse.urlencode({name: value}))
                statuses[response.status_code] += 1
                if response.status_code >= 500 or leaves_the_site(response):
                    failures.append((path, name, value[:20]))
    assert not failures, failures
    return statuses


@pytest.fixture
def world(operator, app, mailbox):
    """Marie, an operator, manages « Ateliers Curie »: Pierre asked to join
    it, Lucie is a member."""
    return build_world(operator, app, mailbox)[0]


def test_attack_hostile_values_in_every_signed_in_form_never_give_a_500(world):
    found = crawl(world, SIGNED_IN)
    pages, forms = found.visited, found.forms
    reached = {form.action.split("?")[0] for form in forms}
    assert {
        "/structure/nouvelle", "/structure/nouvelle/identifiant", "/structure/nouvelle/sirene",
        "/structure/nouvelle/brouillon", "/mon-compte/informations/brouillon", "/mot-de-passe/regles",
        "/structure/1/gestionnaire", "/mon-compte/informations",
        "/approbations/2/approuver", "/administration/structures/1/modifier", "/administration/journal",
    } <= reached  # fmt: skip
    assert "/administration/comptes/2/" in pages  # found through the console's search
    statuses = send_hostile(world, forms, "/espace/")
    accepted = statuses[303] + statuses[200]  # under htmx, a redirect is an answer of 200
    assert statuses[422] > 500 and statuses[400] > 200 and accepted > 50, statuses
    assert get_hostile(world, pages)[200] > 500


def test_attack_hostile_values_in_every_anonymous_form_never_give_a_500(any_client):
    found = crawl(any_client, ANONYMOUS)
    pages, forms = found.visited, found.forms
    reached = {form.action.split("?")[0] for form in forms}
    assert {
        "/inscription/", "/inscription/champ/email", "/inscription/brouillon", "/connexion",
        "/mot-de-passe-oublie/", "/langue",
    } <= reached, reached  # fmt: skip
    statuses = send_hostile(any_client, forms, "/")
    assert statuses[422] > 100 and statuses[400] > 50, statuses
    assert get_hostile(any_client, pages)[200] > 100


def test_attack_hostile_values_in_the_steps_between_never_give_a_500(world, app, mailbox):
    """The captcha step, the activation link's password, the reset link's
    password, and the sign-in's second step, each in a browser of its own
    that has reached it."""
    newcomer = app.test_client()
    signup = Signup(newcomer, mailbox)
    person = {**PERSON, "email": "jean.dupont@exemple.fr", "email_confirm": "jean.dupont@exemple.fr",
              "contact_email": "jean.dupont@exemple.fr"}  # fmt: skip
    assert signup.personal_info(**person).status_code in (200, 303)
    forms = crawl(newcomer, ["/inscription/captcha"]).forms
    captcha = [f for f in forms if f.action.startswith("/inscription/captcha")]
    assert {f.action for f in captcha} == {"/inscription/captcha", "/inscription/captcha/nouveau"}, forms
    send_hostile(newcomer, captcha, "/inscription/captcha")
    assert signup.create_account(**person).status_code in (200, 303)
    activation = signup.activation_path("jean.dupont@exemple.fr")

    forgetful = app.test_client()
    forgetful.submit("/mot-de-passe-oublie/", {"email": EMAIL})
    [reset] = [link_in(m) for m in mailbox(EMAIL) if m.subject == "Réinitialisez votre mot de passe"]

    returning = app.test_client()
    assert password_step(returning).status_code in (200, 303)

    for client, url in ((newcomer, activation), (forgetful, reset), (returning, VERIFY)):
        forms = crawl(client, [url]).forms
        assert any(f.action.split("?")[0] == url for f in forms), (url, forms)
        statuses = send_hostile(client, [f for f in forms if f.action.split("?")[0] == url], url)
        assert statuses[422] + statuses[429] > 20, (url, statuses)
