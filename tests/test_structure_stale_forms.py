"""Forms of the gestionnaire principal sent after the role left them (a
second tab, a page opened before the hand-over, Back): nothing changes and
the answer says why in words, on a page, with JavaScript off and under htmx,
never a bare 403 or 409. Anyone who is not a member of the structure is
still refused (404, as for an id that does not exist), and learns nothing of it."""

from __future__ import annotations

import re

import pytest

from forms.structure import HandoverForm
from models import Membership, Structure, User
from tests.support.app import Client, query
from tests.support.constants import PASSWORD
from tests.support.responses import error_of, text_of, without_tokens
from tests.support.signup import PERSON
from tests.support.structures import (
    LUCIE,
    PIERRE,
    SIRET_NORMALISED,
    create_structure,
    mails_to,
    new_client,
    sign_up,
)

PAUL = {
    **PERSON,
    "email": "paul.langevin@exemple.fr",
    "email_confirm": "paul.langevin@exemple.fr",
    "first_name": "Paul",
    "last_name": "Langevin",
}
ZOE = {
    **PERSON,
    "email": "zoe.ferrand@exemple.fr",
    "email_confirm": "zoe.ferrand@exemple.fr",
    "first_name": "Zoé",
}
NOT_MANAGER = "Vous n'êtes pas gestionnaire principal de la structure Ateliers Curie : rien n'a été modifié."
ANOTHER_SIRET = "73282932000009"


def signed_in(app, email: str) -> Client:
    app.test_client_class = Client
    client = app.test_client()
    assert client.submit("/connexion", {"email": email, "password": PASSWORD}).status_code == 303
    return client


class Team:
    """Marie manages « Ateliers Curie » on a full-page or htmx client;
    Pierre and Lucie are its utilisateurs; Paul's request waits."""

    def __init__(self, app, client, mailbox):
        self.app, self.marie = app, sign_up(client, mailbox)
        assert create_structure(self.marie).status_code in (200, 303)
        self.id = query(app, lambda: Structure.get().id)
        self.url = f"/structure/{self.id}/"
        for person in (PIERRE, LUCIE, PAUL):
            new_client(app, mailbox, person).submit(
                "/structure/rattachement/demande",
                {"identifier_type": "siret", "identifier": SIRET_NORMALISED},
            )
        self.pierre, self.lucie, self.paul = (self.membership(p["email"]) for p in (PIERRE, LUCIE, PAUL))
        for member in (self.pierre, self.lucie):
            assert self.marie.submit(f"/approbations/{member}/approuver").status_code in (200, 303)

    def membership(self, email: str) -> int:
        return query(self.app, lambda: Membership.get(Membership.user == User.by_email(email)).id)

    def hand_over(self, member: int, sent_from: str | None = None):
        """Marie's confirmed hand-over; under htmx ``sent_from`` is the page in her address bar."""
        headers = {"HX-Current-URL": f"http://localhost{sent_from}"} if sent_from else None
        return self.marie.submit(
            f"{self.url}gestionnaire", {"member": member, "confirm": "y"}, headers=headers
        )

    def roles(self) -> dict[str, str]:
        def read():
            active = (
                Membership.select(Membership, User)
                .join(User, on=(Membership.user == User.id))
                .where(Membership.status == Membership.ACTIVE)
            )
            return {row.user.first_name: row.role for row in active}

        return query(self.app, read)

    def status(self, membership: int) -> str:
        return query(self.app, lambda: Membership.get_by_id(membership).status)


@pytest.fixture
def team(app, any_client, mailbox) -> Team:
    return Team(app, any_client, mailbox)


def told(client, response, page: str, pushed: str | None = None) -> str:
    """The stale form's answer: ``page`` with the message, in place of the
    whole content under htmx (whatever the form targeted), else a 303 to it."""
    if client.htmx:
        assert response.status_code == 200, text_of(response)
        assert response.headers["HX-Retarget"] == "#main"
        if pushed:
            assert response.headers["HX-Push-Url"] == pushed
        text = text_of(response)
        assert "<html" not in text
    else:
        assert response.status_code == 303, text_of(response)
        assert response.headers["Location"] == page
        text = text_of(client.get(page))
    assert f'<div class="notice notice--error notice--flash" role="status">{NOT_MANAGER}</div>' in text
    if page != "/espace/":
        assert '<a href="/espace/">Retour à Mon espace</a>' in text
    return text


