"""« Administration » in English: every console page (home, accounts, an
account, structures, a structure, its correction, the audit trail, the
outbox) as a full page and as an htmx partial, its actions' messages and its
errors; French stays the default.

The whole answer is checked, header and footer included. What people typed
and what the database keeps (mail subjects as they were sent) is theirs,
not the portal's."""

from __future__ import annotations

import re

import pytest

from models import Membership, OutboxMail, utcnow
from tests.support.app import query
from tests.support.constants import EMAIL
from tests.support.i18n import assert_english, speak, visible_text
from tests.support.operators import account_id
from tests.support.responses import follow, is_fragment, text_of
from tests.support.structures import LUCIE, PIERRE, STRUCTURE, new_client
from views.structure import ROLES, STATUSES, STRUCTURE_STATUSES

TYPED = (
    "Marie Curie", "Pierre Durand", "Lucie Martin", "Jeanne Ancien", "Ateliers Curie", "Les Ateliers",
    "Marie", "Curie", "Pierre", "Durand", "Lucie", "Martin", "Portail Structures",
    STRUCTURE["address"], STRUCTURE["address_2"],
)  # fmt: skip
# Another area's labels shown in the console's tables (views/structure.py).
OTHER_LABELS = tuple(
    str(label) for labels in (ROLES, STATUSES, STRUCTURE_STATUSES) for label in labels.values()
)


def english(client, url: str, data: tuple[str, ...] = ()) -> str:
    """The console page at ``url`` in English (a partial under htmx); its visible text."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert is_fragment(response) == client.htmx
    return checked(client, text_of(response), data)


def checked(client, html: str, data: tuple[str, ...] = ()) -> str:
    """The console's part of ``html`` has no French left; its visible text."""
    stored = query(client.application, lambda: [mail.subject for mail in OutboxMail.select()])
    assert_english(html, data=TYPED + OTHER_LABELS + tuple(stored) + data)
    return visible_text(html)


@pytest.fixture
def english_operator(operator, structure_id):
    """The operator (full page or htmx) after choosing English with the header's switch."""
    speak(operator, "en")
    return operator


# -- pages ----------------------------------------------------------------------------------------


def test_home_in_english(english_operator):
    text = english(english_operator, "/administration/")
    assert "Home Accounts Structures Emails Log" in text
    assert "Email address, name, or a structure's company name or identifier" in text
    assert "Identifier, company name, trading name or city" in text


def test_accounts_search_in_english(english_operator):
    text = english(english_operator, "/administration/comptes?q=exemple.fr")
    assert "3 accounts found" in text and "Sign-in" not in text
    assert "Name Email address Status Created on" in text and "(operator)" in text and "Active" in text
    text = english(english_operator, "/administration/comptes?q=pierre.durand")
    assert "1 account found" in text
    assert "No accounts found" in english(english_operator, "/administration/comptes?q=personne")


def test_an_account_in_english(app, english_operator):
    text = english(english_operator, f"/administration/comptes/{account_id(app, PIERRE['email'])}/")
    for shown in (
        "Sign-in email address", "Contact email address", "Last sign-in", "Disable the account",
        "Close all sessions", "I confirm the permanent deletion of this account and its personal data",
        "Delete the account", "Structures and requests", "Recent events", "This account's full log",
    ):  # fmt: skip
        assert shown in text, shown
    text = english(english_operator, f"/administration/comptes/{account_id(app, LUCIE['email'])}/")
    assert "Activated on Never" in text and "Last sign-in Never" in text
    text = english(english_operator, f"/administration/comptes/{account_id(app, EMAIL)}/")
    assert "Active (operator)" in text and "No structures." in text


def test_a_pending_account_in_english(app, english_operator, signup):
    signup.create_account(**{**LUCIE, "email": "jeanne@exemple.fr", "email_confirm": "jeanne@exemple.fr",
                             "first_name": "Jeanne", "last_name": "Ancien"})  # fmt: skip
    text = english(english_operator, f"/administration/comptes/{account_id(app, 'jeanne@exemple.fr')}/")
    assert "Awaiting activation" in text and "Send the activation link again" in text


def test_structures_in_english(english_operator, structure_id):
    text = english(english_operator, "/administration/structures")
    assert "Identifier, company name, trading name or city" in text
    text = english(english_operator, "/administration/structures?q=Ateliers")
    assert "1 structure found" in text and "Company name Identifier City Status" in text
    assert "No structures found" in english(english_operator, "/administration/structures?q=Lyon")


def test_a_structure_in_english(english_operator, structure_id):
    text = english(english_operator, f"/administration/structures/{structure_id}/")
    for shown in ("Status: Active . Created on", "Correct the details", "Disable the structure", "Members",
                  "Designate a new main manager", "For when the main manager has left", "Designate",
                  "Back to structures"):  # fmt: skip
        assert shown in text, shown


def test_a_structure_correction_in_english(english_operator, structure_id):
    response = english_operator.get(f"/administration/structures/{structure_id}/modifier")
    html = text_of(response)
    # The form is structure/_edit_form.html's; around it, the console's.
    html = re.sub(r"<form .*?</form>", " ", html, flags=re.S)
    html = re.sub(
        r'<p class="hint">Les champs marqués.*?</p>', " ", html, flags=re.S
    )  # _macros.required_note
    text = checked(english_operator, html)
    assert "Correct the structure Ateliers Curie" in text and "Back to the structure" in text


def test_the_audit_trail_in_english(english_operator):
    text = english(english_operator, "/administration/journal")
    for shown in ("Account (email address)", "Structure (internal number)", "From (YYYY-MM-DD)",
                  "Until (YYYY-MM-DD, inclusive)", "All", "Filter", "Paris time; most recent first.",
                  "Date Account Event Outcome Details"):  # fmt: skip
        assert shown in text, shown
    assert re.search(r"\d+ events", text)
    assert "0 events" in english(english_operator, "/administration/journal?event=admin.mail_retried")


