"""Schema upgrades: a database made at any earlier version, with rows in it,
comes out of ``init-db`` with the very schema of a new one and its rows kept,
on SQLite and on PostgreSQL; a future step adding a column to an existing
table upgrades every earlier version too; the steps build what the models
describe; two ``init-db`` at the same instant migrate once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from peewee import SQL, DateTimeField, IntegerField
from playhouse.db_url import connect
from playhouse.migrate import migrate as migrate_schema

import migrations
import operations
from app import create_app
from folding import fold
from migrations import (
    v001_accounts,
    v002_structures,
    v003_audit_and_sign_in_throttle,
    v004_sirene_directory,
    v006_sessions_and_manager_notices,
    v008_drafts,
    v009_operators,
    v010_second_factors,
    v013_ids_never_reused,
    v016_search_folded,
    v019_audit_subjects,
)
from models import MODELS, Serial, Structure, User, db
from tests.support.app import clean_environment

ROOT = Path(__file__).resolve().parent.parent
LATEST = migrations.SCHEMA_VERSION
AT = datetime(2026, 1, 2, 3, 4, 5)
FOREIGN_KEY_ACTIONS = {"a": "NO ACTION", "c": "CASCADE", "n": "SET NULL", "r": "RESTRICT", "d": "SET DEFAULT"}


# -- databases on either engine ------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def new_url(request, tmp_path, monkeypatch):
    """Makes the URL of a new, empty database on the engine under test."""
    clean_environment(monkeypatch)
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        return lambda: server.url(server.create_database())
    count = iter(range(1000))
    return lambda: f"sqlite:///{tmp_path / f'db{next(count)}.sqlite'}"


def app_on(url: str):
    """An app bound to that database (the models' proxy follows the last one made)."""
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url})


def init_db(url: str) -> str:
    result = app_on(url).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    return result.output


def build_at(url: str, version: int) -> None:
    """A database at ``version``, made by the real steps, with rows of that time."""
    with app_on(url).app_context(), db.connection_context():
        assert migrations.migrate(version) == (0, version)
        for fill in FILLS[:version]:
            if fill is not None:
                fill()


def _fill_v1() -> None:
    user = v001_accounts.User.create(
        email="marie.curie@exemple.fr", first_name="Marie", last_name="Curie", phone="+33612345678",
        contact_email="marie@exemple.fr", survey_consent=True, terms_accepted_at=AT, password_hash="h",
        status="active", created_at=AT, activated_at=AT, session_epoch=3,
    )  # fmt: skip
    v001_accounts.Token.create(user=user, purpose="reset", token_hash="t", created_at=AT, expires_at=AT)
    v001_accounts.CaptchaChallenge.create(id="c", created_at=AT, expires_at=AT)
    v001_accounts.OutboxMail.create(
        recipient="marie@exemple.fr", subject="Bienvenue", body_text="Bonjour", created_at=AT,
        next_attempt_at=AT,
    )  # fmt: skip


def _fill_v2() -> None:
    user = v002_structures.User.get()
    structure = v002_structures.Structure.create(
        identifier_type="siret", identifier="73282932000074", company_name="Ateliers Curie",
        address="1 rue", city="Paris", postal_code="75002", country="FR", created_by=user,
        created_at=AT, updated_at=AT,
    )  # fmt: skip
    v002_structures.Membership.create(
        user=user, structure=structure, role="gestionnaire_principal", status="active", requested_at=AT
    )


def _fill_v3() -> None:
    db.execute_sql('UPDATE "user" SET failed_sign_ins = 2')
    v003_audit_and_sign_in_throttle.AuditEvent.create(
        at=AT, user=v003_audit_and_sign_in_throttle.User.get(), event="auth.sign_in", outcome="ok"
    )


def _fill_v4() -> None:
    v004_sirene_directory.SireneEstablishment.create(siret=73282932000074)
    v004_sirene_directory.SireneLegalUnit.create(siren=732829320)
    v004_sirene_directory.SireneImport.create(
        kind="establishments", files="{}", rows=1, started_at=AT, finished_at=AT
    )


def _fill_v5() -> None:
    db.execute_sql("UPDATE captcha_challenge SET owner = 'o', image_fetches = 1, audio_fetches = 2")


