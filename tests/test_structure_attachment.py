"""Attachment to an existing structure: search, request, « Approbations »
(approve, refuse), cancel, mails, access rules, « Non diffusible », handover
of the manager role, edits."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

import structures as structures_module
from models import Membership, OutboxMail, Structure, User, utcnow
from tests.support.app import Client, query
from tests.support.constants import EMAIL, PASSWORD
from tests.support.responses import error_of, follow, is_fragment, shown, text_of, without_tokens
from tests.support.signup import PERSON
from tests.support.structures import (
    LUCIE,
    PIERRE,
    SIRET,
    SIRET_NORMALISED,
    create_structure,
    mails_to,
    memberships,
    move_to_idn_domain,
    new_client,
    sign_up,
    structures,
)

SEARCH = f"/structure/rattachement?identifier_type=siret&identifier={SIRET.replace(' ', '+')}"
MANAGER_CONTACT = "direction@ateliers-curie.fr"
HOUR = timedelta(hours=1)


@pytest.fixture
def manager(app, mailbox):
    """Marie, gestionnaire principal of « Ateliers Curie » (mail to her contact e-mail)."""
    client = new_client(app, mailbox, {**PERSON, "contact_email": MANAGER_CONTACT})
    assert create_structure(client).status_code == 303
    return client


@pytest.fixture
def requester(app, any_client, mailbox, manager):
    """Pierre, signed in on a full-page or htmx client, structure not joined yet."""
    return sign_up(any_client, mailbox, PIERRE)


def request_attachment(client):
    return client.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    )


def requests_mailed(mailbox) -> list:
    return [m for m in mails_to(mailbox, MANAGER_CONTACT) if m.subject == "Nouvelle demande de rattachement"]


def sign_in(app, email: str):
    app.test_client_class = Client
    client = app.test_client()
    response = client.submit("/connexion", {"email": email, "password": PASSWORD})
    assert response.status_code == 303
    return client


def pending_id(app) -> int:
    return query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)


def structure_id(app) -> int:
    return query(app, lambda: Structure.get().id)


# -- search ------------------------------------------------------------------------------


def test_search_finds_the_structure_and_offers_the_request(requester):
    text = shown(requester, SEARCH)
    assert "Étape 6 sur 6" in text and "Structure trouvée" in text
    assert "Ateliers Curie" in text and SIRET_NORMALISED in text
    assert "12 rue de la Paix" in text and "contact@ateliers-curie.fr" in text  # diffusible
    assert "Demander le rattachement" in text


def test_search_page_without_a_query_shows_the_form(requester):
    response = requester.get("/structure/rattachement")
    text = text_of(response)
    assert response.status_code == 200 and "Rechercher la structure" in text
    assert "error-message" not in text


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("identifier_type=siret&identifier=35600000000048", "Aucune structure n'est enregistrée"),
        ("identifier_type=siret&identifier=123", "14 chiffres"),
        ("identifier_type=en_cours&identifier=EC12", "EC0123456789"),
        ("identifier_type=nope&identifier=1", "Choisissez une valeur dans la liste."),
    ],
)
def test_search_errors_are_shown_next_to_their_field(requester, query_string, message):
    response = requester.get(f"/structure/rattachement?{query_string}")
    assert response.status_code == 422
    field = "identifier_type" if "nope" in query_string else "identifier"
    assert message in error_of(response, field)


def test_a_siret_not_on_the_portal_offers_to_create_it_with_that_siret(requester):
    """« Créer une nouvelle structure » under an unknown SIRET brings it
    along: step 6 opens with it typed. Another identifier type opens an
    empty step 6."""
    response = requester.get("/structure/rattachement?identifier_type=siret&identifier=356+000+000+00048")
    assert response.status_code == 422
    link = re.search(r'<a href="([^"]+)">Créer une nouvelle structure</a>', text_of(response)).group(1)
    assert link == "/structure/nouvelle?siret=35600000000048"
    assert 'value="35600000000048"' in text_of(requester.get(link))
    response = requester.get("/structure/rattachement?identifier_type=en_cours&identifier=EC0000000000")
    assert '<a href="/structure/nouvelle">Créer une nouvelle structure</a>' in text_of(response)


def test_a_non_diffusible_structure_hides_its_details_from_non_members(app, manager, any_client, mailbox):
    query(app, lambda: Structure.update(non_diffusible=True).execute())
    requester = sign_up(any_client, mailbox, PIERRE)
    text = text_of(requester.get(SEARCH))
    assert "Ateliers Curie" in text and "Non diffusibles" in text
    for secret in (
        "12 rue de la Paix",
        "75002",
        "contact@ateliers-curie.fr",
        "+33123456789",
        "01 23 45 67 89",
        "Bâtiment B",
    ):
        assert secret not in text
    request_attachment(requester)
    for mail in mailbox():
        for secret in ("12 rue de la Paix", "contact@ateliers-curie.fr", "+33123456789", "01 23 45 67 89"):
            assert secret not in mail.body_text and secret not in (mail.body_html or "")
    # Members see everything.
    member_page = text_of(manager.get(f"/structure/{structure_id(app)}/"))
    assert "12 rue de la Paix" in member_page and "contact@ateliers-curie.fr" in member_page
    assert "01 23 45 67 89" in member_page
    # The structure's own page is for members only (for anyone else, as if it did not exist).
    response = requester.get(f"/structure/{structure_id(app)}/")
    assert response.status_code == 404 and "12 rue de la Paix" not in text_of(response)


# -- the request and its mails -----------------------------------------------------------


def test_a_request_is_pending_and_mailed_to_the_manager_and_the_requester(app, requester, mailbox):
    response = request_attachment(requester)
    text = follow(requester, response)
    assert "Votre demande de rattachement a été transmise" in text
    assert "Mes demandes de rattachement" in text and "En attente" in text
    assert "Annuler la demande" in text
    [_, pending] = memberships(app)
    assert pending.status == Membership.PENDING and pending.role == Membership.USER
    [to_manager] = requests_mailed(mailbox)
    assert to_manager.subject == "Nouvelle demande de rattachement"
    assert "Pierre Durand" in to_manager.body_text and "pierre.durand@exemple.fr" in to_manager.body_text
    assert "/approbations/" in to_manager.body_text
    [to_requester] = mails_to(mailbox, "pierre.contact@exemple.fr")
    assert to_requester.subject == "Votre demande de rattachement est envoyée"
    assert "Ateliers Curie" in to_requester.body_text


def test_asking_twice_makes_one_request_and_one_mail(app, requester, mailbox):
    request_attachment(requester)
    response = request_attachment(requester)
    assert "est en attente" in follow(requester, response)
    assert len(memberships(app)) == 2
    assert len(requests_mailed(mailbox)) == 1
    # The search page says so instead of offering the request again.
    text = text_of(requester.get(SEARCH))
    assert "est en attente depuis le" in text and "Demander le rattachement</button>" not in text


def test_a_request_for_an_unknown_structure_is_a_404(requester):
    response = requester.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "35600000000048"}
    )
    assert response.status_code == 404


# -- cancel ------------------------------------------------------------------------------


def test_the_requester_cancels_in_place(app, requester, mailbox):
    request_attachment(requester)
    membership_id = pending_id(app)
    # The request was mailed (delivered) over an hour ago: the cancellation is mailed
    # too (test_abuse_structures.py: at most one mail per hour about a requester).
    query(app, lambda: Membership.update(manager_notified_at=utcnow() - HOUR).execute())
    query(app, lambda: OutboxMail.update(sent_at=utcnow()).execute())
    response = requester.submit(f"/espace/demandes/{membership_id}/annuler")
    if requester.htmx:
        text = text_of(response)
        assert response.status_code == 200
        assert text.strip().startswith(f'<tr id="request-{membership_id}">')
        assert "Annulée" in text and "Annuler la demande" not in text and "<h1>" not in text
    else:
        text = follow(requester, response)
        assert "Votre demande de rattachement est annulée." in text
    assert memberships(app)[1].status == Membership.CANCELLED
    [cancelled] = [
        m for m in mails_to(mailbox, MANAGER_CONTACT) if m.subject == "Demande de rattachement annulée"
    ]
    assert "Pierre Durand" in cancelled.body_text
    # Cancelled: nothing left to decide, nor to cancel again.
    assert requester.submit(f"/espace/demandes/{membership_id}/annuler").status_code in (303, 409)
    assert len(mails_to(mailbox, MANAGER_CONTACT)) == 3  # created, requested, cancelled
    # A new request is possible.
    request_attachment(requester)
    assert memberships(app)[1].status == Membership.PENDING


def test_the_cancel_buttons_target_their_row(app, requester):
    request_attachment(requester)
    text = text_of(requester.get("/espace/"))
    form = re.search(r'<form action="/espace/demandes/\d+/annuler"[^>]*>', text).group(0)
    assert 'method="post"' in form
    assert 'data-hx-target="closest tr"' in form and 'data-hx-swap="outerHTML"' in form


def test_nobody_cancels_someone_elses_request(app, requester, manager):
    request_attachment(requester)
    response = manager.submit(f"/espace/demandes/{pending_id(app)}/annuler")
    assert response.status_code == 404 and "Ateliers Curie" not in text_of(response)
    assert memberships(app)[1].status == Membership.PENDING


# -- « Approbations » --------------------------------------------------------------------


@pytest.fixture
def manager_view(app, any_client, mailbox):
    """Marie as gestionnaire principal on a full-page or htmx client, with
    Pierre's pending request; returns (client, membership id)."""
    marie = sign_up(any_client, mailbox, {**PERSON, "contact_email": MANAGER_CONTACT})
    assert create_structure(marie).status_code in (200, 303)
    request_attachment(new_client(app, mailbox, PIERRE))
    return marie, pending_id(app)


