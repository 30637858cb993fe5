"""Prepared statements (statements.py): the SQL Peewee builds, built once per
kind of database, run with each call's values converted by their fields, the
rows read back as Peewee reads them; on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from peewee import SQL

import statements
from models import ConsentChange, Draft, Membership, OutboxMail, Structure, Token, User, db, sha256, utcnow
from statements import Prepared, slot
from tests.support.app import clean_environment, make_app, query, user_fields, user_row

PEEK = Prepared(
    lambda: (
        Token.select(Token, User)
        .join(User)
        .where(
            (Token.token_hash == slot("hash"))
            & (Token.purpose == slot("purpose"))
            & Token.used_at.is_null()
            & (Token.expires_at > slot("now", Token.expires_at))
        )
        .limit(1)
    )
)


def peek_with_the_orm(raw: str, purpose: str, now):
    return (
        Token.select(Token, User)
        .join(User)
        .where(
            (Token.token_hash == sha256(raw))
            & (Token.purpose == purpose)
            & Token.used_at.is_null()
            & (Token.expires_at > now)
        )
        .limit(1)
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    """The app on a SQLite file, then on the PostgreSQL server of the tests."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def a_link(app, expires_in=timedelta(hours=1)) -> str:
    def make():
        user = user_row()
        Token.create(
            user=user, purpose=Token.ACTIVATION, token_hash=sha256("lien"), expires_at=utcnow() + expires_in
        )
        return user.id

    return query(app, make)


def test_a_prepared_select_runs_the_sql_peewee_builds_and_reads_the_joined_model(any_app):
    user_id = a_link(any_app)

    def check():
        now = utcnow()
        sql, params = peek_with_the_orm("lien", Token.ACTIVATION, now).sql()
        prepared_sql = PEEK._statement()[1]
        assert prepared_sql == sql
        token = PEEK.first(hash=sha256("lien"), purpose=Token.ACTIVATION, now=now)
        assert token is not None and token.user.id == user_id and token.user.email == "marie.curie@exemple.fr"
        # The value of each call, converted by its field (a date here), is what decides.
        assert PEEK.first(hash=sha256("lien"), purpose=Token.ACTIVATION, now=now + timedelta(hours=2)) is None
        assert PEEK.first(hash=sha256("autre"), purpose=Token.ACTIVATION, now=now) is None
        assert PEEK.rows(hash=sha256("lien"), purpose=Token.RESET, now=now) == []

    query(any_app, check)


def test_a_prepared_write_says_how_many_rows_it_changed_and_binds_a_row_for_a_foreign_key(any_app):
    keep = Prepared(
        lambda: Draft.insert(
            {
                Draft.key: slot("key"),
                Draft.user: slot("user", Draft.user),
                Draft.data: slot("data"),
                Draft.expires_at: slot("until", Draft.expires_at),
                Draft.saved_at: slot("now", Draft.saved_at),
            }
        )
    )
    drop = Prepared(lambda: Draft.delete().where(Draft.key == slot("key")))

    def check():
        user = user_row()
        later = utcnow() + timedelta(days=1)
        assert keep.execute(key="k1", user=user, data='{"a": 1}', until=later, now=utcnow()) == 1
        stored = Draft.get_by_id("k1")
        assert stored.user_id == user.id and stored.data == '{"a": 1}'
        assert drop.execute(key="nothing") == 0
        assert drop.execute(key="k1") == 1

    query(any_app, check)


def test_sqlite_and_postgresql_each_get_their_own_sql(tmp_path, monkeypatch, request):
    """One process may serve one, then the other (the tests do): the SQL is kept
    per kind of database, each with its own quoting and parameters."""
    now = utcnow()
    peek = Prepared(PEEK.build)  # its own: other tests of this process used PEEK

    def found(app) -> bool:
        a_link(app)
        token = query(app, lambda: peek.first(hash=sha256("lien"), purpose=Token.ACTIVATION, now=now))
        return token is not None

    clean_environment(monkeypatch)
    assert found(make_app(tmp_path / "first"))
    assert found(request.getfixturevalue("pg_app"))
    assert found(make_app(tmp_path / "again"))
    assert len(peek._built) == 2
    sqlite_sql, postgres_sql = (sql for _query, sql, _params in peek._built.values())
    assert "?" in sqlite_sql and "%s" not in sqlite_sql and "%s" in postgres_sql


def test_the_sql_is_built_once_per_kind_of_database(app, monkeypatch):
    builds = []
    counted = Prepared(lambda: builds.append(1) or User.select().where(User.id == slot("id")).limit(1))

    def run():
        for _ in range(5):
            counted.first(id=1)

    query(app, run)
    assert len(builds) == 1


