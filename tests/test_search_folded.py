"""The folded columns the console's searches read (``models.BaseModel.FOLDED``)
stay true through every write: a sign-up and a second one, the activation
page's corrections, « Mon compte », an operator's correction, a structure
filled from the SIRENE directory, an erased account's structure, bulk
``update()`` past ``save()``, ``save()``, ``insert_many`` and
``bulk_update``; on SQLite and on PostgreSQL. And a LIKE wildcard typed
in a search matches only itself."""

from __future__ import annotations

import pytest

import operations
from folding import fold
from models import Structure, User, utcnow
from rights import ERASED
from tests.support.app import query, user_row
from tests.support.constants import EMAIL, PASSWORD
from tests.support.responses import text_of
from tests.support.signup import Signup, link_in
from tests.support.structures import STRUCTURE, create_structure, sign_up, structures
from tests.test_structure_sirene import load_directory


def both_orders(first: str, last: str) -> str:
    return fold(f"{first} {last}\n{last} {first}")


def stored_name(app, email: str = EMAIL) -> tuple[str, str]:
    """An account's folded name as stored, and as its names fold now."""
    user = query(app, lambda: User.by_email(email))
    return user.folded_name, both_orders(user.first_name, user.last_name)


def stored_structure(app, structure_id: int | None = None) -> Structure:
    return query(app, lambda: Structure.get_by_id(structure_id) if structure_id else Structure.get())


def assert_structure_folded(structure: Structure) -> None:
    assert structure.folded_name == fold(structure.company_name)
    assert structure.folded_place == fold(f"{structure.label or ''}\n{structure.city}")


def accounts_found(app, text: str) -> list[str]:
    return query(app, lambda: [user.email for user in operations.search_accounts(text)])


def structures_found(app, text: str) -> list[str]:
    return query(app, lambda: [structure.company_name for structure in operations.search_structures(text)])


def structure(**fields) -> Structure:
    details = {
        "identifier_type": "siret", "identifier": "12345678900011", "company_name": "Ateliers Sœur",
        "address": "1 rue", "city": "Besançon", "postal_code": "25000", "country": "FR",
    }  # fmt: skip
    return Structure.create(**{**details, **fields})


# -- accounts: the flows ---------------------------------------------------------------------