def test_approbations_lists_pending_requests(manager_view):
    marie, membership_id = manager_view
    text = shown(marie, "/approbations/")
    assert "<h1>Approbations</h1>" in text
    row = re.search(rf'<tr id="approval-{membership_id}">.*?</tr>', text, re.S).group(0)
    assert "Pierre Durand" in row and "pierre.durand@exemple.fr" in row
    assert re.search(r"\d\d/\d\d/\d{4} à \d\d:\d\d", row)
    assert "Approuver" in row and "Refuser" in row
    for form in re.findall(r"<form [^>]*>", row):
        assert 'data-hx-target="closest tr"' in form and 'data-hx-swap="outerHTML"' in form
    assert "Approbations" in text_of(marie.get("/espace/"))


def test_mon_espace_counts_the_requests_waiting_for_the_manager(app, manager_view, mailbox):
    marie, membership_id = manager_view
    assert "Une demande de rattachement en attente de votre décision." in text_of(marie.get("/espace/"))
    request_attachment(new_client(app, mailbox, LUCIE))
    assert "2 demandes de rattachement en attente de votre décision." in text_of(marie.get("/espace/"))
    refused = Membership.update(status=Membership.REFUSED).where(Membership.id == membership_id)
    query(app, refused.execute)
    assert "Une demande de rattachement en attente de votre décision." in text_of(marie.get("/espace/"))
    marie_row = query(app, lambda: Membership.get(Membership.role == Membership.MANAGER).user)
    pierre_row = query(app, lambda: Membership.get(Membership.id == membership_id).user)
    assert query(app, lambda: Membership.to_decide(pierre_row)) == 0  # he manages nothing
    assert query(app, lambda: Membership.to_decide(marie_row)) == 1