def test_attack_second_handover_from_a_page_opened_before_the_first(team, mailbox):
    """Two tabs on the structure's page: the role goes to Pierre in the
    first; the second, sent for Lucie, changes nothing and says why."""
    assert team.hand_over(team.pierre).status_code in (200, 303)
    response = team.hand_over(team.lucie, sent_from=team.url)
    text = told(team.marie, response, team.url)
    if team.marie.htmx:
        assert response.headers["HX-Replace-Url"] == team.url  # the page it was sent from
    assert "Votre rôle : Utilisateur." in text and "Transférer le rôle" not in text
    assert team.roles() == {"Marie": Membership.USER, "Pierre": Membership.MANAGER, "Lucie": Membership.USER}
    assert not [m for m in mails_to(mailbox, LUCIE["email"]) if "gestionnaire principal" in m.subject]


@pytest.mark.parametrize("decision", ["approuver", "refuser"])
def test_attack_deciding_from_approbations_opened_before_the_handover(team, mailbox, decision):
    """« Approbations » open in another tab: after the hand-over, its buttons
    decide nothing; « Mon espace » says why (Marie manages nothing now)."""
    team.hand_over(team.pierre)
    response = team.marie.submit(f"/approbations/{team.paul}/{decision}")
    text = told(team.marie, response, "/espace/", pushed="/espace/")
    assert "<h1>Mon espace</h1>" in text
    assert team.status(team.paul) == Membership.PENDING
    assert [m.subject for m in mails_to(mailbox, PAUL["email"])] == [
        "Votre demande de rattachement est envoyée"
    ]
    # The request still waits, for the new gestionnaire principal to decide.
    pierre = signed_in(team.app, PIERRE["email"])
    assert pierre.submit(f"/approbations/{team.paul}/{decision}").status_code == 303
    assert team.status(team.paul) != Membership.PENDING


def test_a_manager_of_another_structure_stays_in_approbations(app, team):
    create_structure(team.marie, identifier=ANOTHER_SIRET, company_name="Curie et Filles")
    team.hand_over(team.pierre)
    response = team.marie.submit(f"/approbations/{team.paul}/approuver")
    text = told(team.marie, response, "/approbations/")
    assert "<h1>Approbations</h1>" in text and "Curie et Filles" in text
    assert team.status(team.paul) == Membership.PENDING


def test_attack_handover_raced_by_another_one_in_between(team, monkeypatch):
    """The other tab's hand-over lands between this one's checks and its
    change: the database's conditional update has one winner; this one says why."""
    validate = HandoverForm.validate

    def validated_then_overtaken(form, *args, **kwargs):
        valid = validate(form, *args, **kwargs)
        Structure.get_by_id(team.id).hand_over(User.by_email("marie.curie@exemple.fr"), team.lucie)
        return valid

    monkeypatch.setattr(HandoverForm, "validate", validated_then_overtaken)
    told(team.marie, team.hand_over(team.pierre), team.url)
    assert team.roles() == {"Marie": Membership.USER, "Pierre": Membership.USER, "Lucie": Membership.MANAGER}


def test_a_member_who_leaves_while_chosen_is_named_next_to_the_field(team, monkeypatch):
    validate = HandoverForm.validate

    def validated_then_pierre_leaves(form, *args, **kwargs):
        valid = validate(form, *args, **kwargs)
        Membership.update(status=Membership.CANCELLED).where(Membership.id == team.pierre).execute()
        return valid

    monkeypatch.setattr(HandoverForm, "validate", validated_then_pierre_leaves)
    response = team.hand_over(team.pierre)
    assert response.status_code == 422
    assert error_of(response, "member").endswith(
        "Ce membre n'est plus rattaché à la structure : choisissez-en un autre."
    )
    text = text_of(response)
    assert f'value="{team.pierre}"' not in text  # no longer offered
    assert re.search(r'<input [^>]*checked [^>]*id="confirm"', text)  # what was ticked stays ticked
    assert team.roles()["Marie"] == Membership.MANAGER


@pytest.mark.parametrize("gone", ["closed", "left"])
def test_a_member_chosen_on_a_page_opened_before_they_went_is_named_next_to_the_field(team, gone):
    """The page offered Pierre; his account was closed (or he left) before
    Marie sent it, Lucie may still receive the role: the field says what
    became of him, not that his value is missing from the list."""
    if gone == "closed":
        change = User.update(status=User.DISABLED).where(User.email == PIERRE["email"])
        expected = "Le compte de Pierre Durand a été fermé : il ne peut pas recevoir le rôle."
    else:
        change = Membership.update(status=Membership.CANCELLED).where(Membership.id == team.pierre)
        expected = "Ce membre n'est plus rattaché à la structure : choisissez-en un autre."
    query(team.app, change.execute)
    response = team.hand_over(team.pierre)
    assert response.status_code == 422
    assert expected in error_of(response, "member")
    text = text_of(response)
    assert f'value="{team.pierre}"' not in text and f'value="{team.lucie}"' in text
    assert team.roles()["Marie"] == Membership.MANAGER


