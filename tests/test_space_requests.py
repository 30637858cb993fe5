"""« Mon espace » keeps a refused or cancelled request in view for a while
(its structure, the decision and its date, and a way to ask again), to its
author only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

import structures
from models import Membership, Structure, User, utcnow
from structures import ENDED_SHOWN_DAYS
from tests.support.app import query, recorded_statements, user_row
from tests.support.constants import EMAIL
from tests.support.operators import grant
from tests.support.responses import follow, shown, text_of
from tests.support.structures import (
    LUCIE,
    PIERRE,
    SIRET_NORMALISED,
    ask_to_join,
    create_structure,
    new_client,
    sign_up,
)

DECIDED_ON = re.compile(r"(Refusée|Annulée) le \d\d/\d\d/\d{4} à \d\d:\d\d")
ASK_AGAIN = f"/structure/rattachement?identifier_type=siret&amp;identifier={SIRET_NORMALISED}"


@pytest.fixture
def requester(app, any_client, mailbox, manager):
    """Pierre, on a full-page or htmx client, who asked to join « Ateliers Curie »."""
    pierre = sign_up(any_client, mailbox, PIERRE)
    ask(pierre)
    return pierre


def ask(client):
    response = ask_to_join(client)
    assert response.status_code in (200, 303), text_of(response)
    return response


def request_of(app, email: str) -> int:
    return query(app, lambda: Membership.get(Membership.user == User.by_email(email)).id)


def row(text: str, membership_id: int) -> str:
    found = re.search(rf'<tr id="request-{membership_id}">.*?</tr>', text, re.S)
    assert found, f"no row for request {membership_id}"
    return found.group(0)


def test_a_refused_request_stays_in_mon_espace_with_its_date_and_a_way_to_ask_again(app, manager, requester):
    membership_id = request_of(app, PIERRE["email"])
    assert manager.submit(f"/approbations/{membership_id}/refuser").status_code == 303
    text = shown(requester, "/espace/")
    refused = row(text, membership_id)
    assert "Ateliers Curie" in refused and SIRET_NORMALISED in refused
    assert DECIDED_ON.search(refused).group(1) == "Refusée"
    assert f'href="{ASK_AGAIN}"' in refused and "Demander à nouveau" in refused
    assert "Annuler la demande" not in refused
    assert "Aucune demande en attente." in text and "reste affichée ici 30 jours" in text
    # Asking again: the same row is pending again, and the refusal is gone.
    search = shown(requester, ASK_AGAIN.replace("&amp;", "&"))
    assert "Demander le rattachement" in search
    ask(requester)
    text = shown(requester, "/espace/")
    assert "En attente" in row(text, membership_id) and not DECIDED_ON.search(text)
    assert text.count(f'id="request-{membership_id}"') == 1


def test_a_request_refused_by_an_operator_shows_the_same(app, requester, mailbox):
    membership_id = request_of(app, PIERRE["email"])
    new_client(app, mailbox, LUCIE)
    grant(app, LUCIE["email"])  # an operator: who refused does not change the row

    def refuse_as_operator():
        membership = Membership.get_by_id(membership_id)
        assert structures.settle(membership, Structure.get(), User.by_email(LUCIE["email"]), approve=False)

    with app.test_request_context():  # the mail links to « Mon espace »
        query(app, refuse_as_operator)
    assert DECIDED_ON.search(row(shown(requester, "/espace/"), membership_id)).group(1) == "Refusée"


def test_a_cancelled_request_stays_in_mon_espace(app, requester):
    membership_id = request_of(app, PIERRE["email"])
    requester.submit(f"/espace/demandes/{membership_id}/annuler")
    cancelled = row(shown(requester, "/espace/"), membership_id)
    assert DECIDED_ON.search(cancelled).group(1) == "Annulée" and f'href="{ASK_AGAIN}"' in cancelled


def test_a_decision_leaves_mon_espace_after_a_while(app, manager, requester):
    membership_id = request_of(app, PIERRE["email"])
    manager.submit(f"/approbations/{membership_id}/refuser")

    def decided(days_ago: float):
        moment = utcnow() - timedelta(days=days_ago)
        query(app, Membership.update(decided_at=moment).where(Membership.id == membership_id).execute)

    decided(ENDED_SHOWN_DAYS - 1)
    assert f'id="request-{membership_id}"' in shown(requester, "/espace/")
    decided(ENDED_SHOWN_DAYS + 1)
    text = shown(requester, "/espace/")
    assert f'id="request-{membership_id}"' not in text and "<table" not in text.split("Mes demandes")[1]
    assert "Aucune demande en attente." in text


def test_another_persons_refusal_never_shows_in_mon_espace(app, manager, requester, mailbox):
    """Lucie's refused request is hers alone: neither Pierre, who asked the
    same structure, nor Marie, who refused it, sees it in « Mon espace »."""
    lucie = new_client(app, mailbox, LUCIE)
    ask(lucie)
    lucie_request = request_of(app, LUCIE["email"])
    follow(manager, manager.submit(f"/approbations/{lucie_request}/refuser"))  # its message read
    assert DECIDED_ON.search(row(shown(lucie, "/espace/"), lucie_request))
    for other in (requester, manager):
        text = text_of(other.get("/espace/"))
        assert f'id="request-{lucie_request}"' not in text
        assert not DECIDED_ON.search(text) and "Lucie" not in text


def test_an_approved_request_moves_to_mes_structures_not_to_the_decisions(app, manager, requester):
    membership_id = request_of(app, PIERRE["email"])
    manager.submit(f"/approbations/{membership_id}/approuver")
    text = shown(requester, "/espace/")
    assert f'id="request-{membership_id}"' not in text and not DECIDED_ON.search(text)
    assert "Utilisateur" in text
    assert "Ateliers Curie" in follow(requester, ask(requester))  # asking again: already attached


# -- step 5: where a person with no structure lands after signing in ---------------------

REFUSED_ON_STEP_5 = re.compile(
    r"Votre demande de rattachement à la structure Ateliers Curie a été refusée le \d\d/\d\d/\d{4}"
)


def test_step_5_tells_a_person_without_structure_their_request_was_refused(app, manager, requester):
    membership_id = request_of(app, PIERRE["email"])
    assert "refusée" not in shown(requester, "/structure/")  # pending: step 5 says so, no refusal
    manager.submit(f"/approbations/{membership_id}/refuser")
    text = shown(requester, "/structure/")
    assert REFUSED_ON_STEP_5.search(text)
    assert 'href="/espace/"' in text.split("a été refusée")[1].split("</div>")[0]
    assert "Créer une nouvelle structure" in text  # the choice is still offered


def test_step_5_says_nothing_of_a_cancelled_request_nor_an_old_refusal(app, manager, requester):
    """Cancelling is the person's own act; a refusal older than ENDED_SHOWN_DAYS is no news."""
    membership_id = request_of(app, PIERRE["email"])
    requester.submit(f"/espace/demandes/{membership_id}/annuler")
    assert "refusée" not in shown(requester, "/structure/")
    manager_refuses_again = Membership.update(
        status=Membership.REFUSED, decided_at=utcnow() - timedelta(days=ENDED_SHOWN_DAYS + 1)
    ).where(Membership.id == membership_id)
    query(app, manager_refuses_again.execute)
    assert "refusée" not in shown(requester, "/structure/")