def test_approving_makes_the_requester_a_user_and_tells_them(app, manager_view, mailbox):
    marie, membership_id = manager_view
    response = marie.submit(f"/approbations/{membership_id}/approuver")
    if marie.htmx:
        text = text_of(response)
        assert response.status_code == 200
        assert text.strip().startswith(f'<tr id="approval-{membership_id}">') and "<h1>" not in text
        assert "Acceptée le" in text and "Approuver" not in text
    else:
        text = follow(marie, response)
        assert "Pierre Durand est désormais rattaché à la structure Ateliers Curie." in text
    membership = memberships(app)[1]
    assert membership.status == Membership.ACTIVE and membership.role == Membership.USER
    assert membership.decided_by_id == membership.structure.created_by_id
    [mail] = [m for m in mails_to(mailbox, "pierre.contact@exemple.fr") if "acceptée" in m.subject]
    assert "Ateliers Curie" in mail.body_text
    # The requester now sees the structure.
    pierre = sign_in(app, "pierre.durand@exemple.fr")
    espace = text_of(pierre.get("/espace/"))
    assert "vous êtes rattaché à une structure" in espace and "Utilisateur" in espace
    assert "Approbations</a>" not in espace
    # Deciding again changes nothing.
    again = marie.submit(f"/approbations/{membership_id}/refuser")
    assert again.status_code in (303, 409)
    assert memberships(app)[1].status == Membership.ACTIVE