def what_peewee_reads(rows) -> list:
    """Each row's values, and those of the model joined to it (or None)."""
    return [
        (dict(row.__data__), dict(row.link.__data__) if getattr(row, "link", None) is not None else None)
        for row in rows
    ]


def test_the_rows_are_mapped_once_per_statement_and_read_as_peewee_reads_them(any_app, monkeypatch):
    """Peewee works out which column goes to which field and model once per
    statement (statements.py): first with no row at all, then with rows, a
    model joined or missing (LEFT OUTER: NULLs), the rows are those Peewee
    reads itself, each time."""
    from peewee import JOIN, ModelCursorWrapper

    def orm(user_id):
        return (
            User.select(User, Token)
            .join(Token, JOIN.LEFT_OUTER, on=(Token.user == User.id), attr="link")
            .where(User.id == user_id)
        )

    outer = Prepared(
        lambda: (
            User.select(User, Token)
            .join(Token, JOIN.LEFT_OUTER, on=(Token.user == User.id), attr="link")
            .where(User.id == slot("id"))
        )
    )
    worked_out = []
    initialize = ModelCursorWrapper.initialize
    monkeypatch.setattr(
        ModelCursorWrapper, "initialize", lambda wrapper: worked_out.append(1) or initialize(wrapper)
    )

    def check():
        assert outer.rows(id=10**6) == [] and len(worked_out) == 1
        with_link = a_link_here()
        without = user_row("lucie.martin@exemple.fr", first_name="Lucie").id
        for _ in range(3):
            for user_id in (with_link, without, 10**6):
                expected = what_peewee_reads(orm(user_id))
                before = len(worked_out)
                assert what_peewee_reads(outer.rows(id=user_id)) == expected
                assert len(worked_out) == before  # the prepared one: never again
        assert what_peewee_reads(outer.rows(id=with_link))[0][1]["token_hash"] == sha256("lien")
        assert what_peewee_reads(outer.rows(id=without)) == [(what_peewee_reads(orm(without))[0][0], None)]

    def a_link_here() -> int:
        user = user_row()
        Token.create(
            user=user,
            purpose=Token.ACTIVATION,
            token_hash=sha256("lien"),
            expires_at=utcnow() + timedelta(hours=1),
        )
        return user.id

    query(any_app, check)


def test_a_mapping_is_never_given_to_another_kind_of_database(tmp_path, monkeypatch, request):
    """SQLite then PostgreSQL then SQLite in one process: each kind's query
    reads its rows with the mapping worked out on its own."""
    peek = Prepared(PEEK.build)
    now = utcnow()

    def user_of_link(app):
        a_link(app)
        token = query(app, lambda: peek.first(hash=sha256("lien"), purpose=Token.ACTIVATION, now=now))
        return token.user.email

    clean_environment(monkeypatch)
    assert user_of_link(make_app(tmp_path / "first")) == "marie.curie@exemple.fr"
    assert user_of_link(request.getfixturevalue("pg_app")) == "marie.curie@exemple.fr"
    assert user_of_link(make_app(tmp_path / "again")) == "marie.curie@exemple.fr"
    assert sorted(peek._mappings) == sorted(id(built[0]) for built in peek._built.values())


def test_a_missing_value_is_an_error_not_a_null(app):
    def run():
        with pytest.raises(KeyError, match="purpose"):
            PEEK.first(hash=sha256("lien"), now=utcnow())

    query(app, run)


def test_prepared_statements_run_inside_the_callers_transaction(app):
    keep = Prepared(
        lambda: Draft.insert(
            {
                Draft.key: slot("key"),
                Draft.expires_at: slot("until", Draft.expires_at),
                Draft.saved_at: slot("until", Draft.saved_at),
            }
        )
    )

    class Undone(Exception):
        pass

    def run():
        with pytest.raises(Undone), db.atomic():
            keep.execute(key="k2", until=utcnow())
            raise Undone
        assert Draft.get_or_none(Draft.key == "k2") is None

    query(app, run)


def test_values_are_bound_never_written_into_the_sql_attack_sql_injection(any_app):
    """What a visitor sends (a session key, a draft id) reaches a prepared
    statement as a bound value: quotes and SQL in it are only text."""
    a_link(any_app)
    drop = Prepared(lambda: Draft.delete().where(Draft.key == slot("key")))

    def attack():
        now = utcnow()
        for hostile in ("x' OR '1'='1", 'x"; DELETE FROM token; --', "' UNION SELECT * FROM user --"):
            assert PEEK.first(hash=hostile, purpose=Token.ACTIVATION, now=now) is None
            assert PEEK.first(hash=sha256("lien"), purpose=hostile, now=now) is None
            assert drop.execute(key=hostile) == 0
        # The link is still there and still usable.
        assert PEEK.first(hash=sha256("lien"), purpose=Token.ACTIVATION, now=now) is not None
        assert Token.select().count() == 1

    query(any_app, attack)


