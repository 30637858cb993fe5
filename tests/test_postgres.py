"""The app on a real PostgreSQL server: schema, upgrades, the account path,
structures, and the races the database decides (« grow to PostgreSQL and
several workers »).

One throwaway server per test session (per xdist worker), a fresh database
per test."""

from __future__ import annotations

import pytest
from peewee import IntegrityError

import audit
import migrations
from app import create_app
from models import AuditEvent, Membership, Structure, Token, User, db
from tests.support.app import clean_environment, make_app, old_account, query, user_row
from tests.support.concurrency import at_once, post_at_once
from tests.support.constants import EMAIL, PASSWORD
from tests.support.responses import error_of, text_of
from tests.support.signup import PERSON
from tests.support.structures import PIERRE, SIRET_NORMALISED, STRUCTURE, create_structure, new_client


def init_db(app) -> str:
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    return result.output


# -- schema ------------------------------------------------------------------------------


def test_init_db_creates_the_schema_on_a_new_database_and_is_idempotent(postgres, tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    name = postgres.create_database()
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": postgres.url(name)})

    first = init_db(app)
    second = init_db(app)

    assert f"schema version 0 -> {migrations.SCHEMA_VERSION}" in first
    assert f"Database up to date (schema version {migrations.SCHEMA_VERSION})" in second
    connection = postgres.connect(name)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version FROM schema_version")
            assert cursor.fetchall() == [(migrations.SCHEMA_VERSION,)]
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'membership_one_manager'")
            (definition,) = cursor.fetchone()
    finally:
        connection.close()
    # The partial unique index, with its condition, as on SQLite.
    assert "UNIQUE" in definition and "gestionnaire_principal" in definition and "WHERE" in definition


def test_init_db_on_a_migrated_database_changes_nothing(pg_app):
    assert "Database up to date" in init_db(pg_app)
    assert "Database up to date" in init_db(pg_app)


@pytest.mark.parametrize("older", [1, 2])
def test_an_older_database_upgrades_and_keeps_its_rows(tmp_path, monkeypatch, database_url, older):
    clean_environment(monkeypatch)
    pg_app = make_app(tmp_path, DATABASE_URL=database_url, at_version=older)
    old_account(pg_app, EMAIL)

    output = init_db(pg_app)

    assert f"{older} -> {migrations.SCHEMA_VERSION}" in output
    assert "Database up to date" in init_db(pg_app)
    with pg_app.app_context(), db.connection_context():
        marie = User.get()
        assert (marie.email, marie.failed_sign_ins, marie.last_failed_sign_in_at) == (EMAIL, 0, None)
        assert Token.select().count() == 1
        audit.record("auth.sign_in", marie)
        assert AuditEvent.select().count() == 1
        # The structures work after the upgrade, their one-manager index too.
        structure = Structure.register(marie, "siret", SIRET_NORMALISED, **_details())
        assert structure.manager() == marie


def _details() -> dict:
    return {
        "company_name": "Ateliers Curie",
        "address": "1 rue",
        "city": "Paris",
        "postal_code": "75002",
        "country": "FR",
    }


@pytest.mark.parametrize("older", [0, 1])
def test_workers_running_init_db_at_once_migrate_once(postgres, tmp_path, monkeypatch, older):
    """Each worker may run init-db as it starts: one migrates, the others
    wait for it and find the schema up to date."""
    clean_environment(monkeypatch)
    url = postgres.url(postgres.create_database())
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url})
    if older:
        with app.app_context(), db.connection_context():
            migrations.migrate(older)

    def migrate():
        with app.app_context(), db.connection_context():
            return migrations.migrate()

    results = at_once([migrate] * 3)

    latest = migrations.SCHEMA_VERSION
    assert sorted(results) == sorted([(older, latest), (latest, latest), (latest, latest)])
    assert "Database up to date" in init_db(app)
    with app.app_context(), db.connection_context():
        assert [row.version for row in migrations.SchemaVersion.select()] == [latest]