@pytest.mark.parametrize("approve", [True, False])
def test_a_decision_crossing_the_requester_s_deletion_says_the_request_is_gone(
    app, manager_view, mailbox, monkeypatch, approve
):
    """Pierre deletes his account while Marie's decision is on its way: his
    request went with it. She is told so, on the list, and nothing is sent."""
    import structures

    marie, membership_id = manager_view
    decide = structures.decide

    def meanwhile(membership, manager, approving):
        query(app, lambda: User.delete().where(User.email == "pierre.durand@exemple.fr").execute())
        return decide(membership, manager, approving)

    monkeypatch.setattr(structures, "decide", meanwhile)
    response = marie.submit(f"/approbations/{membership_id}/{'approuver' if approve else 'refuser'}")
    text = follow(marie, response, pushed="/approbations/")
    assert "Cette demande n'existe plus : son auteur a supprimé son compte." in text
    assert [m for m in mails_to(mailbox, "pierre.contact@exemple.fr") if "acceptée" in m.subject] == []


def test_refusing_tells_the_requester_who_may_ask_again(app, manager_view, mailbox):
    marie, membership_id = manager_view
    response = marie.submit(f"/approbations/{membership_id}/refuser")
    if marie.htmx:
        assert response.status_code == 200 and "Refusée le" in text_of(response)
    else:
        assert "La demande de Pierre Durand est refusée." in follow(marie, response)
    assert memberships(app)[1].status == Membership.REFUSED
    [mail] = [m for m in mails_to(mailbox, "pierre.contact@exemple.fr") if "refusée" in m.subject]
    assert "a refusé votre demande" in mail.body_text


def test_a_requester_s_name_after_de_is_elided_before_a_vowel(app, manager_view):
    """« la demande d'Éric », never « de Éric »: the buttons' names and the
    refusal's notice alike (i18n.of_person)."""
    marie, membership_id = manager_view
    query(app, lambda: User.update(first_name="Éric").where(User.first_name == "Pierre").execute())
    text = shown(marie, "/approbations/")
    assert "la demande d'Éric Durand</span>" in text and "de Éric" not in text
    response = marie.submit(f"/approbations/{membership_id}/refuser")
    if not marie.htmx:
        assert "La demande d'Éric Durand est refusée." in follow(marie, response)


@pytest.mark.parametrize("status", [Structure.DISABLED, Structure.PENDING])
def test_a_request_from_a_search_page_opened_before_the_structure_closed_says_why(app, requester, status):
    """The result was open when shown; the structure is disabled (or put back
    under moderation) before « Demander le rattachement »: nothing is sent,
    and the answer says so in words on the structure's result, not a bare 409."""
    assert "Demander le rattachement" in text_of(requester.get(SEARCH))
    query(app, lambda: Structure.update(status=status).execute())
    response = request_attachment(requester)
    assert response.status_code == 409
    assert is_fragment(response) == requester.htmx
    text = text_of(response)
    assert (
        "Votre demande de rattachement n'a pas été envoyée : la structure Ateliers Curie "
        "n'accepte pas de demande de rattachement pour le moment." in text
    )
    assert "Structure trouvée" in text and "Demander le rattachement</button>" not in text
    assert [m.status for m in memberships(app)] == [Membership.ACTIVE]


@pytest.mark.parametrize("status", [Structure.DISABLED, Structure.PENDING])
def test_a_disabled_structure_takes_no_member_through_a_pending_request_attack_approve_after_disabling(
    app, manager_view, mailbox, status
):
    marie, membership_id = manager_view
    query(app, lambda: Structure.update(status=status).execute())  # disabled, or back under moderation
    response = marie.submit(f"/approbations/{membership_id}/approuver")
    closed = "Cette structure n'accepte pas de nouveau membre pour le moment"
    if marie.htmx:
        assert response.status_code == 409 and closed in text_of(response)
    else:
        assert closed in follow(marie, response)
    assert memberships(app)[1].status == Membership.PENDING
    assert not [m for m in mails_to(mailbox, "pierre.contact@exemple.fr") if "acceptée" in m.subject]
    response = marie.submit(f"/approbations/{membership_id}/refuser")  # refusing still closes it
    assert memberships(app)[1].status == Membership.REFUSED