def _fill_v6() -> None:
    v006_sessions_and_manager_notices.UserSession.create(
        key_hash="k", user=v006_sessions_and_manager_notices.User.get(), created_at=AT
    )
    db.execute_sql("UPDATE membership SET manager_notified_at = requested_at")


def _fill_v7() -> None:
    db.execute_sql(f'UPDATE "user" SET contact_email_confirmed_at = {db.param}', (AT,))  # noqa: S608


def _fill_v8() -> None:
    v008_drafts.Draft.create(key="s:k:signup", data='{"first_name": "Marie"}', saved_at=AT, expires_at=AT)
    v008_drafts.Draft.create(
        key="u:1:structure", user=v008_drafts.User.get(), data="{}", saved_at=AT, expires_at=AT
    )


def _fill_v9() -> None:
    db.execute_sql('UPDATE "user" SET is_operator = TRUE')
    db.execute_sql("UPDATE structure SET status = 'disabled'")
    v009_operators.ConsentChange.create(user=v009_operators.User.get(), consent=True, at=AT)


def _fill_v10() -> None:
    user = v010_second_factors.User.get()
    v010_second_factors.SecondFactor.create(
        user=user,
        kind="totp",
        name="Application",
        secret="sealed",
        last_step=1,
        created_at=AT,
        confirmed_at=AT,
    )
    v010_second_factors.RecoveryCode.create(user=user, code_hash="r", created_at=AT)
    v010_second_factors.EmailCode.create(user=user, code_hash="e", created_at=AT, expires_at=AT)


def _fill_v11() -> None:
    db.execute_sql("UPDATE \"user\" SET language = 'en'")
    db.execute_sql("UPDATE outbox_mail SET language = 'en'")


def _fill_v12() -> None:
    db.execute_sql('UPDATE outbox_mail SET account_id = (SELECT MIN(id) FROM "user")')


def _fill_v13() -> None:
    """Step 13 adds no table or column: the rows before it are the ones kept."""


def _fill_v14() -> None:
    db.execute_sql(f'UPDATE "user" SET last_signed_in_at = {db.param}', (AT,))  # noqa: S608


def _fill_v15() -> None:
    db.execute_sql("UPDATE email_code SET tries = 2")


def _fill_v16() -> None:
    """Step 16 adds folded copies of columns: the rows are those of before,
    the copies filled by the step (test_step_16_…)."""


def _fill_v17() -> None:
    db.execute_sql("UPDATE outbox_mail SET about_id = 7")


def _fill_v18() -> None:
    db.execute_sql("UPDATE outbox_mail SET given_up_at = created_at, retried_at = created_at")


def _fill_v19() -> None:
    db.execute_sql("UPDATE audit_event SET about_account = 'pierre@exemple.fr', structure_id = 1")


def _fill_v20() -> None:
    """Step 20 adds an index: the rows before it are the ones kept."""


def _fill_v21() -> None:
    marks = ", ".join([db.param] * 6)
    db.execute_sql(
        f"INSERT INTO draft (key, data, saved_at, expires_at, page, page_save) VALUES ({marks})",  # noqa: S608
        ("u:1:account", '{"city": "Lyon"}', AT, AT, "pageid01", 3),
    )


FILLS = [
    _fill_v1,
    _fill_v2,
    _fill_v3,
    _fill_v4,
    _fill_v5,
    _fill_v6,
    _fill_v7,
    _fill_v8,
    _fill_v9,
    _fill_v10,
    _fill_v11,
    _fill_v12,
    _fill_v13,
    _fill_v14,
    _fill_v15,
    _fill_v16,
    _fill_v17,
    _fill_v18,
    _fill_v19,
    _fill_v20,
    _fill_v21,
]
# Every version a database can be at: none, or that of a step.
VERSIONS = [0, *sorted(migrations.STEPS)]


def test_every_version_has_its_rows():
    assert len(FILLS) == LATEST, "a new step needs a _fill_vNNN with a few rows of its tables"


# -- what a database holds ----------------------------------------------------------------


