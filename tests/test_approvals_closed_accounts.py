"""A request whose account an operator closed since it was made: neither its
structure's gestionnaire principal (« Approbations ») nor an operator (a
structure without a manager, « Administration ») may approve it; the lists
offer it for refusal only, and a page opened before the closing is answered
in words, nothing changed. Reopened, the account's request is approvable
again. Then the attacks on the same paths: another structure's request, the
request of an account deleted since, a double submit."""

from __future__ import annotations

import re

import pytest

import operations
from models import AuditEvent, Membership, Structure, User, db
from tests.support.app import query, user_row
from tests.support.operators import grant
from tests.support.responses import follow, shown, text_of
from tests.support.second_factor import enrol_totp
from tests.support.signup import PERSON
from tests.support.structures import (
    LUCIE,
    PIERRE,
    STRUCTURE,
    ask_to_join,
    create_structure,
    mails_to,
    new_client,
    sign_up,
)

CLOSED_SINCE = (
    "Le compte de Pierre Durand a été fermé depuis sa demande : elle ne peut pas être approuvée, "
    "seulement refusée."
)
CLOSED_NOTE = "Compte fermé depuis la demande : elle ne peut qu'être refusée."
PIERRE_CONTACT = PIERRE["contact_email"]
OPERATOR = "operatrice@exemple.fr"
ANOTHER_SIRET = "73282932000009"


def membership_of(app, email: str) -> int:
    return query(app, lambda: Membership.get(Membership.user == User.by_email(email)).id)


def status_of(app, membership_id: int) -> str:
    return query(app, lambda: Membership.get_by_id(membership_id).status)


def decisions(app) -> list[AuditEvent]:
    return query(app, lambda: list(AuditEvent.select().where(AuditEvent.event == "membership.decided")))


def accepted_mails(mailbox) -> list:
    return [m for m in mails_to(mailbox, PIERRE_CONTACT) if "acceptée" in m.subject]


def as_operator(app, act):
    """``act(operator)`` as an operator would run it from the console (an
    operator's account written straight to the database)."""
    with app.test_request_context(), db.connection_context():
        operator = User.get_or_none(User.email == OPERATOR) or user_row(
            OPERATOR, status=User.ACTIVE, is_operator=True
        )
        return act(operator)


def close_account(app, email: str) -> None:
    assert as_operator(app, lambda op: operations.disable(op, User.by_email(email)))


def reopen_account(app, email: str) -> None:
    assert as_operator(app, lambda op: operations.enable(op, User.by_email(email)))


def lucie_asks_another_structure(app, mailbox, name: str) -> int:
    """Another structure, with its own gestionnaire principal, to which
    Lucie asks to be attached; her request's id."""

    def another() -> None:
        owner = user_row("ailleurs@exemple.fr", status=User.ACTIVE)
        details = {k: STRUCTURE[k] for k in ("address", "city", "postal_code", "country")}
        Structure.register(owner, "siret", ANOTHER_SIRET, company_name=name, **details)

    query(app, another)
    lucie = new_client(app, mailbox, LUCIE)
    lucie.submit("/structure/rattachement/demande", {"identifier_type": "siret", "identifier": ANOTHER_SIRET})
    return membership_of(app, LUCIE["email"])


def row_of(text: str, membership_id: int) -> str:
    return re.search(rf'<tr id="approval-{membership_id}">.*?</tr>', text, re.S).group(0)


# -- the gestionnaire principal (« Approbations ») --------------------------------------------


@pytest.fixture
def deciding(app, any_client, mailbox):
    """Marie manages « Ateliers Curie » on a full-page or htmx client, and has
    « Approbations » open with Pierre's request; returns (client, its id)."""
    marie = sign_up(any_client, mailbox, PERSON)
    assert create_structure(marie).status_code in (200, 303)
    ask_to_join(new_client(app, mailbox, PIERRE))
    membership_id = membership_of(app, PIERRE["email"])
    assert "Approuver<span" in row_of(shown(marie, "/approbations/"), membership_id)
    return marie, membership_id