@pytest.mark.parametrize(
    ("status", "label"), [(Structure.DISABLED, "Désactivée"), (Structure.PENDING, "En attente")]
)
def test_approbations_offers_requests_to_a_structure_that_takes_no_member_for_refusal_only(
    app, manager_view, status, label
):
    """Disabled by an operator (or back under moderation): « Approuver » could
    only fail, so it is not offered; the page says the structure's state."""
    marie, membership_id = manager_view
    query(app, lambda: Structure.update(status=status).execute())
    text = shown(marie, "/approbations/")
    assert f"État de la structure : <strong>{label}" in text
    row = re.search(rf'<tr id="approval-{membership_id}">.*?</tr>', text, re.S).group(0)
    assert "Approuver" not in row and "Refuser<span" in row
    assert "n'accepte pas de nouveau membre pour le moment : la demande ne peut qu'être refusée." in row
    # A page opened before: its « Approuver » is answered with the row as it now is.
    response = marie.submit(f"/approbations/{membership_id}/approuver")
    if marie.htmx:
        assert response.status_code == 409 and "Approuver" not in text_of(response)
    else:
        row = re.search(rf'<tr id="approval-{membership_id}">.*?</tr>', follow(marie, response), re.S)
        assert "Approuver" not in row.group(0)


# -- access rules -------------------------------------------------------------------------


def test_only_the_manager_may_decide(app, manager_view, mailbox):
    _marie, membership_id = manager_view
    lucie = new_client(app, mailbox, LUCIE, htmx=True)
    for action in ("approuver", "refuser"):
        response = lucie.submit(f"/approbations/{membership_id}/{action}")
        assert response.status_code == 404  # as for a request that does not exist
        assert "Ateliers Curie" not in text_of(response)
        assert response.headers["HX-Retarget"] == "#main"
    assert lucie.get("/approbations/").status_code == 403
    assert memberships(app)[1].status == Membership.PENDING


def test_a_user_of_the_structure_may_not_decide_nor_edit(app, manager_view, mailbox):
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    lucie = new_client(app, mailbox, LUCIE)
    request_attachment(lucie)
    lucie_request = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    pierre = sign_in(app, "pierre.durand@exemple.fr")
    # A member of the structure is told he does not manage it (he sees its members and roles anyway).
    not_manager = "gestionnaire principal de la structure Ateliers Curie : rien n'a été modifié."
    assert not_manager in follow(pierre, pierre.submit(f"/approbations/{lucie_request}/approuver"))
    assert query(app, lambda: Membership.get_by_id(lucie_request).status) == Membership.PENDING
    sid = structure_id(app)
    assert pierre.get(f"/structure/{sid}/").status_code == 200  # a member sees the structure
    # Opening the edit page changed nothing: only who may change the structure is said.
    opened = follow(pierre, pierre.get(f"/structure/{sid}/modifier"))
    assert "Seul le gestionnaire principal de la structure Ateliers Curie peut la modifier." in opened
    assert "rien n&#39;a été modifié" not in opened and "rien n'a été modifié" not in opened
    response = pierre.submit(f"/structure/{sid}/gestionnaire", {"member": membership_id, "confirm": "y"})
    assert not_manager in follow(pierre, response)
    assert [m.role for m in memberships(app)][:2] == [Membership.MANAGER, Membership.USER]


def test_pages_of_unknown_things_are_404(app, manager):
    assert manager.get("/structure/999/").status_code == 404
    assert manager.submit("/approbations/999/approuver").status_code == 404
    assert manager.submit("/espace/demandes/999/annuler").status_code == 404


# -- handover ------------------------------------------------------------------------------


def test_the_manager_hands_the_role_to_an_active_member(app, manager_view, mailbox):
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    sid = structure_id(app)
    page = text_of(marie.get(f"/structure/{sid}/"))
    assert "Transférer le rôle de gestionnaire principal" in page
    assert f'<option value="{membership_id}">Pierre Durand (pierre.durand@exemple.fr)</option>' in page
    response = marie.submit(f"/structure/{sid}/gestionnaire", {"member": membership_id, "confirm": "y"})
    text = follow(marie, response)
    assert "Pierre Durand est désormais gestionnaire principal de la structure." in text
    roles = {m.user.first_name: m.role for m in memberships(app)}
    assert roles == {"Marie": Membership.USER, "Pierre": Membership.MANAGER}
    [mail] = [
        m for m in mails_to(mailbox, "pierre.contact@exemple.fr") if "gestionnaire principal" in m.subject
    ]
    assert "Marie Curie vous a transmis le rôle" in mail.body_text
    # The former manager decides nothing any more.
    assert marie.get("/approbations/").status_code == 403
    edit = marie.get(f"/structure/{sid}/modifier")
    only = "Seul le gestionnaire principal de la structure Ateliers Curie peut la modifier."
    assert only in follow(marie, edit)


