"""Every page and every form of an operator who manages a structure, replayed
by people who are neither: a visitor, a newcomer signed in without a
structure, and Pierre, whose request to join waits for her. None of them
reads another person's address on those pages, and none of the forms
changes anything stored that is not their own (the accounts, the
structures, the requests, the second factors, the mail), whatever answer
they get. The pages and forms are found as the operator finds them
(tests.support.crawl)."""

from __future__ import annotations

import urllib.parse

import pytest

from models import (
    ConsentChange,
    Draft,
    EmailCode,
    Membership,
    OutboxMail,
    RecoveryCode,
    SecondFactor,
    Structure,
    Token,
    User,
    UserSession,
)
from tests.support.app import Client, HtmxClient, query
from tests.support.constants import EMAIL
from tests.support.crawl import ANONYMOUS, SIGNED_IN, body, crawl, operator_world
from tests.support.structures import PIERRE, new_client

JEAN = {
    **PIERRE,
    "email": "jean.dupont@exemple.fr",
    "email_confirm": "jean.dupont@exemple.fr",
    "first_name": "Jean",
    "last_name": "Dupont",
    "contact_email": "",
}
# The addresses of the operator's world, which the others never read on her pages.
OTHERS_ADDRESSES = (EMAIL, "lucie.martin@exemple.fr", "contact@ateliers-curie.fr")
# What stays the world's whoever sends a form: everyone's, in full.
SHARED = (Structure, Membership, SecondFactor, RecoveryCode)
# What a person's own sending may change: theirs only.
OWN = (User, UserSession, Token, EmailCode, Draft, ConsentChange, OutboxMail)


def snapshot(app, actor: str | None) -> dict:
    """Every stored row that is not ``actor``'s own activity (their account,
    sessions, codes, drafts, consents and mail)."""

    def read():
        actor_id = User.by_email(actor).id if actor else None
        rows = {model.__name__: sorted(map(repr, model.select().dicts())) for model in SHARED}
        for model in OWN:
            kept = []
            for row in model.select().dicts():
                owners = (row.get("id") if model is User else None, row.get("user"), row.get("account_id"))
                if actor_id is not None and actor_id in owners:
                    continue
                if actor and row.get("recipient") == actor:
                    continue
                kept.append(repr(row))
            rows[model.__name__] = sorted(kept)
        return rows

    return query(app, read)


@pytest.fixture(params=["page", "htmx"])
def others(request, app, mailbox):
    """The pages and forms of Marie (an operator who manages « Ateliers
    Curie », see tests.support.crawl.build_world), and the people who replay
    them, each on a full-page or an htmx client."""
    marie, pierre = operator_world(app, mailbox)
    found = crawl(marie, SIGNED_IN)
    pages, forms = found.visited, found.forms
    requesters = crawl(pierre, ["/espace/"]).forms
    forms += [f for f in requesters if f.action.startswith("/espace/demandes/")]  # Pierre's cancel
    htmx = request.param == "htmx"
    app.test_client_class = HtmxClient if htmx else Client
    visitor = app.test_client()
    newcomer = new_client(app, mailbox, JEAN, htmx=htmx)
    pierre.htmx = htmx
    people = {
        "visitor": (visitor, None),
        "newcomer": (newcomer, JEAN["email"]),
        "pierre": (pierre, PIERRE["email"]),
        "marie": (marie, EMAIL),  # for the control only
    }
    return pages, forms, people


@pytest.mark.parametrize("who", ["visitor", "newcomer", "pierre"])
def test_attack_an_operators_pages_show_nobody_else_her_people(others, app, who):
    pages, _, people = others
    client, _ = people[who]
    public = crawl(client, ANONYMOUS).visited
    shown = []
    for url in pages:
        response = client.get(url)
        assert response.status_code < 500, url
        text = response.get_data(as_text=True)
        asked = urllib.parse.unquote(url)  # an address the URL itself holds may be written back
        shown += [(url, address) for address in OTHERS_ADDRESSES if address in text and address not in asked]
    assert not shown, shown
    assert len(pages) > len(public)


@pytest.mark.parametrize("who", ["visitor", "newcomer", "pierre"])
def test_attack_an_operators_forms_change_nothing_of_others_when_replayed(others, app, who):
    _, forms, people = others
    client, email = people[who]
    theirs = [f for f in forms if f.method == "post" and f.action.startswith(MANAGED)]
    if who == "pierre":  # his own request's cancel is his to send
        theirs = [f for f in theirs if not f.action.startswith("/espace/demandes/")]
    assert len(theirs) >= 15, [f.action for f in forms]
    assert who == "pierre" or any(f.action.endswith("/annuler") for f in theirs)
    before = snapshot(app, email)
    for form in theirs:
        fields = [(n, client.csrf_token() if n == "csrf_token" else v) for n, v in form.fields]
        response = client.post(
            form.action, data=body(fields), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code < 500, form.action
        assert snapshot(app, email) == before, f"{who} changed what is not theirs with {form.action}"


def test_the_replay_sees_what_marie_herself_changes(others, app):
    """The control of the test above: the same forms sent by Marie herself
    change what the snapshot reads (Pierre's request approved)."""
    _, forms, people = others
    marie, email = people["marie"]
    [approve] = [
        f for f in forms if f.action.startswith("/approbations/") and f.action.endswith("/approuver")
    ]
    before = snapshot(app, email)
    fields = [(n, marie.csrf_token() if n == "csrf_token" else v) for n, v in approve.fields]
    marie.post(approve.action, data=body(fields), content_type="application/x-www-form-urlencoded")
    assert snapshot(app, email) != before


# The forms that act on someone else's account, structure, request, second
# factor or mail: the console's, the manager's, the approvals', the
# operator's own second factor, and Pierre's cancel of his request.
MANAGED = (
    "/espace/demandes/",
    "/administration/",
    "/approbations/",
    "/structure/1/",
    "/mon-compte/verification-en-deux-etapes/retirer/",
)
