"""« Supprimer le compte » in the console: for a holder who asked the support
(RGPD). The same erasure as « Supprimer mon compte », with a confirmation box,
refused for the operator's own account and while a structure needs the
account's manager role handed over. Full page and htmx (``operator`` is both)."""

from __future__ import annotations

import json
import re

from models import AuditEvent, Membership, Structure, User
from tests.support.app import query
from tests.support.constants import EMAIL
from tests.support.i18n import speak
from tests.support.operators import account, account_id
from tests.support.responses import follow, shown, signs_in_first, text_of
from tests.support.signup import PERSON
from tests.support.structures import LUCIE, PIERRE, create_structure, new_client

PIERRE_EMAIL = PIERRE["email"]


def pierre_with_structure(app, mailbox):
    client = new_client(app, mailbox, PIERRE)
    assert create_structure(client).status_code == 303
    return client


def test_an_operator_deletes_an_account_at_its_holders_request(app, operator, mailbox):
    pierre = pierre_with_structure(app, mailbox)
    url = f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/"
    text = follow(
        operator, operator.submit(f"{url}supprimer", {"confirm": "yes"}), pushed="/administration/comptes"
    )
    assert "Le compte est supprimé" in text
    assert account(app, PIERRE_EMAIL) is None
    assert signs_in_first(pierre.get("/mon-compte/"))  # his session died with the account
    # The structure keeps its identifier (uniqueness), not his contact data.
    structure = query(app, lambda: Structure.get())
    assert structure.email is None and structure.phone is None
    [event] = query(app, lambda: list(AuditEvent.select().where(AuditEvent.event == "admin.account_deleted")))
    assert event.account == EMAIL
    assert json.loads(event.details)["target"].startswith("supprimé-")
    trail = query(app, lambda: [e.account for e in AuditEvent.select()])
    assert PIERRE_EMAIL not in trail
    # The trail names him by his pseudonym, in the page's language.
    pseudonym = next(name for name in trail if name and name.startswith("supprimé-"))
    assert pseudonym in shown(operator, "/administration/journal")
    speak(operator, "en")
    english = shown(operator, "/administration/journal")
    mark = pseudonym.removeprefix("supprimé-")
    assert f'data-label="Account">deleted-{mark}</td>' in english  # the details stay as recorded
    # Pasted as shown into the journal's filter, it finds its events.
    found = shown(operator, f"/administration/journal?account=deleted-{mark}")
    assert f'data-label="Account">deleted-{mark}</td>' in found


def test_deletion_needs_the_confirmation_box_attack_misclick(app, operator, mailbox):
    pierre_with_structure(app, mailbox)
    url = f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/"
    response = operator.submit(f"{url}supprimer")
    # The same page, 422, the message next to the box (and in the summary), the box marked invalid.
    assert response.status_code == 422
    text = text_of(response)
    error = re.search(r'<p class="error-message" id="confirm-error">(.*?)</p>', text, re.S)
    assert error and "Cochez la case de confirmation pour supprimer le compte." in error.group(1)
    assert 'class="error-summary"' in text and 'href="#confirm"' in text
    [box] = re.findall(r'<input[^>]*id="confirm"[^>]*>', text)
    assert 'aria-invalid="true"' in box and 'aria-describedby="confirm-error"' in box
    assert account(app, PIERRE_EMAIL) is not None


def test_an_operator_cannot_delete_their_own_account(app, operator):
    url = f"/administration/comptes/{account_id(app, EMAIL)}/"
    text = follow(operator, operator.submit(f"{url}supprimer", {"confirm": "yes"}), pushed=url)
    assert "ne peut pas être supprimé" in text
    assert account(app, EMAIL).status == User.ACTIVE


def test_a_sole_manager_with_members_is_not_deleted_before_a_handover(app, operator, mailbox):
    pierre_with_structure(app, mailbox)

    def marie_joins():
        Membership.create(
            user=User.by_email(EMAIL),
            structure=Structure.get(),
            role=Membership.USER,
            status=Membership.ACTIVE,
        )

    query(app, marie_joins)
    url = f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/"
    text = follow(operator, operator.submit(f"{url}supprimer", {"confirm": "yes"}), pushed=url)
    assert "nouveau gestionnaire principal" in text
    assert account(app, PIERRE_EMAIL) is not None


def test_deleting_is_404_for_an_ordinary_account_attack_privilege_escalation(app, mailbox):
    pierre = pierre_with_structure(app, mailbox)
    marie = new_client(app, mailbox, PERSON)
    assert marie.get("/mon-compte/").status_code == 200
    url = f"/administration/comptes/{account_id(app, EMAIL)}/supprimer"
    assert pierre.submit(url, {"confirm": "yes"}).status_code == 404
    assert account(app, EMAIL) is not None


def test_a_deletion_without_the_box_titles_the_page_as_an_error(app, operator, mailbox):
    """As every other form's error page: the title says « Erreur » first, so
    that a screen reader hears at once that the action was not done."""
    pierre_with_structure(app, mailbox)
    url = f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/"
    assert "<title>Pierre Durand – Administration" in text_of(operator.get(url))
    response = operator.submit(f"{url}supprimer")
    assert response.status_code == 422
    assert "<title>Erreur – Pierre Durand – Administration" in text_of(response)


def test_a_deletion_replayed_on_an_account_already_deleted_erases_nothing_more_attack_race(
    app, operator, mailbox
):
    """Two operators (or a double submit) delete the same account: the second
    request read the account before the first one's transaction ended. It
    must not report a second deletion in the audit trail."""
    import operations

    pierre_with_structure(app, mailbox)

    def delete_twice() -> list[bool]:
        by = User.by_email(EMAIL)
        first, second = User.by_email(PIERRE_EMAIL), User.by_email(PIERRE_EMAIL)
        return [operations.delete_account(by, first), operations.delete_account(by, second)]

    assert query(app, delete_twice) == [True, False]
    names = query(app, lambda: [e.event for e in AuditEvent.select().order_by(AuditEvent.id)])
    assert names.count("admin.account_deleted") == 1 and names.count("account.deleted") == 1


def test_a_page_opened_before_a_deletion_cannot_act_on_the_next_account_attack_id_reuse(
    app, operator, mailbox
):
    """Pierre's account, the newest, is deleted; Lucie signs up next. On
    SQLite she used to get his id, and « Désactiver » sent from his page,
    opened before, disabled her. Ids are never given twice."""
    new_client(app, mailbox, PIERRE)
    pierre_id = account_id(app, PIERRE_EMAIL)
    url = f"/administration/comptes/{pierre_id}/"
    assert operator.get(url).status_code == 200
    operator.submit(f"{url}supprimer", {"confirm": "yes"})
    assert account(app, PIERRE_EMAIL) is None
    new_client(app, mailbox, LUCIE)
    assert account_id(app, LUCIE["email"]) > pierre_id
    response = operator.submit(f"{url}desactiver")
    assert response.status_code == 404
    assert account(app, LUCIE["email"]).status == User.ACTIVE