def schema_of(url: str, ordered: bool = True) -> dict:
    """Tables, columns (type, length, nullability, default), indexes (with
    their SQL, so partial ones too) and foreign keys (with ON DELETE)."""
    database = connect(url)
    with database.connection_context():
        schema = {}
        for table in database.get_tables():
            lengths = _lengths(database, table)
            columns = [
                (c.name, c.data_type, lengths.get(c.name), c.null, c.primary_key, ordered and c.default)
                for c in database.get_columns(table)
            ]
            indexes = [(i.name, tuple(i.columns), i.unique, i.sql) for i in database.get_indexes(table)]
            schema[table] = {
                "columns": columns if ordered else sorted(columns),
                "indexes": sorted(indexes),
                "foreign_keys": sorted(_foreign_keys(database, table)),
            }
    return schema


def _lengths(database, table: str) -> dict:
    if database.__class__.__name__.startswith("Sqlite"):
        return {}  # in the type: VARCHAR(100)
    cursor = database.execute_sql(
        "SELECT column_name, character_maximum_length FROM information_schema.columns WHERE table_name = %s",
        (table,),
    )
    return dict(cursor.fetchall())


def _foreign_keys(database, table: str) -> list[tuple]:
    if database.__class__.__name__.startswith("Sqlite"):
        rows = database.execute_sql(f'PRAGMA foreign_key_list("{table}")').fetchall()
        return [
            (source, target, column, on_delete) for _i, _s, target, source, column, _u, on_delete, _m in rows
        ]
    cursor = database.execute_sql(
        "SELECT a.attname, c.confrelid::regclass::text, af.attname, c.confdeltype FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND c.conrelid = %s::regclass",
        (f'"{table}"',),
    )
    return [
        (source, target.strip('"'), column, FOREIGN_KEY_ACTIONS[kind])
        for source, target, column, kind in cursor
    ]


def rows_of(url: str) -> dict[str, list[dict]]:
    database = connect(url)
    with database.connection_context():
        rows = {}
        for table in database.get_tables():
            cursor = database.execute_sql(f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608 - catalogue names
            names = [column[0] for column in cursor.description]
            rows[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return rows


def assert_rows_kept(before: dict, after: dict) -> None:
    """Every row of before is in after, the columns it had unchanged."""
    for table, rows in before.items():
        if table == "schema_version":
            continue
        kept = [{name: row[name] for name in old} for row, old in zip(after[table], rows, strict=True)]
        assert kept == rows, table


# -- a future step, in the test only ------------------------------------------------------


@pytest.fixture(params=[False, True], ids=["today", "with-a-future-column"])
def future(request, monkeypatch):
    """Optionally one more step that adds columns to ``structure`` (created by
    step 2), with the model's fields to match: the change that broke upgrades
    when steps created their tables from the live models."""
    if not request.param:
        yield LATEST
        return
    checked_at = DateTimeField(null=True)
    checks = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])

    def add_directory_columns(migrator) -> None:
        migrate_schema(
            migrator.add_column("structure", "directory_checked_at", checked_at),
            migrator.add_column("structure", "directory_checks", checks, allow_not_null=True),
        )

    monkeypatch.setitem(migrations.STEPS, LATEST + 1, add_directory_columns)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", LATEST + 1)
    Structure._meta.add_field("directory_checked_at", checked_at.clone())
    Structure._meta.add_field("directory_checks", IntegerField(default=0))
    yield LATEST + 1
    for name in ("directory_checked_at", "directory_checks"):
        Structure._meta.remove_field(name)
        delattr(Structure, name)  # remove_field leaves the class attribute


# -- upgrades -----------------------------------------------------------------------------


@pytest.mark.parametrize("older", VERSIONS)
def test_a_database_of_any_earlier_version_upgrades_to_the_new_schema_with_its_rows(new_url, future, older):
    fresh = new_url()
    assert f"schema version 0 -> {future}" in init_db(fresh)
    old = new_url()
    build_at(old, older)
    rows = rows_of(old)

    output = init_db(old)

    expected = f"{older} -> {future}" if older < future else f"up to date (schema version {future})"
    assert expected in output
    assert schema_of(old) == schema_of(fresh)
    assert_rows_kept(rows, rows_of(old))
    assert "Database up to date" in init_db(old)
    with app_on(old).app_context(), db.connection_context():
        if older:  # the application reads what the older version wrote
            marie = User.get()
            assert (marie.email, marie.session_epoch) == ("marie.curie@exemple.fr", 3)
            assert marie.failed_sign_ins == (2 if older >= 3 else 0)
        if future > LATEST and older >= 2:
            assert Structure.get().directory_checks == 0
        assert [row.version for row in migrations.SchemaVersion.select()] == [future]


