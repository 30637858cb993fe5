"""A structure that is not active (disabled by an operator, or awaiting
moderation): its gestionnaire principal sees it but can no longer change it,
neither its details nor its SIRET, whatever the request; operators still can."""

from __future__ import annotations

import pytest

import operations
import structures
from models import Structure, User
from tests.support.app import query
from tests.support.responses import follow, shown, text_of
from tests.support.structures import SIRET, STRUCTURE, create_structure, sign_up

DETAILS = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
DISABLED = "Cette structure est désactivée : ses informations ne peuvent pas être modifiées."
PENDING = "Cette structure est en attente de validation par l'équipe du portail"
REFUSALS = {Structure.DISABLED: DISABLED, Structure.PENDING: PENDING}
CLOSED_STATES = pytest.mark.parametrize("status", [Structure.DISABLED, Structure.PENDING])


def set_status(app, status: str) -> None:
    query(app, lambda: Structure.update(status=status).execute())


def stored(app) -> Structure:
    return query(app, Structure.get)


@pytest.fixture
def manager(app, any_client, mailbox):
    """Marie, gestionnaire principal of « Ateliers Curie », on a full-page or htmx client;
    returns (client, structure id)."""
    marie = sign_up(any_client, mailbox)
    assert create_structure(marie).status_code in (200, 303)
    return marie, stored(app).id


def refused(client, response, structure_id: int, status: str) -> str:
    """The refusal: back to the structure's page (a 303 without JavaScript, its
    fragment under htmx), with the reason; its text."""
    page = f"/structure/{structure_id}/"
    if client.htmx:
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == page
        assert "<html" not in text_of(response)
    else:
        assert response.status_code == 303 and response.headers["Location"] == page
    text = follow(client, response)
    assert REFUSALS[status] in text
    assert f"/structure/{structure_id}/modifier" not in text  # the structure's page, no edit form
    return text


@CLOSED_STATES
def test_the_page_of_a_structure_that_is_not_active_offers_no_edit(app, manager, status):
    marie, structure_id = manager
    assert f'href="/structure/{structure_id}/modifier"' in shown(marie, f"/structure/{structure_id}/")
    set_status(app, status)
    text = shown(marie, f"/structure/{structure_id}/")
    assert f"/structure/{structure_id}/modifier" not in text and "Modifier les informations" not in text
    assert "Ses informations ne peuvent pas être modifiées tant qu'elle n'est pas active." in text
    assert 'href="/approbations/"' in text  # pending requests can still be refused


@CLOSED_STATES
def test_the_edit_form_of_a_structure_that_is_not_active_is_refused_with_its_reason(app, manager, status):
    marie, structure_id = manager
    set_status(app, status)
    response = marie.get(f"/structure/{structure_id}/modifier")
    text = refused(marie, response, structure_id, status)
    assert "Ateliers Curie" in text and "Soumettre" not in text


@CLOSED_STATES
def test_a_forged_edit_of_a_structure_that_is_not_active_stores_nothing_attack_edit_after_disabling(
    app, manager, status
):
    """The form kept open in a tab, or written by hand, sent once the
    structure is disabled (or put back under moderation)."""
    marie, structure_id = manager
    set_status(app, status)
    before = stored(app)
    response = marie.submit(
        f"/structure/{structure_id}/modifier", {**DETAILS, "company_name": "Nom usurpé", "city": "Lyon"}
    )
    refused(marie, response, structure_id, status)
    after = stored(app)
    assert (after.company_name, after.city) == ("Ateliers Curie", "Paris")
    assert after.updated_at == before.updated_at
    # Once active again, the same edit goes through.
    set_status(app, Structure.ACTIVE)
    response = marie.submit(f"/structure/{structure_id}/modifier", {**DETAILS, "company_name": "Nouveau nom"})
    assert "Les informations de la structure ont été mises à jour." in follow(marie, response)
    assert stored(app).company_name == "Nouveau nom"