def test_a_hand_over_passes_the_waiting_requests_on_to_the_new_manager(app, manager_view, mailbox):
    """Lucie's request waits: its notice to Marie, not sent yet, is withdrawn
    when Marie hands the role to Pierre (it would ask her a decision she no
    longer makes); Pierre's mail says one request waits for him, with the
    link to « Approbations »."""
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    request_attachment(new_client(app, mailbox, LUCIE))
    about_lucie = [m for m in mails_to(mailbox, MANAGER_CONTACT) if "Lucie Martin" in m.body_text]
    assert len(about_lucie) == 1 and about_lucie[0].sent_at is None
    sid = structure_id(app)
    marie.submit(f"/structure/{sid}/gestionnaire", {"member": membership_id, "confirm": "y"})
    assert [m for m in mails_to(mailbox, MANAGER_CONTACT) if "Lucie Martin" in m.body_text] == []
    [told] = [
        m for m in mails_to(mailbox, "pierre.contact@exemple.fr") if "gestionnaire principal" in m.subject
    ]
    assert "1 demande de rattachement attend votre décision." in told.body_text
    assert "Approbations : http://localhost/approbations/" in told.body_text
    assert 'href="http://localhost/approbations/"' in told.body_html
    assert "Lucie Martin" in text_of(pierre_signed_in(app))


def pierre_signed_in(app):
    return sign_in(app, PIERRE["email"]).get("/approbations/")


@pytest.mark.parametrize("status", [Structure.DISABLED, Structure.PENDING])
def test_attack_a_structure_that_is_not_active_keeps_its_gestionnaire_principal(app, manager_view, status):
    """An operator froze the structure (disabled it, or put it back under
    moderation): its role is frozen with its details. The page offers no
    hand-over, and one sent from a page opened before is refused, saying why."""
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    sid = structure_id(app)
    query(app, lambda: Structure.update(status=status).execute())
    assert "Transférer le rôle" not in shown(marie, f"/structure/{sid}/")
    response = marie.submit(f"/structure/{sid}/gestionnaire", {"member": membership_id, "confirm": "y"})
    text = follow(marie, response)
    assert "le rôle de gestionnaire principal ne peut pas" in text
    assert [m.role for m in memberships(app)] == [Membership.MANAGER, Membership.USER]


def test_attack_a_hand_over_crossing_the_structure_s_disabling_changes_nothing(app, manager_view):
    """The page was checked while the structure was active; an operator
    disables it before the hand-over is written: the disabling wins."""
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")

    def crossing():
        structure = Structure.get()
        manager = User.get(User.email == EMAIL)
        Structure.update(status=Structure.DISABLED).execute()  # meanwhile
        with pytest.raises(structures_module.Closed):
            structures_module.hand_over(structure, manager, membership_id)

    query(app, crossing)
    assert [m.role for m in memberships(app)] == [Membership.MANAGER, Membership.USER]


def test_the_role_cannot_go_to_a_closed_account_attack_orphaned_structure(app, manager_view):
    """Pierre's account was closed by an operator: he cannot sign in, so as
    gestionnaire principal he would leave the structure's requests to nobody.
    He is not offered, and his membership sent anyway is refused."""
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    query(
        app,
        lambda: User.update(status=User.DISABLED).where(User.email == "pierre.durand@exemple.fr").execute(),
    )
    sid = structure_id(app)
    assert "Pierre Durand" not in shown(marie, f"/structure/{sid}/").split("Transférer le rôle")[-1]
    response = marie.submit(f"/structure/{sid}/gestionnaire", {"member": membership_id, "confirm": "y"})
    assert response.status_code == 422
    assert [m.role for m in memberships(app)] == [Membership.MANAGER, Membership.USER]


def test_the_member_list_starts_with_an_empty_choice_a_careless_submit_hands_nothing(
    app, manager_view, mailbox
):
    """Nobody is chosen until the manager chooses: submitted as it is shown,
    the form names nobody and says so next to the field."""
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    sid = structure_id(app)
    select = re.search(r'<select [^>]*name="member"[^>]*>(.*?)</select>', shown(marie, f"/structure/{sid}/"))
    options = re.findall(r"<option[^>]*>[^<]*</option>", select.group(1))
    assert options[0] == '<option selected value="">Sélectionner un membre</option>'
    pierre = f'<option value="{membership_id}">Pierre Durand (pierre.durand@exemple.fr)</option>'
    assert options[1:] == [pierre]
    response = marie.submit(f"/structure/{sid}/gestionnaire", {"member": ""})
    assert response.status_code == 422
    assert error_of(response, "member").endswith("Choisissez un membre de la structure.")
    assert '<option selected value="">Sélectionner un membre</option>' in text_of(response)
    assert [m.role for m in memberships(app)] == [Membership.MANAGER, Membership.USER]
    assert not [m for m in mails_to(mailbox, "pierre.contact@exemple.fr") if "gestionnaire" in m.subject]


