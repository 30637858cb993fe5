"""Every page and every form a visitor or an operator-manager reaches, sent
again and again without following where it leads (a redirect, a message
queued for a page the client never asks for), page and htmx: the session
cookie does not grow with the number of times. What a cookie holds is read
and signed again on every request, and zlib packs the same entry repeated
thousands of times into a few kilobytes, so its unpacked size is what is
measured (sessions.FLASHES_KEPT, signing.LARGEST_PAYLOAD)."""

from __future__ import annotations

import pytest
from flask.json.tag import TaggedJSONSerializer

from tests.support.crawl import ANONYMOUS, ENDS_THE_SESSION, SIGNED_IN, Form, body, crawl, operator_world

TIMES = 12
# Room for the one entry a request may add beside the ones already there (a
# different message than the last, a draft's id): far less than TIMES entries.
ONE_ENTRY = 200


def unpacked(client) -> int:
    """The bytes of JSON the session cookie unpacks to (0 without one)."""
    app = client.application
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        return 0
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    return len(TaggedJSONSerializer().dumps(data))


def swelling(client, urls: list[str], forms: list[Form]) -> list[tuple[str, int, int]]:
    """Each page asked for, then each form sent, TIMES in a row: those whose
    repeats grew the session (what, after once, after TIMES)."""
    grew = []
    token = client.csrf_token()
    for url in urls:
        sizes = []
        for _ in range(TIMES):
            assert client.get(url).status_code < 500, url
            sizes.append(unpacked(client))
        if sizes[-1] > sizes[0] + ONE_ENTRY:
            grew.append((url, sizes[0], sizes[-1]))
    for form in forms:
        if form.method != "post" or any(part in form.action for part in ENDS_THE_SESSION):
            continue
        fields = [(n, token if n == "csrf_token" else v) for n, v in form.fields]
        sizes = []
        for _ in range(TIMES):
            response = client.post(
                form.action, data=body(fields), content_type="application/x-www-form-urlencoded"
            )
            assert response.status_code < 500, form.action
            sizes.append(unpacked(client))
        if sizes[-1] > sizes[0] + ONE_ENTRY:
            grew.append((form.action, sizes[0], sizes[-1]))
    return grew


def test_attack_a_visitors_repeated_requests_do_not_swell_the_session(any_client):
    """The public pages and forms, and the pages behind « Se connecter »
    (each redirect queues the message that page would show)."""
    found = crawl(any_client, [*ANONYMOUS, *SIGNED_IN])
    assert "/espace/" in found.visited and "/inscription/" in found.pages
    assert {f.action.split("?")[0] for f in found.forms} >= {"/inscription/", "/connexion", "/langue"}
    assert swelling(any_client, found.visited, found.forms) == []


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_attack_an_operators_repeated_requests_do_not_swell_the_session(app, mailbox, htmx):
    """Every page and form of an operator who manages a structure: its
    console, her requests to decide, her drafts."""
    marie, _ = operator_world(app, mailbox)
    found = crawl(marie, SIGNED_IN)
    assert {"/administration/", "/approbations/", "/structure/nouvelle"} <= set(found.pages)
    marie.htmx = htmx
    assert swelling(marie, found.visited, found.forms) == []


def test_the_measure_sees_a_session_that_swells(any_client):
    """The control: before the messages were bounded, each unfollowed
    redirect to « Se connecter » added its message; the measure above sees
    what TIMES of them add (a cookie signed as the portal then signed it)."""
    app = any_client.application
    any_client.get("/connexion")
    before = unpacked(any_client)
    serializer = app.session_interface.get_signing_serializer(app)
    swollen = serializer.loads(any_client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    swollen["_flashes"] = [("info", "Connectez-vous pour accéder à cette page.")] * TIMES
    any_client.set_cookie(app.config["SESSION_COOKIE_NAME"], serializer.dumps(swollen))
    assert unpacked(any_client) > before + ONE_ENTRY