def test_an_insert_that_leaves_a_timestamp_to_its_default_is_refused(app):
    # Peewee would call utcnow once, when the SQL is built: every token after
    # the first would be "created" at that first moment.
    forgetful = Prepared(
        lambda: Token.insert(
            {
                Token.user: slot("user_id"),
                Token.purpose: slot("purpose"),
                Token.token_hash: slot("hash"),
                Token.expires_at: slot("expires_at", Token.expires_at),
            }
        )
    )
    user_id = query(app, lambda: user_row().id)
    values = {"user_id": user_id, "purpose": Token.ACTIVATION, "hash": sha256("x"), "expires_at": utcnow()}
    with pytest.raises(TypeError, match="created_at"):
        query(app, lambda: forgetful.execute(**values))
    assert query(app, lambda: Token.select().count()) == 0


def test_the_sign_ups_prepared_lookups_read_what_they_read_before(any_app):
    """The queries step 6 and a sign-in run, prepared (models.py): a
    structure by its type and identifier, the structures an account created
    since a moment, the directory's latest load, a sign-in recorded."""
    from models import SireneImport, Structure

    def check():
        marie, lucie = user_row(), user_row("lucie.martin@exemple.fr", first_name="Lucie")
        now = utcnow()

        def structure(identifier: str, creator: User, created_at, identifier_type: str = "siret"):
            return Structure.create(
                identifier_type=identifier_type, identifier=identifier, company_name="Curie", address="1 rue",
                city="Paris", postal_code="75001",
                country="FR", created_by=creator, created_at=created_at,
            )  # fmt: skip

        old = structure("73282932000074", marie, now - timedelta(days=2))
        recent = structure("73282932000009", marie, now - timedelta(hours=1))
        structure("73282932000017", lucie, now - timedelta(minutes=5))
        structure("73282932000074", lucie, now, identifier_type="tva")
        assert Structure.find("siret", "73282932000074").id == old.id
        assert Structure.find("siret", "73282932000009").id == recent.id
        assert Structure.find("rna", "73282932000074") is None
        assert Structure.find("siret", "73282932000025") is None
        assert Structure.created_since(marie, now - timedelta(days=1)) == 1
        assert Structure.created_since(marie, now - timedelta(days=3)) == 2
        assert Structure.created_since(lucie, now - timedelta(days=1)) == 2
        assert Structure.created_since(lucie, now + timedelta(seconds=1)) == 0

        assert SireneImport.latest("establishments") is None
        finished = now - timedelta(days=1)
        load = {"files": "[]", "rows": 1, "started_at": finished - timedelta(minutes=1)}
        SireneImport.create(kind="establishments", finished_at=finished - timedelta(days=30), **load)
        first_today = SireneImport.create(kind="establishments", finished_at=finished, **load)
        SireneImport.create(kind="legal_units", finished_at=now, **load)
        assert SireneImport.latest("establishments").id == first_today.id
        second_today = SireneImport.create(kind="establishments", finished_at=finished, **load)
        assert SireneImport.latest("establishments").id == second_today.id  # a tie: the last written

        marie.record_sign_in()
        stored = User.get_by_id(marie.id).last_signed_in_at
        assert stored == marie.last_signed_in_at and User.get_by_id(lucie.id).last_signed_in_at is None

    query(any_app, check)


def made_by_peewee(model, **values):
    return model.create(**values)