def test_the_handover_leaves_one_history_entry_for_the_structure_page(app, manager_view):
    """The form is on the structure's page and leads back to it: under htmx
    the answer replaces that page's history entry (HX-Replace-Url), so Back
    does not show the same page twice; without JavaScript, a 303 to it."""
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    url = f"/structure/{structure_id(app)}/"
    headers = {"HX-Current-URL": f"http://localhost{url}#confirm"}  # after the error summary's link
    response = marie.submit(f"{url}gestionnaire", {"member": membership_id, "confirm": "y"}, headers=headers)
    if marie.htmx:
        assert response.status_code == 200
        assert response.headers["HX-Replace-Url"] == url and "HX-Push-Url" not in response.headers
        assert "Pierre Durand est désormais gestionnaire principal" in text_of(response)
    else:
        assert response.status_code == 303 and response.headers["Location"] == url


def test_the_handover_waits_for_its_confirmation(app, manager_view, mailbox):
    """The role cannot be taken back: without « Je confirme… » ticked nothing
    changes, the error is next to the box, and the member chosen stays chosen."""
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    sid = structure_id(app)
    page = shown(marie, f"/structure/{sid}/")
    assert re.search(r'<input [^>]*id="confirm" name="confirm" required type="checkbox" value="y">', page)
    assert "je ne pourrai pas le reprendre moi-même" in page
    response = marie.submit(f"/structure/{sid}/gestionnaire", {"member": membership_id})
    assert response.status_code == 422
    assert error_of(response, "confirm").endswith("Cochez la case pour confirmer le transfert du rôle.")
    text = text_of(response)
    assert '<a href="#confirm">' in text  # in the error summary
    # The box's label is a sentence: the summary's line reads « …moi-même : Cochez… », not « .: ».
    assert "reprendre moi-même : Cochez la case" in html.unescape(text) and ".:" not in html.unescape(text)
    assert f'<option selected value="{membership_id}">' in text and 'selected value=""' not in text
    assert [m.role for m in memberships(app)] == [Membership.MANAGER, Membership.USER]
    assert not [m for m in mails_to(mailbox, "pierre.contact@exemple.fr") if "gestionnaire" in m.subject]


@pytest.mark.parametrize("member", ["", "abc", "999", "own"])
def test_the_role_goes_only_to_another_active_member(app, manager_view, member):
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    if member == "own":
        member = str(memberships(app)[0].id)
    url = f"/structure/{structure_id(app)}/gestionnaire"
    response = marie.submit(url, {"member": member, "confirm": "y"})
    assert response.status_code == 422
    assert (
        "choisissez" in error_of(response, "member").lower()
    )  # « 999 »: no longer a member, as far as it says
    roles = [m.role for m in memberships(app)]
    assert roles == [Membership.MANAGER, Membership.USER]


def test_attack_the_model_hands_the_role_to_nobody_when_the_manager_names_themselves(
    app, manager_view, mailbox
):
    """Their own row is an utilisateur's once demoted: promoting it back would
    record, and mail them, a hand-over that changed nothing."""
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    own = memberships(app)[0]

    def hand_to_themselves():
        return structures_module.hand_over(Structure.get(), User.get_by_id(own.user_id), own.id)

    with app.test_request_context():
        assert query(app, hand_to_themselves) is None
    assert [m.role for m in memberships(app)] == [Membership.MANAGER, Membership.USER]
    assert not [m for m in mailbox() if "Vous êtes gestionnaire principal" in m.subject]


def test_the_handover_is_refused_for_a_pending_request(app, manager_view):
    marie, membership_id = manager_view
    response = marie.submit(
        f"/structure/{structure_id(app)}/gestionnaire", {"member": membership_id, "confirm": "y"}
    )
    assert response.status_code == 422
    assert "Aucun autre membre actif" in text_of(response)
    assert memberships(app)[0].role == Membership.MANAGER


def test_the_model_keeps_one_manager(app, manager_view):
    _marie, membership_id = manager_view
    with app.app_context():
        from models import db

        with db.connection_context():
            structure = Structure.get()
            manager = structure.manager()
            Membership.get_by_id(membership_id).approve(manager)
            assert structure.hand_over(manager, membership_id) is not None
            # The former manager cannot hand over again.
            assert structure.hand_over(manager, membership_id) is None
            assert structure.manager().first_name == "Pierre"