# -- the account path --------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+pool"])
def test_sign_up_activation_and_sign_in(pg_app, pg_client, pg_signup, pg_mailbox):
    assert pg_signup.personal_info().status_code == 303
    response = pg_signup.captcha()
    assert response.status_code == 303, text_of(response)
    with pg_app.app_context(), db.connection_context():
        pending = User.get()
        assert pending.status == User.PENDING and pending.survey_consent is False
        assert pending.created_at.tzinfo is None  # naive UTC, as on SQLite

    activated = pg_signup.activate()
    assert activated.status_code == 303, text_of(activated)
    pg_client.submit("/deconnexion")
    assert pg_client.get(pg_signup.activation_path()).status_code == 410  # single use
    activated_at = query(pg_app, lambda: User.get().last_signed_in_at)
    assert activated_at is not None and activated_at.tzinfo is None  # the activation signed in

    wrong = pg_client.submit("/connexion", {"email": EMAIL, "password": "Pas-le-bon-1234"})
    assert wrong.status_code == 422
    assert query(pg_app, lambda: User.get().last_signed_in_at) == activated_at
    signed_in = pg_client.submit("/connexion", {"email": "Marie.Curie@Exemple.fr", "password": PASSWORD})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/structure/"
    assert "Se déconnecter" in text_of(pg_client.get("/structure/"))
    with pg_app.app_context(), db.connection_context():
        marie = User.get()
        assert marie.status == User.ACTIVE and marie.activated_at is not None
        assert marie.failed_sign_ins == 0  # cleared by the good password
        assert marie.last_signed_in_at > activated_at
        events = [e.event for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert events[:2] == ["account.created", "account.activated"]
    assert events.count("auth.sign_in") == 2


def test_signing_up_again_with_the_address_mails_its_owner(pg_app, pg_signup, pg_mailbox):
    pg_signup.create_account()
    pg_signup.activate()
    pg_signup.client.submit("/deconnexion")
    again = pg_signup.create_account()
    assert again.status_code == 303  # the same answer: no account is revealed
    assert [m.subject for m in pg_mailbox(EMAIL)] == ["Activez votre compte", "Votre compte existe déjà"]
    assert query(pg_app, User.select().count) == 1


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+pool"])
def test_the_same_activation_link_submitted_twice_at_once_activates_once(pg_app, pg_signup):
    pg_signup.create_account()
    link = pg_signup.activation_path()
    clients = [pg_app.test_client() for _ in range(2)]
    forms = [
        {"password": PASSWORD, "password_confirm": PASSWORD, "csrf_token": c.csrf_token()} for c in clients
    ]

    statuses = [r.status_code for r in post_at_once(link, clients, forms)]

    assert sorted(statuses) == [303, 410]
    with pg_app.app_context(), db.connection_context():
        assert Token.select().where(Token.used_at.is_null(False)).count() == 1
        assert User.get().session_epoch == 1  # activated once
        assert AuditEvent.select().where(AuditEvent.event == "account.activated").count() == 1


# -- structures --------------------------------------------------------------------------


def test_a_structure_is_created_once_and_the_duplicate_refused(pg_app, pg_mailbox):
    pierre = new_client(pg_app, pg_mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    marie = new_client(pg_app, pg_mailbox, PERSON)

    response = create_structure(marie, identifier=SIRET_NORMALISED, company_name="Autre nom")

    assert response.status_code == 422
    assert "Cette structure existe déjà" in error_of(response, "identifier")
    assert 'value="Autre nom"' in text_of(response)  # nothing typed is lost
    # The refused INSERT left the connection usable: the next requests work.
    assert marie.get("/structure/").status_code == 200
    with pg_app.app_context(), db.connection_context():
        assert Structure.select().count() == 1 and Membership.select().count() == 1
        assert [s.identifier for s in Structure.select()] == [SIRET_NORMALISED]
        assert Structure.get().non_diffusible is False


def test_creations_at_once_stay_within_the_daily_cap_attack_squatting_race(pg_app):
    """Six creations by one account released together, three allowed a day:
    the creator's row is locked, so exactly three structures are made."""
    import structures

    with pg_app.app_context(), db.connection_context():
        creator = user_row(EMAIL, status=User.ACTIVE)

    def create(number: int):
        with pg_app.test_request_context(), db.connection_context():
            try:
                data = {"identifier_type": "siret", "identifier": f"7328293200{number:04d}", **_details()}
                return structures.create(creator, data).id
            except structures.TooManyCreated:
                return None

    results = at_once([lambda n=n: create(n) for n in range(6)])

    assert sum(result is not None for result in results) == 3
    with pg_app.app_context(), db.connection_context():
        assert Structure.select().count() == 3


def test_two_creations_of_one_structure_at_once_make_one(pg_app, pg_mailbox):
    clients = [new_client(pg_app, pg_mailbox, person) for person in (PERSON, PIERRE)]
    forms = [{**STRUCTURE, "csrf_token": c.csrf_token()} for c in clients]

    responses = post_at_once("/structure/nouvelle", clients, forms)

    assert sorted(r.status_code for r in responses) == [303, 422]
    loser = next(r for r in responses if r.status_code == 422)
    assert "Cette structure existe déjà" in text_of(loser)
    with pg_app.app_context(), db.connection_context():
        assert Structure.select().count() == 1 and Membership.select().count() == 1


def test_asking_twice_to_be_attached_makes_one_request(pg_app, pg_mailbox):
    pierre = new_client(pg_app, pg_mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303
    marie = new_client(pg_app, pg_mailbox, PERSON)
    form = {"identifier_type": "siret", "identifier": SIRET_NORMALISED}

    first = marie.submit("/structure/rattachement/demande", form)
    second = marie.submit("/structure/rattachement/demande", form)

    # The second INSERT is refused by the unique index inside the use case's
    # transaction (a savepoint): the transaction goes on and answers.
    assert first.status_code == 303, text_of(first)
    assert second.status_code == 303, text_of(second)
    assert "est en attente" in text_of(marie.get(second.headers["Location"]))
    with pg_app.app_context(), db.connection_context():
        statuses = [(m.role, m.status) for m in Membership.select().order_by(Membership.id)]
    assert statuses == [
        (Membership.MANAGER, Membership.ACTIVE),
        (Membership.USER, Membership.PENDING),
    ]
    requests = [m for m in pg_mailbox() if m.subject == "Nouvelle demande de rattachement"]
    assert len(requests) == 1
    assert "Une demande de rattachement en attente de votre décision." in text_of(pierre.get("/espace/"))


def test_one_manager_per_structure_is_enforced_and_handing_over_works(pg_app):
    with pg_app.app_context(), db.connection_context():
        marie, pierre = (user_row(email) for email in (EMAIL, "pierre.durand@exemple.fr"))
        structure = Structure.register(marie, "siret", SIRET_NORMALISED, **_details())
        with pytest.raises(IntegrityError), db.atomic():
            Membership.create(
                user=pierre, structure=structure, role=Membership.MANAGER, status=Membership.ACTIVE
            )
        # The failed INSERT did not poison the connection.
        member = Membership.create(
            user=pierre, structure=structure, role=Membership.USER, status=Membership.ACTIVE
        )

        assert structure.hand_over(marie, member.id) is not None

        assert structure.manager() == pierre
        roles = {m.user_id: m.role for m in Membership.select()}
        assert roles == {marie.id: Membership.USER, pierre.id: Membership.MANAGER}
