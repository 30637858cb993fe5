"""Unthrottled actions and structure squatting: request/cancel cycles cannot
flood a gestionnaire principal, one account cannot grab structure after
structure, and attachment requests and cancellations are limited per
account and per client (full page and htmx)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Membership, OutboxMail, Structure, utcnow
from tests.support.app import clean_environment, make_app, outbox, query
from tests.support.concurrency import at_once
from tests.support.responses import text_of
from tests.support.signup import PERSON
from tests.support.structures import (
    LUCIE,
    PIERRE,
    SIRET_NORMALISED,
    STRUCTURE,
    create_structure,
    new_client,
)

MANAGER_CONTACT = "direction@ateliers-curie.fr"


def siret(n: int) -> str:
    """A check-digit-valid SIRET (SIREN and SIRET keys), different for each n."""
    from stdnum import luhn

    siren = f"{10_000_000 + n:08d}"
    siren += luhn.calc_check_digit(siren)
    return siren + "0000" + luhn.calc_check_digit(siren + "0000")


class Site:
    def __init__(self, app, htmx: bool):
        self.app, self.htmx = app, htmx

    def outbox(self, recipient=None):
        return outbox(self.app, recipient)

    def person(self, person: dict, htmx: bool | None = None):
        return new_client(self.app, self.outbox, person, self.htmx if htmx is None else htmx)

    def manager_and_requester(self):
        manager = self.person({**PERSON, "contact_email": MANAGER_CONTACT}, htmx=False)
        assert create_structure(manager).status_code == 303
        return manager, self.person(PIERRE)


@pytest.fixture(params=["page", "htmx"])
def site(request, tmp_path, monkeypatch):
    """``site(**settings)``: an app (limits on when asked) and its browsers."""
    clean_environment(monkeypatch)

    def build(**settings):
        return Site(make_app(tmp_path, TRUSTED_PROXIES=1, **settings), request.param == "htmx")

    return build


def ask(client, address="198.51.100.1"):
    return client.submit(
        "/structure/rattachement/demande",
        {"identifier_type": "siret", "identifier": SIRET_NORMALISED},
        headers={"X-Forwarded-For": address},
    )


def cancel(app, client, address="198.51.100.1"):
    membership_id = query(app, lambda: Membership.get(Membership.role == Membership.USER).id)
    return client.submit(f"/espace/demandes/{membership_id}/annuler", headers={"X-Forwarded-For": address})


def manager_mails(site) -> list[str]:
    return [m.subject for m in site.outbox(MANAGER_CONTACT) if "rattachement" in m.subject]


def delivered(app) -> None:
    """The outbox as a mail server leaves it: what was queued has gone out."""
    query(app, lambda: OutboxMail.update(sent_at=utcnow()).where(OutboxMail.sent_at.is_null()).execute())


def test_request_cancel_cycles_cannot_flood_the_manager(site):
    portal = site()
    _, requester = portal.manager_and_requester()
    for _ in range(10):
        assert ask(requester).status_code in (200, 303)
        delivered(portal.app)
        assert cancel(portal.app, requester).status_code in (200, 303)
        delivered(portal.app)
    # Told of the first request, the manager is told it was cancelled; of the
    # cycles after it, within the hour, nothing.
    assert manager_mails(portal) == ["Nouvelle demande de rattachement", "Demande de rattachement annulée"]
    # An hour later, the next request is mailed again.
    query(portal.app, lambda: Membership.update(manager_notified_at=utcnow() - timedelta(hours=1)).execute())
    ask(requester)
    assert manager_mails(portal)[2:] == ["Nouvelle demande de rattachement"]


def test_structure_squatting_is_limited_per_account(site):
    portal = site(STRUCTURES_PER_ACCOUNT_PER_DAY=3)
    squatter = portal.person(PERSON)
    for n in range(3):
        response = create_structure(squatter, identifier=siret(n), company_name=f"Prise {n}")
        assert response.status_code in (200, 303)
    response = create_structure(squatter, identifier=siret(3), company_name="Prise 3")
    assert response.status_code == 422
    text = text_of(response)
    assert "Vous avez déjà créé plusieurs structures aujourd'hui." in text
    assert 'value="Prise 3"' in text  # nothing typed is lost
    assert query(portal.app, lambda: Structure.select().count()) == 3
    # A day later, the account may create again.
    query(portal.app, lambda: Structure.update(created_at=utcnow() - timedelta(days=1, minutes=1)).execute())
    assert create_structure(squatter, identifier=siret(3), company_name="Prise 3").status_code in (200, 303)


def test_structure_creation_is_limited_per_client_counting_only_creations(site):
    portal = site(RATELIMIT_ENABLED=True, RATELIMIT_STRUCTURE_CREATE="2 per day")
    first, second = portal.person(PERSON), portal.person(LUCIE)
    at = {"headers": {"X-Forwarded-For": "203.0.113.5"}}
    for _ in range(3):  # form errors do not count
        assert create_structure(first, identifier="123", **at).status_code == 422
    assert create_structure(first, identifier=siret(1), **at).status_code in (200, 303)
    assert create_structure(second, identifier=siret(2), **at).status_code in (200, 303)
    response = create_structure(second, identifier=siret(3), **at)
    assert response.status_code == 429 and "trop de demandes" in text_of(response)


def test_an_account_past_its_own_limit_spends_none_of_its_offices(site):
    """One account retrying past its own limit is refused by it before the
    address's limit is counted: a colleague at the same address still
    creates hers."""
    portal = site(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STRUCTURE_CREATE="3 per day",
        RATELIMIT_STRUCTURE_CREATE_ACCOUNT="1 per day",
    )
    first, second = portal.person(PERSON), portal.person(LUCIE)
    at = {"headers": {"X-Forwarded-For": "203.0.113.5"}}
    assert create_structure(first, identifier=siret(1), **at).status_code in (200, 303)
    for n in (2, 3):
        assert (
            create_structure(first, identifier=siret(n), company_name=f"Prise {n}", **at).status_code == 429
        )
    assert create_structure(second, identifier=siret(4), company_name="Lucie SARL", **at).status_code in (
        200,
        303,
    )


def test_a_structure_already_on_the_portal_is_not_counted_as_a_creation(site):
    """« Cette structure existe déjà » creates nothing, whichever way it is
    answered: a person who tries it again, then types her own structure,
    is not refused for having tried."""
    portal = site(RATELIMIT_ENABLED=True, RATELIMIT_STRUCTURE_CREATE_ACCOUNT="1 per day")
    _, requester = portal.manager_and_requester()  # « Ateliers Curie » is on the portal
    for _ in range(3):
        answer = create_structure(requester)
        assert answer.status_code == 422 and "Cette structure existe déjà." in text_of(answer)
    assert create_structure(requester, identifier=siret(5), company_name="Durand SA").status_code in (
        200,
        303,
    )
    assert create_structure(requester, identifier=siret(6), company_name="Durand SAS").status_code == 429


def both(email: str) -> dict:
    return {"email": email, "email_confirm": email}


def test_attack_structures_created_together_from_one_address(site):
    """Accounts of one address squatting identifiers all at once: tested
    first and counted once created, creations sent at the same instant all
    passed a limit with room for two. Each is now counted at once with its
    test: two are created, the others refused (429), whatever their timing."""
    portal = site(RATELIMIT_ENABLED=True, RATELIMIT_STRUCTURE_CREATE="2 per day")
    squatters = [portal.person({**PERSON, **both(f"prete.nom{n}@exemple.fr")}) for n in range(6)]
    forms = [
        {
            **STRUCTURE,
            "csrf_token": squatter.csrf_token(),
            "identifier": siret(n),
            "company_name": f"Prise {n}",
        }
        for n, squatter in enumerate(squatters)
    ]
    at = {"X-Forwarded-For": "203.0.113.5"}
    answers = at_once(
        [
            lambda c=c, f=f: c.post("/structure/nouvelle", data=f, headers=at)
            for c, f in zip(squatters, forms, strict=True)
        ]
    )
    statuses = sorted(answer.status_code for answer in answers)
    created = 200 if portal.htmx else 303  # « Mon espace », swapped in or as a redirect
    assert statuses == sorted([created] * 2 + [429] * 4)
    assert query(portal.app, lambda: Structure.select().count()) == 2


def test_attachment_requests_are_limited_per_account_whatever_the_address(site):
    portal = site(RATELIMIT_ENABLED=True, RATELIMIT_ATTACHMENT_ACCOUNT="3 per hour")
    _, requester = portal.manager_and_requester()
    for n in range(3):
        assert ask(requester, f"198.51.100.{n}").status_code in (200, 303)
    response = ask(requester, "198.51.100.99")
    assert response.status_code == 429 and "Patientez" in text_of(response)


def test_cancellations_are_limited_per_account_whatever_the_address(site):
    portal = site(RATELIMIT_ENABLED=True, RATELIMIT_CANCEL_ACCOUNT="2 per hour")
    _, requester = portal.manager_and_requester()
    for n in range(2):
        ask(requester, f"198.51.100.{n}")
        assert cancel(portal.app, requester, f"198.51.100.{n}").status_code in (200, 303)
    ask(requester, "198.51.100.7")
    response = cancel(portal.app, requester, "198.51.100.8")
    assert response.status_code == 429 and "Patientez" in text_of(response)


def test_attachment_requests_are_limited_per_client(site):
    portal = site(RATELIMIT_ENABLED=True, RATELIMIT_ATTACHMENT="2 per hour")
    _, pierre = portal.manager_and_requester()
    lucie = portal.person(LUCIE)
    assert ask(pierre, "203.0.113.5").status_code in (200, 303)
    assert ask(lucie, "203.0.113.5").status_code in (200, 303)
    assert ask(lucie, "203.0.113.5").status_code == 429


def search(client, identifier: str, headers: dict | None = None):
    return client.get(
        "/structure/rattachement",
        query_string={"identifier_type": "siret", "identifier": identifier},
        headers=headers or {"X-Forwarded-For": "203.0.113.9"},
    )


def test_the_attachment_search_is_limited_per_client_attack_directory_enumeration(site):
    """Each search asks the portal and the directory (INSEE's API when it is
    configured, whose quota is the portal's): a script walking through
    SIRETs is stopped like the lookup as it is typed. Opening the empty form
    is not a search."""
    portal = site(RATELIMIT_ENABLED=True, RATELIMIT_SIRENE_LOOKUP="2 per hour")
    walker = portal.person(PERSON)
    at = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(3):
        assert walker.get("/structure/rattachement", headers=at).status_code == 200
    assert search(walker, siret(1)).status_code != 429
    assert search(walker, siret(2)).status_code != 429
    response = search(walker, siret(3))
    assert response.status_code == 429 and "trop de demandes" in text_of(response)
    # A HEAD runs the search too (Flask answers it with the GET view): it is
    # refused once the count is spent, and counted in the same count.
    query = {"identifier_type": "siret", "identifier": siret(4)}
    assert walker.head("/structure/rattachement", query_string=query, headers=at).status_code == 429
    elsewhere = {"X-Forwarded-For": "203.0.113.10"}
    heads = [walker.head("/structure/rattachement", query_string=query, headers=elsewhere) for _ in range(2)]
    assert [head.status_code == 429 for head in heads] == [False, False]
    assert search(walker, siret(5), elsewhere).status_code == 429


def test_the_type_switch_back_to_siret_is_limited_per_client_attack_directory_enumeration(site):
    """Back to SIRET, the type switch asks the directory for the SIRET the
    form holds: a script switching types over SIRETs is stopped like the
    lookup as it is typed. A switch to another type asks nothing, nor does
    the search's: not counted."""
    portal = site(RATELIMIT_ENABLED=True, RATELIMIT_SIRENE_LOOKUP="2 per hour")
    walker = portal.person(PERSON)

    def switch(identifier_type, identifier, **args):
        return walker.submit(
            "/structure/nouvelle/identifiant",
            {"identifier_type": identifier_type, "identifier": identifier, "country": "FR"},
            headers={"HX-Request": "true", "X-Forwarded-For": "203.0.113.9"},
            query_string=args,
        )

    for _ in range(3):
        assert switch("hors_ue", "ZZ12345").status_code == 200
        assert switch("siret", siret(9), recherche=1).status_code == 200
    assert switch("siret", siret(1)).status_code != 429
    assert switch("siret", siret(2)).status_code != 429
    assert switch("siret", siret(3)).status_code == 429


def test_the_lookup_as_the_siret_is_typed_is_limited_per_client_attack_directory_enumeration(site):
    portal = site(RATELIMIT_ENABLED=True, RATELIMIT_SIRENE_LOOKUP="2 per hour")
    walker = portal.person(PERSON)

    def lookup(identifier):
        return walker.submit(
            "/structure/nouvelle/sirene",
            {"identifier_type": "siret", "identifier": identifier, "country": "FR"},
            headers={"HX-Request": "true", "X-Forwarded-For": "203.0.113.9"},
        )

    assert lookup(siret(1)).status_code != 429
    assert lookup(siret(2)).status_code != 429
    assert lookup(siret(3)).status_code == 429