# -- edits ---------------------------------------------------------------------------------


def test_the_manager_edits_the_structure_but_not_its_identifier(app, any_client, mailbox):
    marie = sign_up(any_client, mailbox)
    create_structure(marie)
    sid = structure_id(app)
    text = shown(marie, f"/structure/{sid}/modifier")
    assert "<legend>Informations générales</legend>" in text and "<legend>Adresse postale</legend>" in text
    assert 'value="Ateliers Curie"' in text and 'name="identifier"' not in text
    changes = {
        "company_name": "Ateliers Curie et Fils",
        "label": "",
        "address": "1 avenue Foch",
        "city": "Lyon",
        "postal_code": "69001",
        "country": "FR",
        "non_diffusible": "y",
        "identifier": "35600000000048",
        "identifier_type": "ue",
    }
    response = marie.submit(f"/structure/{sid}/modifier", changes)
    text = follow(marie, response)
    assert "Les informations de la structure ont été mises à jour." in text
    [structure] = structures(app)
    assert structure.company_name == "Ateliers Curie et Fils" and structure.city == "Lyon"
    assert structure.non_diffusible is True and structure.label is None
    assert structure.identifier == SIRET_NORMALISED and structure.identifier_type == "siret"


def test_an_edit_keeps_the_country_rule_of_the_identifier(app, client, mailbox):
    marie = sign_up(client, mailbox)
    create_structure(marie)
    sid = structure_id(app)
    response = marie.submit(
        f"/structure/{sid}/modifier",
        {
            "company_name": "Ateliers Curie",
            "address": "Rue Haute 1",
            "city": "Bruxelles",
            "postal_code": "1000",
            "country": "BE",
        },
    )
    assert response.status_code == 422
    assert "en France" in error_of(response, "country")
    assert 'value="Rue Haute 1"' in text_of(response)
    assert structures(app)[0].country == "FR"


def test_a_structure_numbered_by_the_portal_receives_its_siret_later(app, any_client, mailbox):
    marie = sign_up(any_client, mailbox)
    create_structure(marie, identifier_type="en_cours", identifier="")
    sid = structure_id(app)
    assert "Renseigner le SIRET" in text_of(marie.get(f"/structure/{sid}/modifier"))
    bad = marie.submit(f"/structure/{sid}/siret", {"identifier": "73282932000075"})
    assert bad.status_code == 422 and "clé de contrôle" in error_of(bad, "identifier")
    response = marie.submit(f"/structure/{sid}/siret", {"identifier": SIRET})
    assert f"Le SIRET {SIRET_NORMALISED} est enregistré" in follow(marie, response)
    [structure] = structures(app)
    assert (structure.identifier_type, structure.identifier) == ("siret", SIRET_NORMALISED)
    # The form sent again (a second tab, Back): nothing changes, and the page says which SIRET it has.
    again = marie.submit(f"/structure/{sid}/siret", {"identifier": "73282932000009"})
    assert again.status_code == (200 if marie.htmx else 303)
    said = f"Cette structure a déjà son identifiant (SIRET {SIRET_NORMALISED}) : rien n'a été modifié."
    assert said in follow(marie, again)
    assert structures(app)[0].identifier == SIRET_NORMALISED


def test_a_siret_taken_by_another_structure_is_refused(app, client, mailbox):
    pierre = new_client(app, mailbox, PIERRE)
    create_structure(pierre)
    marie = sign_up(client, mailbox)
    create_structure(marie, identifier_type="particulier", identifier="")
    sid = query(app, lambda: Structure.get(Structure.identifier_type == "particulier").id)
    response = marie.submit(f"/structure/{sid}/siret", {"identifier": SIRET})
    assert response.status_code == 422
    assert "existe déjà" in error_of(response, "identifier")


def test_the_member_list_shows_an_internationalised_domain_in_unicode(app, manager_view, mailbox):
    """As on the rest of the page: « exemple-été.fr », never « xn--… »."""
    marie, membership_id = manager_view
    marie.submit(f"/approbations/{membership_id}/approuver")
    move_to_idn_domain(app, "pierre.durand@exemple.fr")
    page = shown(marie, f"/structure/{structure_id(app)}/")
    assert f'<option value="{membership_id}">Pierre Durand (pierre.durand@exemple-été.fr)</option>' in page
    assert "xn--" not in without_tokens(page)
