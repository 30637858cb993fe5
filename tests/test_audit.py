"""The audit trail, its `flask audit` command, and the schema upgrade that adds it."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

import audit
import migrations
from models import AuditEvent, Token, User, db, utcnow
from tests.support.app import clean_environment, make_app, old_account, user_row
from tests.support.constants import CAPTCHA_ANSWER, EMAIL, NEW_PASSWORD, PASSWORD
from tests.support.signup import link_in

THIRD_PASSWORD = "Troisieme-Velo-Vert-55"


def events(app, **filters) -> list[AuditEvent]:
    with app.app_context(), db.connection_context():
        return audit.events(**filters)


def test_the_lifecycle_leaves_a_trail_without_any_secret(app, client, signup, mailbox):
    signup.create_account()
    activation_token = signup.activation_path().rsplit("/", 1)[1]
    signup.activate()
    client.submit("/deconnexion")
    client.submit("/connexion", {"email": EMAIL, "password": "Pas-le-bon-1234"})
    client.submit("/connexion", {"email": "personne@exemple.fr", "password": "Pas-le-bon-1234"})
    client.submit("/connexion", {"email": EMAIL, "password": PASSWORD})
    client.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    client.submit("/mon-compte/informations", {"first_name": "Maria", "last_name": "Curie", "phone": ""})
    client.submit("/mon-compte/enquete", {"survey_consent": "y"})
    client.submit("/deconnexion")
    client.submit("/mot-de-passe-oublie/", {"email": EMAIL})
    reset_link = link_in([m for m in mailbox(EMAIL) if m.subject == "Réinitialisez votre mot de passe"][-1])
    client.submit(reset_link, {"password": THIRD_PASSWORD, "password_confirm": THIRD_PASSWORD})

    trail = [(e.event, e.outcome, e.account) for e in events(app)]
    assert trail == [
        ("account.created", "success", EMAIL),
        ("account.activated", "success", EMAIL),
        ("auth.sign_out", "success", EMAIL),
        ("auth.sign_in", "failure", EMAIL),
        ("auth.sign_in", "failure", None),
        ("auth.sign_in", "success", EMAIL),
        ("password.changed", "success", EMAIL),
        ("profile.updated", "success", EMAIL),
        ("survey_consent.changed", "success", EMAIL),
        ("auth.sign_out", "success", EMAIL),
        ("password.reset_requested", "success", EMAIL),
        ("password.reset", "success", EMAIL),
    ]
    every = events(app)
    assert {e.client_address for e in every} == {"127.0.0.1"}
    assert all(e.at <= utcnow() and utcnow() - e.at < timedelta(minutes=1) for e in every)
    assert json.loads(every[7].details) == {"fields": ["first_name", "phone"]}
    secrets = [
        PASSWORD,
        NEW_PASSWORD,
        THIRD_PASSWORD,
        "Pas-le-bon-1234",
        CAPTCHA_ANSWER,
        activation_token,
        reset_link.rsplit("/", 1)[1],
    ]
    with app.app_context(), db.connection_context():
        rows = db.execute_sql("select * from audit_event").fetchall()
    dump = repr(rows)
    for secret in secrets:
        assert secret not in dump
    assert "personne@exemple.fr" not in dump  # what a stranger types is not kept


def test_a_throttled_attempt_is_recorded_as_such(app, client, signup):
    signup.create_account()
    signup.activate()
    client.submit("/deconnexion")
    client.delete_cookie("device")  # a browser the account does not know
    for _ in range(6):
        client.submit("/connexion", {"email": EMAIL, "password": "Pas-le-bon-1234"})
    outcomes = [e.outcome for e in events(app, event="auth.sign_in")]
    assert outcomes == ["failure"] * 5 + ["throttled"]


def test_record_refuses_details_that_could_hold_a_secret(app):
    with app.app_context(), db.connection_context():
        for name in ("password", "new_password", "token", "reset_token", "captcha_answer", "secret"):
            with pytest.raises(ValueError, match="secret"):
                audit.record("test.event", **{name: "x"})
        event = audit.record("test.event", tokens=3, structure="ACME")
        assert json.loads(event.details) == {"structure": "ACME", "tokens": 3}
        assert event.client_address is None  # no request: a command


def test_an_event_is_lost_with_the_change_it_describes(app):
    with app.app_context(), db.connection_context():
        with pytest.raises(RuntimeError), db.atomic():
            audit.record("test.event")
            raise RuntimeError
        assert AuditEvent.select().count() == 0


# -- flask audit ---------------------------------------------------------------------


@pytest.fixture
def recorded(app):
    with app.app_context(), db.connection_context():
        marie = user_row(EMAIL)
        for at, event, user in (
            (datetime(2025, 3, 1, 8, 0), "auth.sign_in", marie),
            (datetime(2025, 3, 2, 23, 59), "password.changed", marie),
            (datetime(2025, 3, 3, 0, 0), "auth.sign_in", None),
        ):
            AuditEvent.create(
                at=at,
                event=event,
                user=user,
                account=user and user.email,
                outcome="success",
                client_address="203.0.113.5",
            )
    return app


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["audit", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def test_audit_lists_events_oldest_first_in_utc(recorded):
    lines = run(recorded)
    assert len(lines) == 3
    assert lines[0].split() == ["2025-03-01T08:00:00Z", EMAIL, "203.0.113.5", "auth.sign_in", "success"]
    assert lines[2].split()[1] == "-"


def test_audit_filters_by_account_and_date(recorded):
    assert len(run(recorded, "--account", "Marie.Curie@Exemple.fr")) == 2
    assert [line.split()[3] for line in run(recorded, "--since", "2025-03-02", "--until", "2025-03-02")] == [
        "password.changed"
    ]
    assert len(run(recorded, "--since", "2025-03-02T12:00")) == 2
    assert len(run(recorded, "--event", "auth.sign_in")) == 2
    assert run(recorded, "--account", "personne@exemple.fr") == ["No event."]


def test_audit_as_json_lines(recorded):
    first = json.loads(run(recorded, "--json", "--limit", "1")[0])
    assert first["at"] == "2025-03-03T00:00:00Z" and first["account"] is None


def test_audit_refuses_a_malformed_date(recorded):
    result = recorded.test_cli_runner().invoke(args=["audit", "--since", "hier"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


# -- upgrade of an existing database -------------------------------------------------------


@pytest.mark.parametrize("older", [1, 2])
def test_an_older_database_upgrades_and_keeps_its_rows(tmp_path, monkeypatch, older):
    """A database made before the audit table and the sign-in throttle gets
    them by init-db, whether it is at version 1 or 2 (structures)."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, at_version=older)
    old_account(app, EMAIL)

    result = app.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert re.search(rf"{older} -> {migrations.SCHEMA_VERSION}", result.output)
    with app.app_context(), db.connection_context():
        marie = User.get()
        assert (marie.email, marie.failed_sign_ins, marie.last_failed_sign_in_at) == (EMAIL, 0, None)
        assert Token.select().count() == 1  # the user table was not rebuilt under its tokens
        audit.record("auth.sign_in", marie)
        assert AuditEvent.select().count() == 1
    client = app.test_client()
    assert client.get("/connexion").status_code == 200


def test_every_event_reads_as_words_on_mes_donnees():
    """A new event without its label would show its code to the person."""
    codes = {value for name, value in vars(audit.Event).items() if name.isupper()}
    assert codes == set(audit.EVENT_LABELS)