def test_a_sign_up_a_second_one_and_the_activation_keep_the_folded_name(app, client, mailbox):
    """Created (an INSERT), replaced by a second sign-up of the pending
    address (an UPDATE), corrected on the activation page (a prepared
    UPDATE whose values are bound at each run: folded in SQL)."""
    Signup(client, mailbox).create_account(first_name="Éric", last_name="Lefèvre")
    assert stored_name(app) == ("eric lefevre\nlefevre eric",) * 2
    Signup(app.test_client(), mailbox).create_account(first_name="Anaïs", last_name="Sœur")
    assert stored_name(app) == ("anais soeur\nsoeur anais",) * 2
    assert accounts_found(app, "lefevre") == [] and accounts_found(app, "SOEUR anaïs") == [EMAIL]

    path = link_in([m for m in mailbox(EMAIL) if m.subject == "Activez votre compte"][-1])
    details = {"first_name": "Zoé", "last_name": "Œuvre-Dupré", "phone": "", "contact_email": ""}
    response = client.submit(path, {**details, "password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 303
    assert query(app, lambda: User.by_email(EMAIL).status) == User.ACTIVE
    assert stored_name(app) == ("zoe oeuvre-dupre\noeuvre-dupre zoe",) * 2
    assert accounts_found(app, "anais") == [] and accounts_found(app, "oeuvre dupre") == []
    assert accounts_found(app, "OEUVRE-DUPRÉ ZOE") == [EMAIL]


def test_mon_compte_keeps_the_folded_name(app, any_client, mailbox):
    sign_up(any_client, mailbox)
    profile = {"first_name": "Marie Salomea", "last_name": "Skłodowska", "phone": "", "contact_email": ""}
    response = any_client.submit("/mon-compte/informations", profile)
    assert response.status_code == (200 if any_client.htmx else 303)
    assert stored_name(app) == ("marie salomea sklodowska\nsklodowska marie salomea",) * 2
    assert accounts_found(app, "sklodowska marie") == [EMAIL]
    assert accounts_found(app, "marie curie") == []


def test_an_operator_s_correction_keeps_the_structure_s_folded_columns(app, operator, structure_id):
    url = f"/administration/structures/{structure_id}/modifier"
    form = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
    corrected = {**form, "company_name": "Études Curie", "label": "Maison Lætitia", "city": "Évry"}
    response = operator.submit(url, corrected)
    assert response.status_code == (200 if operator.htmx else 303)
    assert_structure_folded(stored_structure(app, structure_id))
    assert stored_structure(app, structure_id).folded_place == "maison laetitia\nevry"
    assert structures_found(app, "ETUDES") == ["Études Curie"] == structures_found(app, "laetitia")
    assert structures_found(app, "ateliers") == [] and structures_found(app, "paris") == []
    # Its members are found by its raison sociale, the new one only.
    assert "pierre.durand@exemple.fr" in accounts_found(app, "etudes curie")
    assert accounts_found(app, "ateliers curie") == []


def test_a_manager_s_edit_keeps_the_structure_s_folded_columns(app, any_client, mailbox):
    manager = sign_up(any_client, mailbox)
    assert create_structure(manager).status_code in (200, 303)
    structure_id = stored_structure(app).id
    form = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
    response = manager.submit(f"/structure/{structure_id}/modifier", {**form, "label": "", "city": "Orléans"})
    assert response.status_code == (200 if manager.htmx else 303), text_of(response)
    assert stored_structure(app).folded_place == "\norleans"
    assert structures_found(app, "orleans") == ["Ateliers Curie"]
    assert structures_found(app, "les ateliers") == []


def test_a_structure_filled_from_the_sirene_directory_is_found_by_its_name(app, client, mailbox, tmp_path):
    load_directory(app, tmp_path)
    marie = sign_up(client, mailbox)
    page = create_structure(marie, company_name="CURIE ET FILLES", sirene_siret="73282932000074")
    assert page.status_code == 303, text_of(page)
    [created] = structures(app)
    assert created.company_name == "CURIE ET FILLES"
    assert_structure_folded(created)
    assert structures_found(app, "curie et filles") == ["CURIE ET FILLES"]
    assert accounts_found(app, "Curie et Filles") == [EMAIL]


def test_an_erased_account_leaves_its_particulier_structure_unfound_by_its_name(app, any_client, mailbox):
    """« Supprimer mon compte »: a structure « Particulier » keeps its
    identifier only; the folded copies of the erased name and city go too."""
    marie = sign_up(any_client, mailbox)
    response = create_structure(
        marie, identifier_type="particulier", identifier="", company_name="Marie Sœur", city="Besançon"
    )
    assert response.status_code == (200 if marie.htmx else 303), text_of(response)
    assert structures_found(app, "marie soeur") == ["Marie Sœur"]
    response = marie.submit("/mon-compte/supprimer", {"password": PASSWORD})
    assert response.status_code == (204 if marie.htmx else 303), text_of(response)  # htmx: HX-Redirect
    assert query(app, lambda: User.by_email(EMAIL)) is None
    [left] = structures(app)
    assert left.company_name == ERASED
    assert_structure_folded(left)
    assert structures_found(app, "soeur") == [] and structures_found(app, "besancon") == []
    assert accounts_found(app, "marie") == []


# -- writes past the model's methods, on either database ----------------------------------------


def test_a_bulk_update_keeps_each_row_s_folded_columns_from_its_own_columns(any_database_app):
    """``update()`` of some of the parts, with no row read: the parts left
    as they are come from each row (folded in SQL), not from one object."""
    app = any_database_app

    def rows():
        user_row("eric@exemple.fr", first_name="Éric", last_name="Lefèvre")
        user_row("anais@exemple.fr", first_name="Anaïs", last_name="Lefèvre")
        structure(label="Maison Lætitia")
        structure(identifier="12345678900029", label=None, city="Évry")
        User.update(last_name="Dupré").execute()
        Structure.update(city="Orléans").execute()

    query(app, rows)
    assert stored_name(app, "eric@exemple.fr") == ("eric dupre\ndupre eric",) * 2
    assert stored_name(app, "anais@exemple.fr") == ("anais dupre\ndupre anais",) * 2
    places = query(app, lambda: [s.folded_place for s in Structure.select().order_by(Structure.id)])
    assert places == ["maison laetitia\norleans", "\norleans"]
    assert sorted(accounts_found(app, "DUPRE")) == ["anais@exemple.fr", "eric@exemple.fr"]
    assert accounts_found(app, "lefevre") == []


def test_save_insert_many_and_bulk_update_keep_the_folded_columns(any_database_app):
    app = any_database_app

    def writes():
        fields = [User.email, User.first_name, User.last_name, User.contact_email, User.terms_accepted_at]
        rows = [("a@exemple.fr", "Élodie", "Martin"), ("b@exemple.fr", "Noël", "Bà")]
        User.insert_many([(*row, row[0], utcnow()) for row in rows], fields=fields).execute()
        user = User.get(User.email == "a@exemple.fr")
        user.first_name = "Hélène"
        user.save()
        users = list(User.select().order_by(User.id))
        for each in users:
            each.last_name = f"{each.last_name}-Ÿ"
        User.bulk_update(users, fields=[User.last_name])

    query(app, writes)
    assert stored_name(app, "a@exemple.fr") == ("helene martin-y\nmartin-y helene",) * 2
    assert stored_name(app, "b@exemple.fr") == ("noel ba-y\nba-y noel",) * 2


def test_attack_a_folded_column_written_on_its_own_is_computed_again(any_database_app):
    """Nothing writes a folded column apart from its parts: given alone, or
    through « Mon compte »'s changes, it is computed from the row."""
    app = any_database_app

    def writes():
        user = user_row("eric@exemple.fr", first_name="Éric", last_name="Lefèvre")
        User.update(folded_name="marie curie").execute()
        assert User.get_by_id(user.id).folded_name == "eric lefevre\nlefevre eric"
        assert user.update_profile({"folded_name": "marie curie", "first_name": "Érik"})
        assert User.get_by_id(user.id).folded_name == "erik lefevre\nlefevre erik"
        with pytest.raises(TypeError):
            User.insert_from(User.select(User.email), [User.email])

    query(app, writes)
    assert accounts_found(app, "marie curie") == []


# -- LIKE wildcards ------------------------------------------------------------------------------


def test_attack_like_wildcards_in_a_search_match_only_themselves(any_database_app):
    """« % », « _ » and « \\ » typed in a search are text: they find a name
    that holds them, never every account or any letter."""
    app = any_database_app

    def rows():
        user_row("hopital@exemple.fr", first_name="Guillaume", last_name="de l'Hôpital_%")
        user_row("antislash@exemple.fr", first_name="Back", last_name="Sl\\ash")
        user_row("eric@exemple.fr", first_name="Éric", last_name="Lefèvre")
        structure(company_name="Cent % Bio", city="Évry")

    query(app, rows)
    for text in ("%", "_", "\\", "%%", "e_ic", "lef%vre", "\\%", "\\_", "\\e", "\\r", "[a-z]", "*"):
        found = accounts_found(app, text)
        assert "eric@exemple.fr" not in found, text
    assert accounts_found(app, "_") == accounts_found(app, "%") == ["hopital@exemple.fr"]
    assert accounts_found(app, "HOPITAL_%") == ["hopital@exemple.fr"]
    assert accounts_found(app, "hopita_") == []
    assert accounts_found(app, "sl\\ash") == ["antislash@exemple.fr"]
    assert accounts_found(app, "sl\\") == ["antislash@exemple.fr"]
    assert accounts_found(app, "s\\a") == []
    assert structures_found(app, "%") == ["Cent % Bio"] == structures_found(app, "cent % bio")
    assert structures_found(app, "cent_%") == [] and structures_found(app, "ev_y") == []