def test_create_writes_the_row_and_gives_the_instance_model_create_gives(any_app):
    """statements.create (the sign-up's INSERTs: the account, its mail, the
    structure and its membership) stores what Model.create stores, defaults
    and foreign keys included, and gives back a saved instance numbered by
    the database, on SQLite and PostgreSQL."""
    own = {"id", "email", "identifier", "recipient", "account_id"}  # each sign-up's own
    own |= {"user", "structure", "created_by", "decided_by"}  # its links to its rows

    def stored(instance) -> dict:
        model = type(instance)
        row = model.select().where(model._meta.primary_key == instance.id).dicts().get()
        # What each sign-up has of its own (its number, address, links), and the
        # times the defaults took as the instance was made.
        return {name: value for name, value in row.items() if name not in own and not name.endswith("_at")}

    def held(instance) -> dict:
        return {
            name: value
            for name, value in instance.__data__.items()
            if name not in own and not name.endswith("_at")
        }

    def sign_up(make, n: int) -> list:
        now = utcnow()
        user = make(User, **user_fields(f"p{n}@exemple.fr", contact_email="marie@exemple.fr", language="en"))
        mail = make(
            OutboxMail,
            recipient=user.email,
            subject="Activez",
            language="fr",
            body_text="texte",
            body_html=None,
            account_id=user.id,
            about_id=None,
        )
        structure = make(
            Structure,
            identifier_type="siret",
            identifier=str(n) * 14,
            company_name="Ateliers",
            address="12 rue de la Paix",
            city="Paris",
            postal_code="75002",
            country="FR",
            created_by=user,
            created_at=now,
            updated_at=now,
            status="active",
        )
        membership = make(
            Membership,
            user=user,
            structure=structure,
            role=Membership.MANAGER,
            status=Membership.ACTIVE,
            requested_at=now,
            decided_at=now,
            decided_by=user,
        )
        return [user, mail, structure, membership]

    def run():
        before = sign_up(made_by_peewee, 1)
        after = sign_up(statements.create, 2)
        for theirs, ours in zip(before, after, strict=True):
            assert isinstance(ours.id, int) and ours.id != theirs.id
            assert not ours.is_dirty()
            assert stored(ours) == stored(theirs)
            assert held(ours) == held(theirs)  # the instance holds what Peewee's would
        user, mail, structure, membership = after
        assert mail.account_id == user.id and structure.created_by_id == user.id
        assert (membership.user_id, membership.structure_id) == (user.id, structure.id)
        assert User.get_by_id(user.id).status == User.PENDING and user.session_epoch == 0  # the defaults

    query(any_app, run)


def test_create_builds_each_insert_once_per_set_of_columns(app, monkeypatch):
    built = []
    monkeypatch.setattr(statements, "_CREATES", {})
    real_build = Prepared._statement

    def counted(self):
        if not self._built:
            built.append(self)
        return real_build(self)

    monkeypatch.setattr(Prepared, "_statement", counted)

    def run():
        for n in range(3):
            user_row(email=f"p{n}@exemple.fr")
            statements.create(ConsentChange, user=User.get(User.email == f"p{n}@exemple.fr"), consent=True)
            statements.create(ConsentChange, consent=False, user=User.get(User.email == f"p{n}@exemple.fr"))
        statements.create(User, **user_fields("q@exemple.fr", phone="+33123456789"))
        return ConsentChange.select().count()

    assert query(app, run) == 6
    # One INSERT for the consents, whatever the order of their values; one for the account.
    assert len(built) == 2


def test_create_binds_its_values_attack_sql_injection(any_app):
    """What a person typed (a name, a company's name) reaches the INSERT as
    a bound value: quotes and SQL are stored as text."""
    hostile = ['x\'); DELETE FROM "user"; --', "Robert'); DROP TABLE structure;--", "' || (SELECT 1) || '"]

    def run():
        for n, text in enumerate(hostile):
            user = statements.create(User, **user_fields(f"h{n}@exemple.fr", first_name=text, last_name=text))
            assert User.get_by_id(user.id).first_name == text
        return User.select().count(), Structure.select().count()

    assert query(any_app, run) == (3, 0)


def test_create_keeps_a_given_number_and_sql_values_as_peewee_does(any_app):
    """A row given its number keeps it, and a value that is SQL is written as
    SQL: statements.create hands both to Peewee's own save."""

    def run():
        user = statements.create(User, **user_fields("n@exemple.fr", id=5000))
        now_in_sql = SQL("CURRENT_TIMESTAMP")
        again = statements.create(User, **user_fields("m@exemple.fr", terms_accepted_at=now_in_sql))
        return user.id, User.get_by_id(5000).email, User.get_by_id(again.id).terms_accepted_at is not None

    assert query(any_app, run) == (5000, "n@exemple.fr", True)


def test_create_past_its_bound_still_creates(app, monkeypatch):
    """Past CREATES_KEPT sets of columns, a create is Peewee's save: the rows
    are written all the same, and no INSERT is kept for them."""
    monkeypatch.setattr(statements, "_CREATES", {})
    monkeypatch.setattr(statements, "CREATES_KEPT", 1)

    def run():
        first = user_row(email="a@exemple.fr")
        statements.create(ConsentChange, user=first, consent=True)  # kept: the first set of columns
        statements.create(User, **user_fields("b@exemple.fr"))  # past the bound
        return ConsentChange.select().count(), User.select().where(User.email == "b@exemple.fr").count()

    assert query(app, run) == (1, 1)
    assert len(statements._CREATES) == 1
