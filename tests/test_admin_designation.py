"""An operator designates a new gestionnaire principal: the member chosen is
told (« Vous êtes gestionnaire principal… ») and the former one, who stays
utilisateur, too, each in their own language, through a real SMTP server;
a former manager whose account is closed is told nothing. Then the attacks
on the designation: a second submit, a designation at the same time,
another structure's member, a pending request."""

from __future__ import annotations

import json
import re
import time

import pytest

import operations
from models import AuditEvent, Membership, Structure, User, db
from tests.support.app import Client, HtmxClient, outbox, query, user_row
from tests.support.constants import EMAIL
from tests.support.operators import grant
from tests.support.responses import follow, text_of
from tests.support.second_factor import enrol_totp
from tests.support.signup import PERSON
from tests.support.structures import (
    LUCIE,
    PIERRE,
    STRUCTURE,
    ask_to_join,
    new_client,
    sign_up,
    structure_with_a_member,
)

LUCIE_EMAIL = LUCIE["email"]
PIERRE_CONTACT = PIERRE["contact_email"]
WITHDRAWN = "Vous n'êtes plus gestionnaire principal de votre structure"
RECEIVED = "Vous êtes gestionnaire principal de votre structure"


def delivered(smtp, recipient: str, subject: str, timeout: float = 10.0) -> list:
    """The messages the SMTP server received for ``recipient`` with that
    subject (after the portal's name), waiting for the first one."""

    def matching():
        return [m for m in smtp.messages if m["To"] == recipient and m["Subject"].endswith(f" – {subject}")]

    deadline = time.monotonic() + timeout
    while not matching() and time.monotonic() < deadline:
        time.sleep(0.02)
    return matching()


