"""Searches without accents or case: the text folded in Python and the
column folded in SQL agree, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import pytest
from peewee import Select, Value

import operations
from folding import fold, folded, translate
from models import db
from tests.support.app import query, user_row

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
