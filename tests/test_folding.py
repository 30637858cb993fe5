"""Searches without accents or case: the text folded in Python and the
column folded in SQL agree, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import pytest
from peewee import Select, Value

import operations
from folding import fold, folded, translate
from models import Structure, db
from tests.support.app import query, recorded_statements, user_row

NAMES = [
    "Éric Lefèvre",
    "FRANÇOIS-XAVIER",
    "Anaïs Sœur",
    "ŒUVRE ÆTHER",
    "Nguyễn Thị Ngọc",  # two marks on one letter
    "Łukasz Øster Đorđe",  # strokes Unicode does not decompose
    "Ωmega Σοφία",  # another script: its case is kept on both sides
    "l'Hôpital_%",
]


@pytest.mark.parametrize("name", NAMES)
def test_python_and_sql_fold_a_name_alike(any_database_app, name):
    def in_sql():
        return Select(columns=[folded(Value(name))]).bind(db).scalar()

    assert query(any_database_app, in_sql) == fold(name)


def test_fold_leaves_no_accent_on_latin_letters():
    assert fold("Éric Lefèvre") == "eric lefevre"
    assert fold("Anaïs Sœur ŒUVRE Æther") == "anais soeur oeuvre aether"
    assert fold("Nguyễn Łukasz") == "nguyen lukasz"
    assert fold("Σοφία") == "Σοφία"  # Latin script only


def test_the_sqlite_translate_is_postgresqls():
    assert translate("abcabc", "ab", "x") == "xcxc"  # beyond the target: dropped
    assert translate(None, "a", "b") is None
    assert translate(12, "1", "9") == "92"


def test_search_finds_names_without_their_accents_on_either_database(any_database_app):
    app = any_database_app
    query(app, lambda: user_row("eric.lefevre@exemple.fr", first_name="Éric", last_name="Lefèvre"))

    def found(text):
        return [user.email for user in operations.search_accounts(text)]

    for text in ("eric lefevre", "LEFEVRE", "éric", "Lefèvre Éric", "EvRe"):
        assert query(app, lambda text=text: found(text)) == ["eric.lefevre@exemple.fr"], text
    assert query(app, lambda: found("eric_")) == []


def test_a_search_finds_each_field_on_its_own_on_either_database(any_database_app):
    """One fold a row covers every field searched: a name in either order,
    the raison sociale, the libellé (none here) and the city, each found on
    its own and never astride two of them."""
    app = any_database_app

    def rows():
        user_row("eric.lefevre@exemple.fr", first_name="Éric", last_name="Lefèvre")
        Structure.create(
            identifier_type="SIRET",
            identifier="12345678900011",
            company_name="Ateliers Sœur",
            address="1 rue",
            city="Besançon",
            postal_code="25000",
            country="FR",
        )

    query(app, rows)

    def accounts(text):
        return [user.email for user in operations.search_accounts(text)]

    def structures(text):
        return [structure.company_name for structure in operations.search_structures(text)]

    for text in ("eric lefevre", "lefevre eric", "LEFÈVRE É", "ric"):
        assert query(app, lambda text=text: accounts(text)) == ["eric.lefevre@exemple.fr"], text
    for text in ("lefevre eric lefevre", "eric lefevre eric", "lefevre lefevre"):
        assert query(app, lambda text=text: accounts(text)) == [], text
    for text in ("ateliers soeur", "besancon", "BESANÇON", "Sœur"):
        assert query(app, lambda text=text: structures(text)) == ["Ateliers Sœur"], text
    for text in ("soeur besancon", "soeur  besancon", "soeur\nbesancon"):
        assert query(app, lambda text=text: structures(text)) == [], text


def test_a_search_folds_no_row_it_reads_the_folded_columns(app, monkeypatch):
    """On SQLite each fold in SQL is a call into Python, for each row: a
    search among 10,000 accounts took ten times as long (README). The searches
    now read the folded columns the models store: no fold in their SQL, and
    no call into Python however many rows there are."""

    def rows():
        for n in range(3):
            user_row(f"eric{n}@exemple.fr", first_name="Éric", last_name=f"Lefèvre{n}")
        Structure.create(
            identifier_type="SIRET", identifier="12345678900011", company_name="Ateliers Sœur",
            address="1 rue", city="Besançon", postal_code="25000", country="FR",
        )  # fmt: skip

    query(app, rows)
    calls = []

    def counted():
        connection = db.connection()
        connection.create_function("translate", 3, lambda *args: calls.append(args) or translate(*args))
        try:
            statements = recorded_statements(monkeypatch)
            found = (operations.search_accounts("lefèvre"), operations.search_structures("BESANÇON"))
        finally:
            connection.create_function("translate", 3, translate, deterministic=True)
        return found, statements

    (accounts, structures), statements = query(app, counted)
    assert len(accounts) == 3 and [s.company_name for s in structures] == ["Ateliers Sœur"]
    assert calls == []
    searches = [s for s in statements if s.startswith("SELECT")]
    assert len(searches) == 2
    for sql in searches:
        assert not any(f"{function}(" in sql.lower() for function in ("translate", "lower", "replace")), sql