def test_a_stale_handover_form_for_the_last_member_who_could_receive_the_role_says_it_failed(team):
    """The page was opened while Pierre and Lucie were members; both have
    left (their accounts closed) when Marie sends it: the answer says the
    role was not handed over, not a page titled « Erreur » with no error on it."""
    query(
        team.app,
        lambda: (
            User.update(status=User.DISABLED)
            .where(User.email.in_([PIERRE["email"], LUCIE["email"]]))
            .execute()
        ),
    )
    response = team.hand_over(team.pierre)
    assert response.status_code == 422
    assert error_of(response, "member").endswith("Le rôle de gestionnaire principal n'a pas été transféré.")
    assert "Aucun autre membre actif ne peut recevoir ce rôle" in text_of(response)
    assert team.roles()["Marie"] == Membership.MANAGER


def test_attack_edit_and_siret_forms_opened_before_the_handover(team):
    """« Modifier les informations » open in another tab: after the hand-over,
    its details and its SIRET are stored by nobody; the structure's page says why."""
    before = query(team.app, lambda: Structure.get_by_id(team.id).company_name)
    team.hand_over(team.pierre)
    edited = team.marie.submit(
        f"{team.url}modifier", {"company_name": "Ateliers Volés", "address": "1 rue X", "city": "Paris"}
    )
    told(team.marie, edited, team.url)
    told(team.marie, team.marie.submit(f"{team.url}siret", {"identifier": ANOTHER_SIRET}), team.url)
    assert query(team.app, lambda: Structure.get_by_id(team.id).company_name) == before
    assert query(team.app, lambda: Structure.get_by_id(team.id).identifier) == SIRET_NORMALISED


def test_attack_a_stranger_can_neither_hand_over_nor_decide_and_learns_nothing(app, team, mailbox):
    """Zoé, who never belonged to the structure, sends the forms with real
    ids: refused as for ids that do not exist (404), no word about the
    structure, nothing changed."""
    zoe = new_client(app, mailbox, ZOE, htmx=team.marie.htmx)
    answers = [
        zoe.submit(f"{team.url}gestionnaire", {"member": team.pierre, "confirm": "y"}),
        zoe.submit(f"{team.url}modifier", {"company_name": "Ateliers Volés"}),
        zoe.submit(f"{team.url}siret", {"identifier": ANOTHER_SIRET}),
        zoe.submit(f"/approbations/{team.paul}/approuver"),
        zoe.submit(f"/approbations/{team.paul}/refuser"),
    ]
    for response in answers:
        text = text_of(response)
        assert response.status_code == 404 and "Accès refusé" not in text
        assert "Ateliers Curie" not in text and "gestionnaire principal" not in text
        assert "Pierre" not in text and "Paul" not in without_tokens(text)
        if zoe.htmx:
            assert response.headers["HX-Retarget"] == "#main"  # shown, not swallowed
    assert team.roles() == {"Marie": Membership.MANAGER, "Pierre": Membership.USER, "Lucie": Membership.USER}
    assert team.status(team.paul) == Membership.PENDING


def test_attack_edit_and_siret_raced_by_a_handover_in_between(app, any_client, mailbox, monkeypatch):
    """The other tab's hand-over lands after this edit's checks, before it is
    written: the write checks the role again, and stores nothing."""
    from forms.structure import SiretForm, StructureEditForm
    from tests.support.structures import STRUCTURE

    team = Team(app, any_client, mailbox)
    query(app, lambda: Structure.update(identifier_type="en_cours", identifier="0000000001").execute())

    def overtaken(form_class):
        validate = form_class.validate

        def validated_then_overtaken(form, *args, **kwargs):
            valid = validate(form, *args, **kwargs)
            holder = Structure.get_by_id(team.id).manager()
            Structure.get_by_id(team.id).hand_over(
                holder, team.pierre if holder.first_name == "Marie" else team.lucie
            )
            return valid

        monkeypatch.setattr(form_class, "validate", validated_then_overtaken)

    overtaken(StructureEditForm)
    details = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
    edited = team.marie.submit(f"{team.url}modifier", {**details, "company_name": "Ateliers Volés"})
    told(team.marie, edited, team.url)
    assert query(app, lambda: Structure.get_by_id(team.id).company_name) == "Ateliers Curie"

    # Marie has the role again; her SIRET form now loses the same race.
    marie = team.membership("marie.curie@exemple.fr")
    query(app, lambda: Structure.get_by_id(team.id).hand_over(User.by_email(PIERRE["email"]), marie))
    overtaken(SiretForm)
    told(team.marie, team.marie.submit(f"{team.url}siret", {"identifier": ANOTHER_SIRET}), team.url)
    assert query(app, lambda: Structure.get_by_id(team.id).identifier) == "0000000001"