def test_step_5_never_shows_another_persons_refusal(app, manager, requester, mailbox):
    lucie = new_client(app, mailbox, LUCIE)
    ask(lucie)
    manager.submit(f"/approbations/{request_of(app, LUCIE['email'])}/refuser")
    assert REFUSED_ON_STEP_5.search(shown(lucie, "/structure/"))
    assert "refusée" not in shown(requester, "/structure/")


def test_pending_requests_come_first_then_the_latest_decisions(app, manager, requester):
    """One query reads both (structures.requests_in_view): the pending ones by
    structure, then the decisions, the latest first."""
    other = "73282932000009"
    assert create_structure(manager, identifier=other, company_name="Babel Conseil").status_code == 303
    third = "44306184100047"
    assert create_structure(manager, identifier=third, company_name="Curie et Filles").status_code == 303
    for siret in (other, third):
        requester.submit("/structure/rattachement/demande", {"identifier_type": "siret", "identifier": siret})

    def request_to(name: str) -> int:
        pierre = User.by_email(PIERRE["email"])
        return Membership.get(
            (Membership.user == pierre) & (Membership.structure == Structure.get(company_name=name))
        ).id

    ids = {
        name: query(app, lambda n=name: request_to(n))
        for name in ("Ateliers Curie", "Babel Conseil", "Curie et Filles")
    }
    manager.submit(f"/approbations/{ids['Ateliers Curie']}/refuser")
    manager.submit(f"/approbations/{ids['Curie et Filles']}/refuser")
    older = utcnow() - timedelta(days=2)
    query(app, Membership.update(decided_at=older).where(Membership.id == ids["Ateliers Curie"]).execute)
    text = shown(requester, "/espace/")
    rows = re.findall(r'<tr id="request-(\d+)">', text)
    assert rows == [str(ids["Babel Conseil"]), str(ids["Curie et Filles"]), str(ids["Ateliers Curie"])]