def test_the_steps_build_what_the_models_describe(new_url, future):
    """Tables, columns, types, nullability, indexes and foreign keys as
    ``create_tables(MODELS)`` would make them (column order and SQL defaults
    aside: ALTER TABLE adds at the end, with a DEFAULT)."""
    by_steps, by_models = new_url(), new_url()
    init_db(by_steps)
    with app_on(by_models).app_context(), db.connection_context():
        db.create_tables(MODELS)
    assert schema_of(by_steps, ordered=False) == schema_of(by_models, ordered=False)


@pytest.mark.parametrize("older", [0, 12])
def test_the_id_of_a_deleted_newest_row_is_never_given_again(new_url, older):
    """New or upgraded from before step 13, on either engine: the account
    made after the newest one is deleted gets a new id, not the deleted one's."""
    url = new_url()
    build_at(url, older)
    init_db(url)
    with app_on(url).app_context(), db.connection_context():
        made = [v001_accounts.User.create(
            email=f"{name}@exemple.fr", first_name=name, last_name="X", contact_email=f"{name}@exemple.fr",
            survey_consent=False, terms_accepted_at=AT, status="active", created_at=AT, session_epoch=0,
        ).id for name in ("pierre", "lucie")]  # fmt: skip
        User.delete().where(User.id == max(made)).execute()
        after = v001_accounts.User.create(
            email="paul@exemple.fr",
            first_name="Paul",
            last_name="X",
            contact_email="paul@exemple.fr",
            survey_consent=False,
            terms_accepted_at=AT,
            status="active",
            created_at=AT,
            session_epoch=0,
        )
        assert after.id > max(made)


def test_the_tables_rebuilt_by_step_13_are_those_whose_models_never_reuse_an_id():
    serial = {model._meta.table_name for model in MODELS if isinstance(model._meta.primary_key, Serial)}
    assert serial == set(v013_ids_never_reused.TABLES)


def test_steps_are_numbered_from_one_without_gaps():
    assert sorted(migrations.STEPS) == list(range(1, LATEST + 1))
    for version, step in migrations.STEPS.items():
        assert step.__module__.startswith(f"migrations.v{version:03d}_")


def test_no_step_imports_the_application_models():
    for path in (ROOT / "migrations").glob("v*.py"):
        source = path.read_text()
        assert "from models import" not in source and "import models" not in source, path.name


def test_a_database_made_before_the_version_table_counts_as_the_first_release(new_url):
    url = new_url()
    build_at(url, 1)
    database = connect(url)
    with database.connection_context():
        database.execute_sql('DROP TABLE "schema_version"')
    assert f"0 -> {LATEST}" in init_db(url)
    assert schema_of(url) == schema_of(_fresh(new_url))


def _fresh(new_url) -> str:
    url = new_url()
    init_db(url)
    return url


def test_a_newer_database_is_left_as_it_is(new_url):
    url = _fresh(new_url)
    with app_on(url).app_context(), db.connection_context():
        migrations.SchemaVersion.update(version=LATEST + 1).execute()
    assert f"Database up to date (schema version {LATEST + 1})" in init_db(url)


def test_a_failing_step_leaves_the_database_at_the_version_before(new_url, monkeypatch):
    url = new_url()
    build_at(url, LATEST)
    before = schema_of(url)

    def broken(migrator) -> None:
        migrate_schema(migrator.add_column("structure", "half_done", DateTimeField(null=True)))
        raise RuntimeError("step failed")

    monkeypatch.setitem(migrations.STEPS, LATEST + 1, broken)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", LATEST + 1)
    result = app_on(url).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code != 0
    assert schema_of(url) == before
    with app_on(url).app_context(), db.connection_context():
        assert migrations.current_version() == LATEST