@CLOSED_STATES
def test_a_forged_siret_for_a_structure_that_is_not_active_stores_nothing_attack_siret_after_disabling(
    app, any_client, mailbox, status
):
    marie = sign_up(any_client, mailbox)
    create_structure(marie, identifier_type="en_cours", identifier="")
    structure = stored(app)
    set_status(app, status)
    response = marie.submit(f"/structure/{structure.id}/siret", {"identifier": SIRET})
    refused(marie, response, structure.id, status)
    assert (stored(app).identifier_type, stored(app).identifier) == ("en_cours", structure.identifier)


def test_an_edit_loses_to_a_disabling_made_meanwhile(app, client, mailbox):
    """The page checked the structure was active; an operator disables it
    before the edit is written: the write checks again, and stores nothing."""
    create_structure(sign_up(client, mailbox))

    def edit_a_stale_copy():
        structure = Structure.get()  # read while active
        manager = structure.manager()
        Structure.update(status=Structure.DISABLED).execute()
        with pytest.raises(structures.Closed):
            structures.update(structure, manager, {**DETAILS, "company_name": "Trop tard"})
        with pytest.raises(structures.Closed):
            structures.assign_siret(structure, manager, "73282932000074")

    query(app, edit_a_stale_copy)
    assert stored(app).company_name == "Ateliers Curie"


def test_operators_still_correct_a_disabled_structure(app, client, mailbox):
    create_structure(sign_up(client, mailbox))
    set_status(app, Structure.DISABLED)

    def correct():
        operator = User.get()
        operator.set_operator(True)
        return operations.update_structure(operator, Structure.get(), {**DETAILS, "company_name": "Corrigé"})

    assert "company_name" in query(app, correct)
    assert stored(app).company_name == "Corrigé"


def test_attack_a_request_raced_by_a_disabling_waits_on_no_structure(app, manager, mailbox, monkeypatch):
    """The request's page read the structure open; it is disabled (its
    pending requests closed) before the request is written: nothing waits
    on it, and the requester is told it takes none now."""
    from models import Membership
    from tests.support.structures import PIERRE, ask_to_join, new_client

    pierre = new_client(app, mailbox, PIERRE)
    set_status(app, Structure.DISABLED)
    reads = []

    def is_open(structure) -> bool:  # the view's read, before the disabling; then as stored
        reads.append(structure.id)
        return len(reads) == 1 or structure.status == Structure.ACTIVE

    monkeypatch.setattr(Structure, "is_open", property(is_open))
    response = ask_to_join(pierre)
    assert response.status_code == 409
    said = text_of(response).replace("&#39;", "'")
    assert "n'accepte pas de demande de rattachement pour le moment" in said
    assert query(app, lambda: Membership.select().where(Membership.status == Membership.PENDING).count()) == 0


def test_a_request_racing_a_disabling_on_postgresql_waits_for_it_and_is_refused(pg_app):
    """PostgreSQL (READ COMMITTED): the disabling has updated the structure
    but not committed; the request reading it then would see it active and
    wait on it after the disabling closed its requests. It waits for the
    disabling instead (its row held FOR SHARE), then reads it disabled."""
    import threading
    import time

    from models import Membership, db
    from tests.support.app import user_row

    def setting_up():
        creator = user_row("gestion@exemple.fr", status=User.ACTIVE)
        requester = user_row("demande@exemple.fr", status=User.ACTIVE)
        structure = Structure.register(creator, "siret", "73282932000074", **{
            k: STRUCTURE[k] for k in ("company_name", "address", "city", "postal_code", "country")
        })  # fmt: skip
        return requester, structure

    requester, structure = query(pg_app, setting_up)
    answered = []

    def request_meanwhile():
        with pg_app.test_request_context(), db.connection_context():
            try:
                structures.request_attachment(requester, structure)
                answered.append("requested")
            except structures.Closed:
                answered.append("closed")

    with pg_app.app_context(), db.connection_context(), db.atomic():
        Structure.update(status=Structure.DISABLED).where(Structure.id == structure.id).execute()
        other = threading.Thread(target=request_meanwhile)
        other.start()
        time.sleep(0.5)
        assert answered == []  # held until the disabling commits
    other.join(10)
    assert answered == ["closed"]
    pending = Membership.select().where(Membership.status == Membership.PENDING)
    assert query(pg_app, pending.count) == 0