def test_the_approvals_button_is_filled_only_when_a_request_waits_for_a_decision(
    app, manager, any_client, mailbox
):
    approvals = re.compile(r'<a class="([^"]+)" href="/approbations/">Approbations</a>')
    assert approvals.search(shown(manager, "/espace/")).group(1) == "button button--secondary"
    ask(sign_up(any_client, mailbox, PIERRE))
    for htmx in (False, True):  # the page, and the step swapped in place
        manager.htmx = htmx
        text = shown(manager, "/espace/")
        assert approvals.search(text).group(1) == "button"
        assert "Une demande de rattachement en attente de votre décision." in text


def test_mon_espace_reads_the_structures_it_manages_from_its_active_memberships(
    app, manager, any_client, mailbox, monkeypatch
):
    """« Mon espace » takes the structures an account manages from the active
    memberships it reads anyway, one query less: the same structures, in the
    same order, as Membership.managed_structures, whatever else the account
    holds (a pending request, a role that ended, a role of utilisateur)."""
    from rules.identifiers import EN_COURS

    pierre = sign_up(any_client, mailbox, PIERRE)
    for name in ("Zinc et Fils", "Ateliers Bernard", "Moulin Vert"):
        response = create_structure(pierre, identifier_type=EN_COURS, identifier="", company_name=name)
        assert response.status_code in (200, 303), text_of(response)
    ask(pierre)  # pending, to Marie's « Ateliers Curie »

    def other_roles() -> None:
        ended = Membership.structure == Structure.get(company_name="Moulin Vert")
        Membership.update(status=Membership.CLOSED).where(ended).execute()
        lucie = user_row(LUCIE["email"], first_name="Lucie", last_name="Martin", status=User.ACTIVE)
        Membership.create(
            user=lucie, structure=Structure.get(company_name="Zinc et Fils"), role=Membership.USER,
            status=Membership.ACTIVE, decided_at=utcnow(),
        )  # fmt: skip

    def managed(email: str) -> tuple[list[str], list[str]]:
        account = User.by_email(email)
        among = Membership.managed_among(Membership.of_user(account, Membership.ACTIVE))
        queried = Membership.managed_structures(account)
        return [s.company_name for s in among], [s.company_name for s in queried]

    query(app, other_roles)
    assert query(app, lambda: managed(PIERRE["email"])) == (["Ateliers Bernard", "Zinc et Fils"],) * 2
    assert query(app, lambda: managed(EMAIL)) == (["Ateliers Curie"],) * 2
    assert query(app, lambda: managed(LUCIE["email"])) == ([], [])
    statements = recorded_statements(monkeypatch, requests_only=True)
    text = shown(pierre, "/espace/")
    assert "Approbations" in text and "Zinc et Fils" in text and "Ateliers Bernard" in text
    # The account and its session, its active roles, its requests, those waiting
    # for its decision, whether the directory is loaded: no second read of its roles.
    assert len(statements) == 5, statements