def test_a_step_that_breaks_a_foreign_key_is_undone_on_sqlite(tmp_path, monkeypatch):
    """The foreign keys are off while the steps run on SQLite (a table rebuild
    would cascade deletes otherwise): they are checked before the commit."""
    clean_environment(monkeypatch)
    url = f"sqlite:///{tmp_path / 'portail.db'}"
    build_at(url, LATEST)
    before = rows_of(url)

    def orphan_token(_migrator) -> None:
        db.execute_sql('UPDATE "token" SET user_id = 999')

    monkeypatch.setitem(migrations.STEPS, LATEST + 1, orphan_token)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", LATEST + 1)
    app = app_on(url)
    with app.app_context(), db.connection_context():
        with pytest.raises(migrations.MigrationError, match="Foreign keys broken"):
            migrations.migrate()
        assert migrations.current_version() == LATEST
        # The connection is as it was: foreign keys on, the usual busy timeout.
        assert db.pragma("foreign_keys") == 1 and db.pragma("busy_timeout") == 5000
    assert rows_of(url) == before


# -- two init-db at the same instant on SQLite --------------------------------------------

# Run in each process: a future step that writes down that it ran and holds
# the migration for a second, then init-db once the start file appears.
WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from peewee import DateTimeField
    from playhouse.migrate import migrate
    import app, migrations

    start, log = Path(sys.argv[1]), Path(sys.argv[2])

    def slow_step(migrator):
        with log.open("a") as out:
            out.write("ran\\n")
        time.sleep(1.0)
        migrate(migrator.add_column("structure", "directory_checked_at", DateTimeField(null=True)))

    migrations.STEPS[migrations.SCHEMA_VERSION + 1] = slow_step
    migrations.SCHEMA_VERSION += 1
    while not start.exists():
        time.sleep(0.002)
    from flask.cli import main
    sys.argv = ["flask", "--app", "app", "init-db"]
    main()
    """
)


@pytest.mark.parametrize("older", [0, 1])
def test_two_init_db_at_the_same_instant_on_sqlite_migrate_once(tmp_path, monkeypatch, older):
    clean_environment(monkeypatch)
    path = tmp_path / "portail.db"
    url = f"sqlite:///{path}"
    if older:
        build_at(url, older)
    start, log = tmp_path / "start", tmp_path / "ran.log"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    environment.update(
        FLASK_DATABASE_URL=url,
        FLASK_SECRET_KEY="test-secret-0123456789abcdef-0123",
        FLASK_EXTERNAL_BASE_URL="https://localhost",
    )
    workers = [
        subprocess.Popen(  # noqa: S603 - our own script, with this interpreter
            [sys.executable, "-c", WORKER, str(start), str(log)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        start.touch()
        outputs = [worker.communicate(timeout=60)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    target = LATEST + 1
    assert sorted(line.strip() for line in outputs) == [
        f"Database ready: schema version {older} -> {target}.",
        f"Database up to date (schema version {target}).",
    ]
    assert log.read_text() == "ran\n"
    assert [row["version"] for row in rows_of(url)["schema_version"]] == [target]
    assert [c for c, *_ in schema_of(url)["structure"]["columns"]].count("directory_checked_at") == 1


def test_step_14_takes_each_last_sign_in_from_what_ended_in_a_session(new_url):
    """Upgraded, an account's last sign-in is the latest of its open
    sessions and of the events that only a started session follows; a
    password accepted for an account with a second factor is not one (the
    second step may have failed)."""
    url = new_url()
    build_at(url, 13)  # Marie: a confirmed app, a session opened at AT
    later, latest = datetime(2026, 2, 1), datetime(2026, 3, 1)
    frozen_event = v003_audit_and_sign_in_throttle.AuditEvent
    with app_on(url).app_context(), db.connection_context():
        marie = v001_accounts.User.get()
        people = {
            name: v001_accounts.User.create(
                email=f"{name}@exemple.fr", first_name=name, last_name="X",
                contact_email=f"{name}@exemple.fr", survey_consent=False, terms_accepted_at=AT,
                status="active", created_at=AT, session_epoch=0,
            ) for name in ("paul", "lucie", "jean", "nadia")
        }  # fmt: skip
        for user, event, outcome, at, details in (
            (marie, "auth.sign_in", "success", later, None),  # her app's code may have failed
            (marie, "second_factor.used", "failure", latest, '{"method": "totp"}'),
            (people["paul"], "auth.sign_in", "success", later, None),  # no second factor
            (people["paul"], "auth.sign_in", "failure", latest, '{"reason": "wrong_password"}'),
            (people["lucie"], "password.reset", "success", AT, None),
            (people["jean"], "auth.sign_in", "success", later, '{"method": "passkey"}'),
        ):
            frozen_event.create(user=user, event=event, outcome=outcome, at=at, details=details)
        v006_sessions_and_manager_notices.UserSession.create(
            key_hash="lucie", user=people["lucie"], created_at=latest
        )
        v010_second_factors.SecondFactor.create(
            user=people["jean"], kind="passkey", name="Clé", created_at=AT, confirmed_at=AT
        )
    init_db(url)
    with app_on(url).app_context(), db.connection_context():
        found = {user.first_name: user.last_signed_in_at for user in User.select()}
    assert found == {"Marie": AT, "paul": later, "lucie": latest, "jean": later, "nadia": None}


def test_step_17_links_earlier_notices_to_the_account_they_name_between_brackets(new_url):
    """Mail written before step 17 names its requester « Name (login) »,
    the domain as people read it or as stored: linked to that account, so the
    erasure finds it without reading bodies. A mail naming its own reader, an
    address no account has, or a person by name only (no one's for sure)
    gets no link."""
    url = new_url()
    build_at(url, 15)  # Marie (id 1) and one mail written for no account
    with app_on(url).app_context(), db.connection_context():
        people = {
            name: v001_accounts.User.create(
                email=email, first_name=name, last_name="Durand", contact_email=email,
                survey_consent=False, terms_accepted_at=AT, status="active", created_at=AT, session_epoch=0,
            ).id for name, email in (
                ("pierre", "pierre_durand@xn--exemple-t-i4ab.fr"), ("paul", "paul@exemple.fr"),
                ("p", "pxerre_durand@xn--exemple-t-i4ab.fr"),  # « _ » is any character to LIKE
            )
        }  # fmt: skip
        marie = v001_accounts.User.get(v001_accounts.User.email == "marie.curie@exemple.fr").id

        def mail(reader, body):
            return v001_accounts.OutboxMail.create(
                recipient="x@exemple.fr", subject="s", body_text=body, created_at=AT, next_attempt_at=AT
            ).id, reader

        written = {
            "unicode": mail(marie, "Pierre Durand (pierre_durand@exemple-été.fr) demande à être rattaché."),
            "ascii": mail(marie, "Paul Durand (PAUL@exemple.fr) a annulé sa demande."),
            "own": mail(people["paul"], "Bonjour (paul@exemple.fr)."),
            "unknown": mail(marie, "Jean Valjean (jean@exemple.fr) demande…"),
            "by_name": mail(marie, "Pierre Durand vous a transmis le rôle."),
            "structure_first": mail(
                marie, "Paul Durand (paul@exemple.fr) demande Ateliers (pierre_durand@exemple-été.fr)."
            ),
        }
        for mail_id, reader in written.values():
            db.execute_sql(
                f"UPDATE outbox_mail SET account_id = {db.param} WHERE id = {db.param}",  # noqa: S608
                (reader, mail_id),
            )
    init_db(url)
    about = {row["id"]: row["about_id"] for row in rows_of(url)["outbox_mail"]}
    assert {name: about[mail_id] for name, (mail_id, _) in written.items()} == {
        "unicode": people["pierre"],
        "ascii": people["paul"],
        "own": None,
        "unknown": None,
        "by_name": None,
        "structure_first": people["paul"],
    }


def test_step_16_folds_the_names_of_the_rows_already_there(new_url):
    """Upgraded, every account and structure has its folded columns as the
    models would write them, past the first batch of rows, and the console's
    search finds them by their names typed without accents."""
    url = new_url()
    build_at(url, 15)  # Marie Curie, Ateliers Curie in Paris
    count = v016_search_folded.BATCH * 2 + 3
    with app_on(url).app_context(), db.connection_context():
        user = v002_structures.User.get()
        for n in range(count):
            v001_accounts.User.create(
                email=f"eric{n}@exemple.fr", first_name="Éric", last_name=f"Lefèvre{n:03d}",
                contact_email=f"eric{n}@exemple.fr", survey_consent=False, terms_accepted_at=AT,
                status="active", created_at=AT, session_epoch=0,
            )  # fmt: skip
            v002_structures.Structure.create(
                identifier_type="siret", identifier=f"{n:014d}", company_name=f"Études Sœur {n:03d}",
                label=None if n % 2 else "Maison Lætitia", address="1 rue", city="Besançon",
                postal_code="25000", country="FR", created_by=user, created_at=AT, updated_at=AT,
            )  # fmt: skip
    init_db(url)
    with app_on(url).app_context(), db.connection_context():
        users = list(User.select().order_by(User.id))
        assert len(users) == count + 1
        for row in users:
            first, last = row.first_name, row.last_name
            assert row.folded_name == fold(f"{first} {last}\n{last} {first}")
        assert users[-1].folded_name == f"eric lefevre{count - 1:03d}\nlefevre{count - 1:03d} eric"
        structures = list(Structure.select().order_by(Structure.id))
        assert len(structures) == count + 1
        for row in structures:
            assert row.folded_name == fold(row.company_name)
            assert row.folded_place == fold(f"{row.label or ''}\n{row.city}")
        assert structures[-1].folded_place == "maison laetitia\nbesancon"
        assert len(operations.search_accounts("marie curie")) == 1
        assert len(operations.search_accounts(f"LEFEVRE{count - 1:03d} eric")) == 1
        assert len(operations.search_structures("etudes soeur", limit=1000)) == count
        assert len(operations.search_structures("laetitia", limit=1000)) == count // 2 + 1


def test_step_19_copies_what_each_earlier_event_is_about_into_its_indexed_columns(new_url):
    """Upgraded, each event has the account its details name (requester,
    successor, target) and the structure they name, past the first batch of
    rows; an event naming neither, or with details that are not an object,
    has none. The console and « Mes données » then find them by the columns."""
    url = new_url()
    build_at(url, 18)  # Marie, Ateliers Curie (id 1), one sign-in without details
    count = v019_audit_subjects.BATCH + 7
    with app_on(url).app_context(), db.connection_context():
        event = v003_audit_and_sign_in_throttle.AuditEvent

        def record(name, details):
            return event.create(at=AT, event=name, outcome="ok", details=details).id

        decided = [
            record("structure.membership_decided", f'{{"requester": "req{n}@exemple.fr", "structure": 1}}')
            for n in range(count)
        ]
        written = {
            "handed_over": record("structure.role_handed_over", '{"structure": 1, "to": "marie.curie@exemple.fr"}'),  # noqa: E501
            "target": record("admin.account_disabled", '{"target": "marie.curie@exemple.fr"}'),
            "structure_only": record("structure.created", '{"structure": 12}'),
            "neither": record("account.profile_updated", '{"fields": ["phone"]}'),
            "a_list": record("account.profile_updated", '["structure", 1]'),
            "not_json": record("account.profile_updated", "{oops"),
            "a_flag": record("account.profile_updated", '{"structure": true}'),
        }  # fmt: skip
    init_db(url)
    columns = {row["id"]: (row["about_account"], row["structure_id"]) for row in rows_of(url)["audit_event"]}
    assert [columns[event_id] for event_id in decided] == [(f"req{n}@exemple.fr", 1) for n in range(count)]
    assert {name: columns[event_id] for name, event_id in written.items()} == {
        "handed_over": ("marie.curie@exemple.fr", 1),
        "target": ("marie.curie@exemple.fr", None),
        "structure_only": (None, 12),
        "neither": (None, None),
        "a_list": (None, None),
        "not_json": (None, None),
        "a_flag": (None, None),
    }
    with app_on(url).app_context(), db.connection_context():
        marie = User.get(User.email == "marie.curie@exemple.fr")
        about_marie = {e.id for e in operations.events_about(marie, limit=1000)}
        assert {written["handed_over"], written["target"]} <= about_marie
        trail = {e.id for e in operations.audit_trail(structure=1, limit=1000)}
        assert trail == {*decided, written["handed_over"]}
        assert {e.id for e in operations.audit_trail(structure=12)} == {written["structure_only"]}
