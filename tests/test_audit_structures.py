"""The structure events of the audit trail."""

from __future__ import annotations

import json

from models import AuditEvent, Membership, Structure
from tests.support.app import query
from tests.support.signup import PERSON
from tests.support.structures import PIERRE, SIRET_NORMALISED, create_structure, new_client


def structure_events(app) -> list[tuple[str, str, str, dict]]:
    rows = query(
        app,
        lambda: list(
            AuditEvent.select()
            .where(AuditEvent.event.startswith("structure.") | AuditEvent.event.startswith("membership."))
            .order_by(AuditEvent.id)
        ),
    )
    return [(e.event, e.account, e.outcome, json.loads(e.details or "{}")) for e in rows]


def test_creation_request_decision_and_handover_are_recorded(app, mailbox):
    marie = new_client(app, mailbox, PERSON)
    create_structure(marie)
    pierre = new_client(app, mailbox, PIERRE)
    request = {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    pierre.submit("/structure/rattachement/demande", request)
    sid = query(app, lambda: Structure.get().id)
    membership = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    marie.submit(f"/approbations/{membership}/approuver")
    marie.submit(f"/structure/{sid}/gestionnaire", {"member": membership, "confirm": "y"})

    assert structure_events(app) == [
        ("structure.created", "marie.curie@exemple.fr", "success", {"structure": sid}),
        ("membership.requested", "pierre.durand@exemple.fr", "success", {"structure": sid}),
        (
            "membership.decided",
            "marie.curie@exemple.fr",
            "approved",
            {"structure": sid, "requester": "pierre.durand@exemple.fr"},
        ),
        (
            "membership.role_handed_over",
            "marie.curie@exemple.fr",
            "success",
            {"structure": sid, "to": "pierre.durand@exemple.fr"},
        ),
    ]


def test_a_cancelled_request_is_recorded(app, mailbox):
    marie = new_client(app, mailbox, PERSON)
    create_structure(marie)
    pierre = new_client(app, mailbox, PIERRE)
    pierre.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    )
    membership = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    response = pierre.submit(f"/espace/demandes/{membership}/annuler")
    assert response.status_code in (200, 303), response.status_code
    assert [e[0] for e in structure_events(app)][-1] == "membership.cancelled"