def text_part(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def events(app) -> list[AuditEvent]:
    return query(app, lambda: list(AuditEvent.select().where(AuditEvent.event == "admin.manager_designated")))


def roles(app) -> dict[str, str]:
    def read():
        rows = Membership.select(Membership, User).join(User, on=(Membership.user == User.id))
        return {m.user.email: m.role for m in rows if m.status == Membership.ACTIVE}

    return query(app, read)


def lucie_membership(app) -> int:
    return query(app, lambda: Membership.get(Membership.user == User.by_email(LUCIE_EMAIL)).id)


def console_on(app, client_class) -> tuple:
    """An operator (Marie) on a client of ``app``; « Ateliers Curie »
    managed by Pierre, Lucie its utilisateur. Returns (app, client, the
    structure's page)."""

    def mailbox(recipient=None):
        return outbox(app, recipient)

    structure_id = structure_with_a_member(app, mailbox)
    app.test_client_class = client_class
    operator = sign_up(app.test_client(), mailbox, PERSON)
    grant(app, EMAIL)
    enrol_totp(operator)
    return app, operator, f"/administration/structures/{structure_id}/"


@pytest.fixture(params=["page", "htmx"])
def mailing(request, smtp_app):
    """The console of the app that delivers to the SMTP server, full page or htmx."""
    return console_on(smtp_app, HtmxClient if request.param == "htmx" else Client)


@pytest.fixture
def console(app, any_client):
    """The console of the app whose mail stays in the outbox, full page or htmx."""
    return console_on(app, type(any_client))


def designate(operator, url: str, membership_id):
    return operator.submit(f"{url}gestionnaire", {"member": membership_id})


def test_the_former_manager_and_the_new_one_are_both_told_by_mail(mailing, smtp):
    app, operator, url = mailing
    text = follow(operator, designate(operator, url, lucie_membership(app)), pushed=url)
    assert "Lucie Martin est désormais gestionnaire principal de la structure." in text
    assert roles(app) == {PIERRE["email"]: Membership.USER, LUCIE_EMAIL: Membership.MANAGER}

    [former] = delivered(smtp, PIERRE_CONTACT, WITHDRAWN)
    body = text_part(former)
    assert body.startswith("Bonjour Pierre,")
    assert (
        "L'équipe du portail a désigné Lucie Martin gestionnaire principal de la structure "
        "Ateliers Curie, à votre place." in body
    )
    assert "Vous en restez utilisateur" in body and "contactez l'assistance du portail" in body
    assert f"http://portail.test{url.replace('/administration/structures', '/structure')}" in body
    assert former.get_body(preferencelist=("html",)) is not None

    [successor] = delivered(smtp, LUCIE_EMAIL, RECEIVED)  # as before: kept
    assert "L'équipe du portail vous a confié le rôle de gestionnaire principal" in text_part(successor)
    [event] = events(app)
    assert json.loads(event.details)["target"] == LUCIE_EMAIL


def test_each_reads_the_designation_in_their_own_language(mailing, smtp):
    app, operator, url = mailing
    query(app, lambda: User.update(language="en").where(User.email == PIERRE["email"]).execute())
    follow(operator, designate(operator, url, lucie_membership(app)))
    [former] = delivered(smtp, PIERRE_CONTACT, "You are no longer the main manager of your structure")
    body = text_part(former)
    assert body.startswith("Hello Pierre,")
    assert (
        "The portal team has appointed Lucie Martin as main manager of the structure Ateliers Curie" in body
    )
    assert "gestionnaire" not in body
    assert delivered(smtp, LUCIE_EMAIL, RECEIVED)  # Lucie's account speaks French


def test_a_former_manager_whose_account_is_closed_is_told_nothing(mailing, smtp):
    app, operator, url = mailing
    query(app, lambda: User.update(status=User.DISABLED).where(User.email == PIERRE["email"]).execute())
    follow(operator, designate(operator, url, lucie_membership(app)))
    assert delivered(smtp, LUCIE_EMAIL, RECEIVED)
    assert delivered(smtp, PIERRE_CONTACT, WITHDRAWN, timeout=0.5) == []
    assert WITHDRAWN not in [m.subject for m in outbox(app, PIERRE_CONTACT)]


def test_without_a_former_manager_only_the_new_one_is_told(console):
    app, operator, url = console
    query(app, lambda: Membership.delete().where(Membership.role == Membership.MANAGER).execute())
    follow(operator, designate(operator, url, lucie_membership(app)))
    assert [m.subject for m in outbox(app) if m.subject in (WITHDRAWN, RECEIVED)] == [RECEIVED]


def test_the_requests_waiting_for_the_operators_pass_to_the_manager_they_designate(console):
    """Without a gestionnaire principal, Jeanne's request went to the
    operators; once Lucie is designated she decides it: the operators'
    notices not sent yet are withdrawn, and her mail says one request waits."""
    app, operator, url = console
    query(app, lambda: Membership.delete().where(Membership.role == Membership.MANAGER).execute())
    jeanne = {
        **PERSON,
        "email": "jeanne@exemple.fr",
        "email_confirm": "jeanne@exemple.fr",
        "first_name": "Jeanne",
    }
    assert ask_to_join(new_client(app, lambda r=None: outbox(app, r), jeanne)).status_code in (200, 303)
    assert [m for m in outbox(app, EMAIL) if "Jeanne" in m.body_text]  # the operator was told
    follow(operator, designate(operator, url, lucie_membership(app)))
    assert [m for m in outbox(app, EMAIL) if "Jeanne" in m.body_text] == []
    [received] = [m for m in outbox(app) if m.subject == RECEIVED]
    assert "1 demande de rattachement attend votre décision." in received.body_text


# -- attacks --------------------------------------------------------------------------------


def test_attack_double_submit_designates_once_and_mails_once(console):
    app, operator, url = console
    lucie = lucie_membership(app)
    follow(operator, designate(operator, url, lucie))
    text = follow(operator, designate(operator, url, lucie), pushed=url)
    assert "Lucie Martin est déjà gestionnaire principal de la structure : rien n'a été modifié." in text
    assert len(events(app)) == 1
    assert [m.subject for m in outbox(app) if m.subject in (WITHDRAWN, RECEIVED)] == [RECEIVED, WITHDRAWN]


def test_attack_two_designations_at_once_record_and_mail_once(console):
    """Both forms were valid when sent; the second runs once the first has
    committed: nothing is recorded nor mailed again."""
    app, _operator, _url = console
    lucie = lucie_membership(app)

    def designate_twice():
        operator = User.by_email(EMAIL)
        structure = Structure.get()
        assert operations.designate_manager(operator, structure, lucie).id == lucie
        with pytest.raises(operations.AlreadyManager):
            operations.designate_manager(operator, structure, lucie)

    with app.test_request_context(), db.connection_context():
        designate_twice()
    assert len(events(app)) == 1
    assert len([m for m in outbox(app) if m.subject == WITHDRAWN]) == 1


def test_attack_designating_another_structures_member_changes_nothing(console):
    app, operator, url = console

    def another_structure() -> int:
        owner = user_row("ailleurs@exemple.fr", status=User.ACTIVE)
        details = {k: STRUCTURE[k] for k in ("address", "city", "postal_code", "country")}
        structure = Structure.register(owner, "siret", "73282932000009", company_name="Ailleurs", **details)
        return Membership.get(Membership.structure == structure).id

    foreign = query(app, another_structure)
    response = designate(operator, url, foreign)
    assert response.status_code == 422 and "Ailleurs" not in text_of(response)
    assert roles(app)[PIERRE["email"]] == Membership.MANAGER and roles(app)["ailleurs@exemple.fr"]
    assert events(app) == [] and [m for m in outbox(app) if m.subject == WITHDRAWN] == []


def test_attack_designating_a_pending_request_changes_nothing(console):
    """A person who only asked to join is no member: not a candidate."""
    app, operator, url = console

    def requester() -> int:
        paul = user_row("paul@exemple.fr", status=User.ACTIVE)
        return Membership.create(user=paul, structure=Structure.get()).id

    pending = query(app, requester)
    assert not re.search(rf'<option[^>]*value="{pending}"', text_of(operator.get(url)))
    assert designate(operator, url, pending).status_code == 422
    assert query(app, lambda: Membership.get_by_id(pending).role) == Membership.USER
    assert events(app) == []
