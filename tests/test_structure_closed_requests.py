"""Requests waiting for a structure that the portal's team disables (or
refuses under moderation) are closed with it: each requester is told by
mail in their language and sees it on their pages, the manager and the
operators have nothing left to decide, and the notices about them that have
not gone out never will. Reopening the structure reopens none; asking again
works once it takes requests. A request cancelled by its author before its
notice went out withdraws that notice too. Someone else's request, or a
structure one is not a member of, answers as an id that does not exist."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest

import mailer
import structures
from models import AuditEvent, Membership, OutboxMail, Structure, User, db, utcnow
from tests.support.app import make_app, outbox, query
from tests.support.constants import EMAIL
from tests.support.i18n import speak
from tests.support.operators import grant
from tests.support.responses import follow, shown, text_of
from tests.support.second_factor import enrol_totp
from tests.support.signup import PERSON
from tests.support.structures import (
    LUCIE,
    PIERRE,
    ask_to_join,
    create_structure,
    mails_to,
    new_client,
)

PAUL = {
    **PERSON,
    "email": "paul.leroy@exemple.fr",
    "email_confirm": "paul.leroy@exemple.fr",
    "first_name": "Paul",
    "last_name": "Leroy",
    "contact_email": "",
}
ANNA = {
    **PAUL,
    "email": "anna.smith@exemple.fr",
    "email_confirm": "anna.smith@exemple.fr",
    "first_name": "Anna",
}
NEW_REQUEST = "Nouvelle demande de rattachement"
CLOSED_SUBJECT = "Votre demande de rattachement est close"
TOKEN = re.compile(r"[\w.-]{40,}")
CLOSED_ON = re.compile(r"Close par l'équipe du portail le \d\d/\d\d/\d{4} à \d\d:\d\d")


def request_of(app, email: str) -> Membership:
    return query(app, lambda: Membership.get(Membership.user == User.by_email(email)))


def row(text: str, membership_id: int) -> str:
    found = re.search(rf'<tr id="request-{membership_id}">.*?</tr>', text, re.S)
    assert found, f"no row for request {membership_id}"
    return found.group(0)


def asks(client) -> None:
    response = ask_to_join(client)
    assert response.status_code in (200, 303), text_of(response)


def notices(app) -> list[OutboxMail]:
    """The notices asking someone to decide on a request, wherever they go."""
    subjects = (NEW_REQUEST, "Demande de rattachement à une structure sans gestionnaire")
    return [m for m in outbox(app) if m.subject in subjects]


def closing_events(app) -> list[AuditEvent]:
    return query(
        app,
        lambda: list(
            AuditEvent.select().where(
                (AuditEvent.event == "membership.decided") & (AuditEvent.outcome == "closed")
            )
        ),
    )


@pytest.fixture
def waiting(app, mailbox, operator):
    """« Ateliers Curie » (Pierre manages it) and two requests waiting for
    Pierre: Paul's (French) and Anna's (her account reads English); Paul's
    browser works as the operator's does (full page or htmx). Returns
    (operator, paul, the structure's console page)."""
    pierre = new_client(app, mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    paul = new_client(app, mailbox, PAUL, htmx=operator.htmx)
    asks(paul)
    anna = new_client(app, mailbox, ANNA)
    query(app, lambda: User.update(language="en").where(User.email == ANNA["email"]).execute())
    asks(anna)
    assert len(notices(app)) == 2  # not delivered (no mail server): still in the outbox
    url = f"/administration/structures/{query(app, lambda: Structure.get().id)}/"
    return operator, paul, url


# -- disabling closes the requests ---------------------------------------------------------


def test_a_closed_request_stays_closed_by_the_portal_once_the_operator_s_account_is_gone(app, waiting):
    """Closed requests were told from withdrawn ones by who decided them: the
    operator's account deleted (its decisions' « decided_by » emptied), Paul's
    read « Annulée », as if he had withdrawn it, and step 5 dropped it."""
    operator, paul, url = waiting
    follow(operator, operator.submit(f"{url}desactiver"), pushed=url)
    query(app, lambda: User.delete().where(User.email == EMAIL).execute())
    closed = request_of(app, PAUL["email"])
    assert closed.decided_by_id is None and closed.closed_by_portal
    assert CLOSED_ON.search(shown(paul, "/espace/"))


def test_disabling_a_structure_closes_its_requests_and_tells_each_requester_in_their_language(
    app, waiting, mailbox
):
    operator, paul, url = waiting
    assert "Paul Leroy" in shown(operator, url)
    text = follow(operator, operator.submit(f"{url}desactiver"), pushed=url)
    assert "La structure est désactivée" in text
    assert "Demandes de rattachement en attente" not in text and "Paul Leroy" not in text

    operator_id = query(app, lambda: User.by_email(EMAIL).id)
    for email in (PAUL["email"], ANNA["email"]):
        closed = request_of(app, email)
        assert closed.status == Membership.CLOSED and closed.decided_by_id == operator_id
        assert closed.closed_by_portal
    [french] = mails_to(mailbox, PAUL["email"])[-1:]
    assert french.subject == CLOSED_SUBJECT and french.language == "fr"
    assert "Ateliers Curie (SIRET 73282932000074) est close" in french.body_text
    assert "la structure a été désactivée par l'équipe du Portail Structures" in french.body_text
    assert "12 rue de la Paix" not in french.body_text  # a non-member reads no address
    [english] = mails_to(mailbox, ANNA["email"])[-1:]
    assert english.subject == "Your attachment request is closed" and english.language == "en"
    assert "has been disabled by the Portail Structures team" in english.body_text
    # The manager learns the requests are closed with the structure.
    [disabled] = [m for m in mails_to(mailbox, PIERRE["contact_email"]) if "désactivée" in m.subject]
    assert "Les 2 demandes de rattachement en attente sont closes" in disabled.body_text
    # Audited as decisions, by the operator.
    events = closing_events(app)
    assert [e.account for e in events] == [EMAIL, EMAIL]
    assert {json.loads(e.details)["requester"] for e in events} == {PAUL["email"], ANNA["email"]}
    # The notices asking Pierre to decide on them, not delivered yet, never will be.
    assert notices(app) == []


def test_the_requester_sees_the_closed_request_and_cannot_cancel_it_any_more(app, waiting):
    operator, paul, url = waiting
    membership_id = request_of(app, PAUL["email"]).id
    assert "Annuler la demande" in row(shown(paul, "/espace/"), membership_id)
    follow(operator, operator.submit(f"{url}desactiver"), pushed=url)

    text = shown(paul, "/espace/")
    closed = row(text, membership_id)
    assert CLOSED_ON.search(closed) and "elle a été désactivée ou n'a pas été validée" in closed
    assert "Annuler la demande" not in closed and "Demander à nouveau" in closed
    assert "Aucune demande en attente." in text
    # The « Annuler » of a page opened before: nothing to cancel, said in words.
    response = paul.submit(f"/espace/demandes/{membership_id}/annuler")
    message = "Cette demande a déjà été traitée : elle ne peut plus être annulée."
    if paul.htmx:
        assert response.status_code == 409 and message in text_of(response)
        assert CLOSED_ON.search(text_of(response))
    else:
        assert message in follow(paul, response)
    assert request_of(app, PAUL["email"]).closed_by_portal
    # Step 5, while Paul has no structure, says it too.
    step = shown(paul, "/structure/")
    assert "Votre demande de rattachement à la structure Ateliers Curie a été close le" in step
    assert "la structure n'accepte plus de demande de rattachement" in step


def test_the_manager_has_nothing_left_to_decide_attack_stale_approval_page(app, mailbox, operator):
    """Pierre's « Approbations » was opened before the structure was
    disabled; his « Approuver » then changes nothing and says why."""
    pierre = new_client(app, mailbox, PIERRE, htmx=operator.htmx)
    assert create_structure(pierre).status_code in (200, 303)
    asks(new_client(app, mailbox, PAUL))
    membership_id = request_of(app, PAUL["email"]).id
    assert f"/approbations/{membership_id}/approuver" in shown(pierre, "/approbations/")
    url = f"/administration/structures/{query(app, lambda: Structure.get().id)}/"
    follow(operator, operator.submit(f"{url}desactiver"), pushed=url)

    assert "Paul Leroy" not in shown(pierre, "/approbations/")
    assert "Aucune demande de rattachement en attente." in shown(pierre, "/espace/")
    before = len(mailbox())
    response = pierre.submit(f"/approbations/{membership_id}/approuver")
    if pierre.htmx:
        assert response.status_code == 409
        assert "Close par l'équipe du portail le" in text_of(response)
    else:
        assert "Cette demande a déjà été traitée ou annulée." in follow(pierre, response)
    assert request_of(app, PAUL["email"]).closed_by_portal
    assert len(mailbox()) == before


def test_reenabling_reopens_nothing_and_asking_again_works(app, waiting, mailbox):
    operator, paul, url = waiting
    follow(operator, operator.submit(f"{url}desactiver"), pushed=url)
    # Asked again while the structure is disabled: refused, in words, nothing sent.
    before = len(mailbox())
    response = ask_to_join(paul)
    assert response.status_code == 409
    assert "Votre demande de rattachement n'a pas été envoyée" in text_of(response)
    assert "n'accepte pas de demande de rattachement pour le moment" in text_of(response)
    assert request_of(app, PAUL["email"]).closed_by_portal and len(mailbox()) == before

    follow(operator, operator.submit(f"{url}reactiver"), pushed=url)
    assert request_of(app, PAUL["email"]).status == Membership.CLOSED
    assert "Paul Leroy" not in shown(operator, url)
    asks(paul)
    renewed = request_of(app, PAUL["email"])
    assert renewed.status == Membership.PENDING and renewed.decided_by_id is None
    assert "Annuler la demande" in row(shown(paul, "/espace/"), renewed.id)
    # The manager, whose notice of the first request was withdrawn, is told of this one.
    [notice] = [m for m in notices(app) if PAUL["email"] in m.body_text]
    assert notice.recipient == PIERRE["contact_email"] and f"#approval-{renewed.id}" in notice.body_text


def test_an_english_requester_reads_the_closed_request_in_english(app, mailbox, operator):
    pierre = new_client(app, mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    anna = new_client(app, mailbox, ANNA, htmx=operator.htmx)
    asks(anna)
    url = f"/administration/structures/{query(app, lambda: Structure.get().id)}/"
    follow(operator, operator.submit(f"{url}desactiver"), pushed=url)
    speak(anna, "en", "/espace/")
    closed = row(shown(anna, "/espace/"), request_of(app, ANNA["email"]).id)
    assert re.search(r"Closed by the portal team on \d{1,2} \w\w\w \d{4} at \d\d:\d\d", closed), closed
    assert "it has been disabled, or was not approved" in closed
    assert "Close " not in closed and "équipe" not in closed


@pytest.fixture
def moderated(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_STRUCTURE_MODERATION", "true")
    return make_app(tmp_path)


def test_refusing_a_structure_under_moderation_closes_its_requests(moderated):
    app = moderated

    def mailbox(recipient=None):
        return outbox(app, recipient)

    pierre = new_client(app, mailbox, PIERRE)
    create_structure(pierre)
    paul = new_client(app, mailbox, PAUL)

    def a_request_from_before():  # asked while it took requests (moderation turned on since)
        Membership.create(user=User.by_email(PAUL["email"]), structure=Structure.get())

    query(app, a_request_from_before)
    operator = new_client(app, mailbox, PERSON)
    grant(app, EMAIL)
    enrol_totp(operator)
    url = f"/administration/structures/{query(app, lambda: Structure.get().id)}/"
    assert "est refusée" in follow(operator, operator.submit(f"{url}refuser"))

    assert request_of(app, PAUL["email"]).closed_by_portal
    [mail] = [m for m in mailbox(PAUL["email"]) if m.subject == CLOSED_SUBJECT]
    assert "la structure n'a pas été validée par l'équipe du Portail Structures" in mail.body_text
    assert CLOSED_ON.search(shown(paul, "/espace/"))
    assert [json.loads(e.details)["requester"] for e in closing_events(app)] == [PAUL["email"]]


def test_a_request_decided_meanwhile_is_not_closed_again(app, mailbox, manager):
    """The manager approves as the operator disables: of the two, one wins."""
    asks(new_client(app, mailbox, PAUL))

    def approve_then_close():
        structure = Structure.get()
        waiting = Membership.pending_for([structure])
        structures.decide(waiting[0], structure.manager(), approve=True)
        with db.atomic():
            return structures.close_requests(structure, User.by_email(EMAIL), structures.DISABLED)

    with app.test_request_context():
        assert query(app, approve_then_close) == 0
    assert request_of(app, PAUL["email"]).status == Membership.ACTIVE
    assert [m for m in mailbox(PAUL["email"]) if m.subject == CLOSED_SUBJECT] == []


# -- a cancel before the notice went out ----------------------------------------------------


def test_a_request_cancelled_before_its_notice_went_out_withdraws_it(app, any_client, mailbox):
    pierre = new_client(app, mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    paul = new_client(app, mailbox, PAUL, htmx=any_client.htmx)
    asks(paul)
    [notice] = notices(app)
    assert notice.sent_at is None
    kept = [m.id for m in mailbox(PIERRE["contact_email"]) if m.id != notice.id]
    membership_id = request_of(app, PAUL["email"]).id

    response = paul.submit(f"/espace/demandes/{membership_id}/annuler")
    if paul.htmx:
        assert response.status_code == 200 and "Annulée le" in text_of(response)
    else:
        assert "Votre demande de rattachement est annulée." in follow(paul, response)
    # Pierre is asked nothing about a request he never heard of, nor told it is cancelled.
    assert notices(app) == []
    assert [m.id for m in mailbox(PIERRE["contact_email"])] == kept
    # Asking again tells him at once: the withdrawn notice held no claim.
    asks(paul)
    [again] = notices(app)
    assert again.recipient == PIERRE["contact_email"] and "Paul Leroy" in again.body_text


def test_a_cancel_after_the_notice_went_out_is_told_to_the_manager(app, mailbox, manager):
    """Told of the request, the manager is told it is cancelled, even within
    the hour that allows one notice per requester."""
    paul = new_client(app, mailbox, PAUL)
    asks(paul)
    query(app, lambda: OutboxMail.update(sent_at=utcnow()).execute())  # delivered
    paul.submit(f"/espace/demandes/{request_of(app, PAUL['email']).id}/annuler")
    subjects = [m.subject for m in mailbox(EMAIL) if "rattachement" in m.subject]
    assert subjects == [NEW_REQUEST, "Demande de rattachement annulée"]


def test_attack_a_notice_being_delivered_is_not_withdrawn(app, mailbox, manager):
    """A worker holds the notice (it is sending it): it cannot be taken back,
    so the manager is told of the cancel as well."""
    paul = new_client(app, mailbox, PAUL)
    asks(paul)
    lease = utcnow() + timedelta(minutes=5)
    query(
        app, lambda: OutboxMail.update(claimed_until=lease).where(OutboxMail.subject == NEW_REQUEST).execute()
    )
    paul.submit(f"/espace/demandes/{request_of(app, PAUL['email']).id}/annuler")
    assert len(notices(app)) == 1
    assert "Demande de rattachement annulée" in [m.subject for m in mailbox(EMAIL)]


def test_a_cancelled_request_withdraws_the_operators_notices_too(app, mailbox, operator):
    """A structure without a manager: its requests go to the operators."""
    pierre = new_client(app, mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    query(app, lambda: User.update(status=User.DISABLED).where(User.email == PIERRE["email"]).execute())
    paul = new_client(app, mailbox, PAUL)
    asks(paul)
    [notice] = notices(app)
    assert notice.recipient == EMAIL and "#request-" in notice.body_text
    lucie = new_client(app, mailbox, LUCIE)
    asks(lucie)  # another request: its notice stays
    paul.submit(f"/espace/demandes/{request_of(app, PAUL['email']).id}/annuler")
    [left] = notices(app)
    assert "Lucie Martin" in left.body_text


def test_attack_withdrawing_one_request_leaves_the_notice_of_a_request_whose_id_it_begins(
    app, mailbox, manager
):
    """Request 4's mark is not found in request 42's notice."""
    paul = new_client(app, mailbox, PAUL)
    asks(paul)
    [notice] = notices(app)
    membership_id = request_of(app, PAUL["email"]).id
    longer = f"{membership_id}0"

    def renumber():  # the notice of request 40 when withdrawing request 4
        mail = OutboxMail.get_by_id(notice.id)
        mail.body_html = mail.body_html.replace(f'#approval-{membership_id}"', f'#approval-{longer}"')
        mail.save()

    query(app, renumber)
    assert query(app, lambda: OutboxMail.withdraw(f'#approval-{membership_id}"')) == 0
    assert [m.id for m in notices(app)] == [notice.id]


# -- real mail ------------------------------------------------------------------------------


def test_a_notice_held_back_by_the_server_and_cancelled_meanwhile_never_arrives(smtp_app, smtp):
    """The mail server refuses for a while: the notice waits in the outbox;
    the request is cancelled; once the server takes mail again, the manager
    gets nothing about it, while the rest of the outbox is delivered."""
    app = smtp_app

    def mailbox(recipient=None):
        return outbox(app, recipient)

    smtp.refuse = 10_000
    pierre = new_client(app, mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    query(app, lambda: OutboxMail.update(sent_at=utcnow()).execute())  # delivered before
    paul = new_client(app, mailbox, PAUL)
    asks(paul)
    [notice] = notices(app)
    assert notice.sent_at is None and notice.recipient == PIERRE["contact_email"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the delivery thread tried, and let go of it
        [notice] = notices(app)
        if notice.attempts and notice.claimed_until is None:
            break
        time.sleep(0.02)
    assert notice.last_error and notice.sent_at is None
    paul.submit(f"/espace/demandes/{request_of(app, PAUL['email']).id}/annuler")
    assert notices(app) == []

    smtp.refuse = 0
    before = len(smtp.messages)
    unsent = query(app, lambda: OutboxMail.select().where(OutboxMail.sent_at.is_null()).count())
    assert unsent >= 1  # Paul's own mail (his request sent) still goes
    with app.test_request_context(), db.connection_context():
        OutboxMail.update(next_attempt_at=utcnow(), claimed_until=None).execute()
        mailer.deliver_pending()
    received = smtp.wait_for(before + unsent)[before:]
    assert received and all(str(m["Subject"]) != NEW_REQUEST for m in received)
    assert PIERRE["contact_email"] not in [str(m["To"]) for m in received]


# -- ids that are not the person's ----------------------------------------------------------


def test_attack_request_ids_do_not_tell_existence(app, mailbox, any_client):
    """Zoé sends the forms of requests and structures that are not hers, and
    of ids nobody has: the same 404 each time, naming nothing, changing nothing."""
    pierre = new_client(app, mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    paul = new_client(app, mailbox, PAUL)
    asks(paul)
    request_id = request_of(app, PAUL["email"]).id
    structure_id = query(app, lambda: Structure.get().id)
    zoe = new_client(
        app,
        mailbox,
        {**PAUL, "email": "zoe@exemple.fr", "email_confirm": "zoe@exemple.fr", "first_name": "Zoé"},
    )
    zoe.htmx = any_client.htmx
    unknown_request, unknown_structure = request_id + 1000, structure_id + 1000
    pairs = [
        (f"/approbations/{request_id}/approuver", f"/approbations/{unknown_request}/approuver"),
        (f"/approbations/{request_id}/refuser", f"/approbations/{unknown_request}/refuser"),
        (f"/espace/demandes/{request_id}/annuler", f"/espace/demandes/{unknown_request}/annuler"),
        (f"/structure/{structure_id}/gestionnaire", f"/structure/{unknown_structure}/gestionnaire"),
        (f"/structure/{structure_id}/modifier", f"/structure/{unknown_structure}/modifier"),
        (f"/structure/{structure_id}/siret", f"/structure/{unknown_structure}/siret"),
    ]
    for existing, missing in pairs:
        answers = [zoe.submit(url, {"member": request_id, "confirm": "y"}) for url in (existing, missing)]
        assert [a.status_code for a in answers] == [404, 404], existing
        texts = [
            text_of(a).replace(str(unknown_request), "ID").replace(str(request_id), "ID") for a in answers
        ]
        texts = [t.replace(str(unknown_structure), "ID").replace(str(structure_id), "ID") for t in texts]
        texts = [TOKEN.sub("TOKEN", t) for t in texts]  # the CSRF token, masked afresh in each answer
        assert texts[0] == texts[1], existing
        assert "Ateliers Curie" not in texts[0] and "Paul" not in texts[0]
    for existing, missing in ((f"/structure/{structure_id}/", f"/structure/{unknown_structure}/"),):
        assert zoe.get(existing).status_code == zoe.get(missing).status_code == 404
    assert request_of(app, PAUL["email"]).status == Membership.PENDING
    assert query(app, lambda: Structure.get().manager().email) == PIERRE["email"]
