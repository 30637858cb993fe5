"""PostgreSQL options given in FLASK_DATABASE_URL are kept by the web
workers, which add their lock timeout to them (the commands add none)."""

from __future__ import annotations

from urllib.parse import quote

from database import open_database


def test_attack_the_workers_keep_the_urls_search_path(postgres):
    """Tables made by `flask init-db` in one schema, queried by the workers in another."""
    name = postgres.create_database()
    connection = postgres.connect(name)
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE SCHEMA portail")
    finally:
        connection.close()
    url = postgres.url(name) + "?options=" + quote("-c search_path=portail", safe="")
    for timeout, expected in ((0, "0"), (5000, "5s")):
        database = open_database(url, timeout)
        try:
            assert database.execute_sql("SHOW search_path").fetchone() == ("portail",)
            assert database.execute_sql("SHOW lock_timeout").fetchone() == (expected,)
        finally:
            database.close_all()


def test_without_options_the_workers_have_their_lock_timeout(postgres):
    database = open_database(postgres.url(postgres.create_database()), 1500)
    try:
        assert database.execute_sql("SHOW lock_timeout").fetchone() == ("1500ms",)
    finally:
        database.close_all()