def test_attack_approving_from_a_page_opened_before_the_account_closed_says_why(app, deciding, mailbox):
    marie, membership_id = deciding
    close_account(app, PIERRE["email"])
    response = marie.submit(f"/approbations/{membership_id}/approuver")
    if marie.htmx:  # the row replaces itself: refusal only, the message up in the flash region
        assert response.status_code == 409
        text = text_of(response)
        row, region = text.split('<div id="flashes"')
        assert f'data-announce="{CLOSED_SINCE}"' in row and CLOSED_NOTE in row
        assert "Refuser<span" in row and "Approuver<span" not in row
        assert f'<div class="notice notice--error notice--flash" role="status">{CLOSED_SINCE}</div>' in region
    else:
        text = follow(marie, response)
        assert f'<div class="notice notice--error notice--flash" role="status">{CLOSED_SINCE}</div>' in text
        assert "<h1>Approbations</h1>" in text
    assert status_of(app, membership_id) == Membership.PENDING
    assert accepted_mails(mailbox) == [] and decisions(app) == []


def test_approbations_offers_a_closed_accounts_request_for_refusal_only(app, deciding):
    marie, membership_id = deciding
    close_account(app, PIERRE["email"])
    row = row_of(shown(marie, "/approbations/"), membership_id)
    assert CLOSED_NOTE in row
    assert "Refuser<span" in row and "/approuver" not in row and "Approuver" not in row
    # It still waits for her decision (a refusal): « Mon espace » counts it.
    assert "Une demande de rattachement en attente de votre décision." in shown(marie, "/espace/")


def test_a_closed_accounts_request_may_still_be_refused(app, deciding, mailbox):
    marie, membership_id = deciding
    close_account(app, PIERRE["email"])
    response = marie.submit(f"/approbations/{membership_id}/refuser")
    if marie.htmx:
        assert response.status_code == 200 and "Refusée le" in text_of(response)
    else:
        assert "La demande de Pierre Durand est refusée." in follow(marie, response)
    assert status_of(app, membership_id) == Membership.REFUSED
    [event] = decisions(app)
    assert event.outcome == "refused"


def test_reopened_the_account_may_be_approved_again(app, deciding, mailbox):
    marie, membership_id = deciding
    close_account(app, PIERRE["email"])
    reopen_account(app, PIERRE["email"])
    row = row_of(shown(marie, "/approbations/"), membership_id)
    assert CLOSED_NOTE not in row and "Approuver<span" in row
    response = marie.submit(f"/approbations/{membership_id}/approuver")
    assert response.status_code in (200, 303)
    assert status_of(app, membership_id) == Membership.ACTIVE
    assert len(accepted_mails(mailbox)) == 1


def test_attack_account_closed_between_the_check_and_the_approval(app, deciding, mailbox, monkeypatch):
    """The operator's closing commits after the approval read the account,
    before its UPDATE: the UPDATE itself refuses, and the answer says why."""
    marie, membership_id = deciding
    approve = Membership.approve

    def closed_meanwhile(self, by):
        User.update(status=User.DISABLED).where(User.id == self.user_id).execute()
        return approve(self, by)

    monkeypatch.setattr(Membership, "approve", closed_meanwhile)
    response = marie.submit(f"/approbations/{membership_id}/approuver")
    if marie.htmx:
        assert response.status_code == 409 and CLOSED_SINCE in text_of(response)
    else:
        assert CLOSED_SINCE in follow(marie, response)
    assert status_of(app, membership_id) == Membership.PENDING
    assert accepted_mails(mailbox) == [] and decisions(app) == []


def test_the_model_approves_no_request_of_a_closed_account(app, deciding):
    _marie, membership_id = deciding
    close_account(app, PIERRE["email"])

    def approve() -> bool:
        membership = Membership.get_by_id(membership_id)
        return membership.approve(User.by_email(PERSON["email"].lower()))

    assert query(app, approve) is False
    assert status_of(app, membership_id) == Membership.PENDING


# -- attacks on « Approbations » -------------------------------------------------------------


def test_attack_deciding_another_structures_request_is_404(app, deciding, mailbox):
    """Marie manages « Ateliers Curie » only; Lucie asked to join another
    structure, whose request id Marie sends."""
    marie, _pierre = deciding

    foreign = lucie_asks_another_structure(app, mailbox, "Ailleurs")
    for action in ("approuver", "refuser"):
        response = marie.submit(f"/approbations/{foreign}/{action}")
        assert response.status_code == 404 and "Ailleurs" not in text_of(response)
    assert status_of(app, foreign) == Membership.PENDING


def test_attack_deciding_the_request_of_an_account_deleted_since_is_404(app, deciding):
    marie, membership_id = deciding
    query(app, lambda: User.delete().where(User.email == PIERRE["email"]).execute())
    assert marie.submit(f"/approbations/{membership_id}/approuver").status_code == 404
    assert decisions(app) == []