def test_the_outbox_in_english(app, english_operator):
    text = english(english_operator, "/administration/courriels")
    assert "Failed (0)" in text and "No failed emails." in text and "Sent in the last 7 days" in text
    query(app, lambda: OutboxMail.update(sent_at=None).execute())
    text = english(english_operator, "/administration/courriels")
    assert "Pending (" in text and "Created on Recipient Subject Attempts Action" in text
    assert "Retry" in text and "Retry all now" in text and "No emails sent." in text
    # The tests' app has no mail server: the page says so once.
    assert text.count("No mail server is configured (FLASK_MAIL_SERVER)") == 1
    notice = "No mail server is configured (FLASK_MAIL_SERVER): emails stay in the queue and are not sent."
    assert notice in text


# -- actions and errors ------------------------------------------------------------------------


def test_account_actions_say_what_they_did_in_english(app, english_operator):
    url = f"/administration/comptes/{account_id(app, LUCIE['email'])}/"
    text = follow(english_operator, english_operator.submit(url + "desactiver"))
    assert "The account is disabled, its sessions are closed and its holder has been told by email." in text
    assert "Disabled" in text and "Re-enable the account" in text
    checked(english_operator, text)
    refused = english_operator.submit(url + "supprimer")
    assert refused.status_code == 422  # the same page, the message next to the box
    assert "Tick the confirmation box to delete the account." in text_of(refused)
    assert "I confirm the permanent deletion of this account and its personal data" in text_of(refused)
    text = follow(english_operator, english_operator.submit(url + "sessions"))
    assert "All the account's sessions are closed." in text
    checked(english_operator, text)


def test_structure_actions_say_what_they_did_in_english(english_operator, structure_id):
    url = f"/administration/structures/{structure_id}/"
    text = follow(english_operator, english_operator.submit(url + "desactiver"))
    said = "The structure is disabled: it no longer receives attachment requests; "
    said += "its main manager has been told."
    assert said in text
    assert "Re-enable the structure" in text
    checked(english_operator, text)
    text = follow(english_operator, english_operator.submit(url + "modifier", {**STRUCTURE}))
    assert "No changes to save." in text


def test_a_request_to_a_structure_without_manager_in_english(app, english_operator, structure_id, mailbox):
    query(app, lambda: Membership.delete().where(Membership.role == Membership.MANAGER).execute())
    jeanne = {**LUCIE, "email": "jeanne@exemple.fr", "email_confirm": "jeanne@exemple.fr",
              "first_name": "Jeanne", "last_name": "Ancien"}  # fmt: skip
    new_client(app, mailbox, jeanne).submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "73282932000074"}
    )
    url = f"/administration/structures/{structure_id}/"
    text = english(english_operator, url, data=("jeanne@exemple.fr",))
    assert "Pending attachment requests" in text
    assert "The structure has no active main manager: these requests fall to the operators." in text
    assert "Jeanne Ancien (jeanne@exemple.fr), on " in text
    assert (
        "Approve the request from Jeanne Ancien" in text and "Refuse the request from Jeanne Ancien" in text
    )
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    text = follow(english_operator, english_operator.submit(f"{url}demandes/{request_id}/refuser"))
    assert "The attachment request is refused." in text


def test_outbox_actions_in_english(app, english_operator):
    query(app, lambda: OutboxMail.update(sent_at=None).execute())
    count = query(app, lambda: OutboxMail.select().count())
    text = follow(english_operator, english_operator.submit("/administration/courriels/reessayer"))
    assert (
        f"No mail server is configured (FLASK_MAIL_SERVER): {count} email(s) stay in the queue "
        "and will go out once a server is." in text
    )
    mail_id = query(app, lambda: OutboxMail.select().first().id)
    query(app, lambda: OutboxMail.update(sent_at=utcnow()).execute())
    text = follow(english_operator, english_operator.submit(f"/administration/courriels/{mail_id}/reessayer"))
    assert "This email has already been sent or is being sent." in text


def test_errors_in_english(english_operator):
    response = english_operator.get("/administration/comptes?q=" + "a" * 300)
    assert response.status_code == 422
    assert "200 characters at most." in checked(english_operator, text_of(response))
    response = english_operator.get("/administration/journal?since=hier&structure=douze")
    assert response.status_code == 422
    text = checked(english_operator, text_of(response), data=("hier", "douze"))
    assert "Date expected as YYYY-MM-DD, for example 2026-03-14." in text
    assert "Internal number expected (digits only)." in text
    response = english_operator.get("/administration/journal?event=nimporte")
    assert "Choose a value from the list." in checked(english_operator, text_of(response), data=("nimporte",))


# -- French stays the default ------------------------------------------------------------------


def test_the_console_stays_french_by_default(app, operator, structure_id):
    text = text_of(operator.get("/administration/journal"))
    assert "Heures de Paris ; les plus récents d'abord." in text and "Depuis le (AAAA-MM-JJ)" in text
    text = text_of(operator.get(f"/administration/structures/{structure_id}/"))
    assert "<p>État : <strong>Active</strong>. Créée le " in text
    text = text_of(operator.get("/administration/comptes?q=exemple.fr"))
    assert "<h2>3 comptes trouvés</h2>" in text
    assert "<h2>1 compte trouvé</h2>" in text_of(operator.get("/administration/comptes?q=lucie"))
    assert "<h2>0 événement</h2>" in text_of(operator.get("/administration/journal?event=admin.mail_retried"))