def test_attack_double_submit_of_an_approval_decides_once(app, deciding, mailbox):
    marie, membership_id = deciding
    assert marie.submit(f"/approbations/{membership_id}/approuver").status_code in (200, 303)
    again = marie.submit(f"/approbations/{membership_id}/approuver")
    if marie.htmx:
        assert again.status_code == 409
        assert "Cette demande a déjà été traitée ou annulée." in text_of(again)
    else:
        assert "Cette demande a déjà été traitée ou annulée." in follow(marie, again)
    assert len(accepted_mails(mailbox)) == 1 and len(decisions(app)) == 1


# -- the operators (a structure without a gestionnaire principal) ----------------------------


@pytest.fixture
def console(app, any_client, mailbox):
    """An operator on a full-page or htmx client; « Ateliers Curie » has no
    manager any more and Pierre's request waits for the operators. Returns
    (client, the structure's page, the request's id)."""
    operator = sign_up(any_client, mailbox, PERSON)
    grant(app, PERSON["email"])
    enrol_totp(operator)

    def orphan() -> int:
        creator = user_row("ancien@exemple.fr", status=User.ACTIVE)
        details = {k: STRUCTURE[k] for k in ("company_name", "address", "city", "postal_code", "country")}
        structure = Structure.register(creator, "siret", "73282932000074", **details)
        Membership.delete().where(Membership.user == creator).execute()
        return structure.id

    structure_id = query(app, orphan)
    ask_to_join(new_client(app, mailbox, PIERRE))
    return operator, f"/administration/structures/{structure_id}/", membership_of(app, PIERRE["email"])


def test_attack_an_operator_approving_a_closed_accounts_request_is_told_why(app, console, mailbox):
    operator, url, request_id = console
    assert f"demandes/{request_id}/approuver" in shown(operator, url)
    close_account(app, PIERRE["email"])
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/approuver"), pushed=url)
    assert CLOSED_SINCE in text
    assert status_of(app, request_id) == Membership.PENDING
    assert accepted_mails(mailbox) == [] and decisions(app) == []


def test_the_console_offers_a_closed_accounts_request_for_refusal_only(app, console, mailbox):
    operator, url, request_id = console
    close_account(app, PIERRE["email"])
    text = shown(operator, url)
    assert CLOSED_NOTE in text
    assert f"demandes/{request_id}/approuver" not in text and f"demandes/{request_id}/refuser" in text
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/refuser"), pushed=url)
    assert "La demande de rattachement est refusée." in text
    assert status_of(app, request_id) == Membership.REFUSED


def test_attack_an_operator_deciding_a_request_through_another_structures_page(app, console, mailbox):
    """A managed structure's request, sent through the page of a structure
    without a manager: the operators do not decide it."""
    operator, url, _request_id = console
    foreign = lucie_asks_another_structure(app, mailbox, "Gérée")
    text = follow(operator, operator.submit(f"{url}demandes/{foreign}/approuver"))
    assert "Cette demande n'attend plus de décision des opérateurs." in text
    assert status_of(app, foreign) == Membership.PENDING and decisions(app) == []


def test_attack_an_operator_deciding_the_request_of_an_account_deleted_since(app, console):
    operator, url, request_id = console
    query(app, lambda: User.delete().where(User.email == PIERRE["email"]).execute())
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/approuver"))
    assert "Cette demande n'attend plus de décision des opérateurs." in text
    assert decisions(app) == []


def test_attack_an_operators_double_submit_decides_once(app, console, mailbox):
    operator, url, request_id = console
    assert "est acceptée" in follow(operator, operator.submit(f"{url}demandes/{request_id}/approuver"))
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/refuser"))
    assert "Cette demande n'attend plus de décision des opérateurs." in text
    assert status_of(app, request_id) == Membership.ACTIVE
    assert len(accepted_mails(mailbox)) == 1 and len(decisions(app)) == 1


def test_the_closed_accounts_note_reads_in_english(app, deciding):
    from tests.support.i18n import speak

    marie, membership_id = deciding
    close_account(app, PIERRE["email"])
    speak(marie, "en")
    row = row_of(shown(marie, "/approbations/"), membership_id)
    assert "Account closed since the request: it can only be refused." in row and CLOSED_NOTE not in row
