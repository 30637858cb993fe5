"""Resending the activation mail, and the clean-up of what is never used."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models import AuditEvent, CaptchaChallenge, OutboxMail, Token, User, db, utcnow
from tests.support.app import recorded_statements, user_row
from tests.support.constants import EMAIL
from tests.support.responses import error_of, text_of
from tests.support.signup import PERSON

# CSRF tokens carry a timestamp: they differ from one second to the next.
CSRF = re.compile(r'csrf_token"[^>]*?value="[^"]+|"X-CSRFToken": "[^"]+')


def activation_links(mailbox, email=EMAIL) -> list[str]:
    return [
        re.search(r"/activation/\S+", m.body_text).group(0)
        for m in mailbox(email)
        if m.subject == "Activez votre compte"
    ]


# -- resend from the mail-sent page ------------------------------------------------


def test_resend_within_the_cooldown_says_when_and_sends_nothing(any_client, signup, mailbox):
    signup.client = any_client
    signup.create_account()
    response = any_client.submit("/inscription/renvoyer")
    text = (
        response.get_data(as_text=True)
        if any_client.htmx
        else any_client.get("/inscription/envoye").get_data(as_text=True)
    )
    assert "Vous pourrez en demander un autre dans" in text
    assert len(activation_links(mailbox)) == 1


def test_another_address_within_the_cooldown_is_kept_in_its_field_not_said_sent_to(
    any_client, signup, mailbox
):
    """A mistyped address corrected at once: the page must not say a mail
    went to the new one while the cooldown sent nothing."""
    signup.client = any_client
    signup.create_account()
    response = any_client.submit("/inscription/renvoyer", {"email": "marie.corrigee@exemple.fr"})
    assert response.status_code == 422
    assert "Vous pourrez en demander un autre dans" in error_of(response, "email")
    assert 'value="marie.corrigee@exemple.fr"' in text_of(response)
    assert "marie.corrigee@exemple.fr" not in text_of(any_client.get("/inscription/envoye"))
    assert len(activation_links(mailbox)) == 1


def test_resend_after_the_cooldown_revokes_the_older_link(app, any_client, signup, mailbox):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    signup.client = any_client
    signup.create_account()
    any_client.submit("/inscription/renvoyer")
    old, new = activation_links(mailbox)
    assert any_client.get(old).status_code == 410
    assert any_client.get(new).status_code == 200


def test_the_mail_sent_page_states_the_cooldown(client, signup):
    signup.create_account()
    text = client.get("/inscription/envoye").get_data(as_text=True)
    assert "60 secondes après le précédent" in text


# -- resend from the expired link's page ------------------------------------------------


def test_the_expired_link_page_leads_to_a_new_link(app, any_client, signup, mailbox):
    signup.create_account()
    [link] = activation_links(mailbox)
    with app.app_context(), db.connection_context():
        Token.update(
            created_at=utcnow() - timedelta(minutes=61), expires_at=utcnow() - timedelta(minutes=1)
        ).execute()
    expired = any_client.get(link)
    assert expired.status_code == 410
    assert 'href="/inscription/renvoyer"' in expired.get_data(as_text=True)
    form = any_client.get("/inscription/renvoyer")
    assert form.status_code == 200
    assert "Recevoir un nouveau lien d'activation" in form.get_data(as_text=True).replace("&#39;", "'")
    response = any_client.submit("/inscription/renvoyer", {"email": "Marie.Curie@Exemple.fr"})
    assert response.status_code in (200, 303)
    old, new = activation_links(mailbox)
    assert any_client.get(new).status_code == 200
    assert any_client.get(old).status_code == 410


def test_enumeration_on_resend_gets_the_same_answer_for_any_address(app, any_client, signup, mailbox):
    signup.create_account(email="actif@exemple.fr", email_confirm="actif@exemple.fr")
    signup.activate(email="actif@exemple.fr")
    signup.create_account()
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    answers = set()
    for email in (EMAIL, "actif@exemple.fr", "personne@exemple.fr"):
        response = any_client.submit("/inscription/renvoyer", {"email": email})
        page = any_client.get("/inscription/envoye").get_data(as_text=True)
        answers.add((response.status_code, CSRF.sub("CSRF", page.replace(email, "ADDRESS"))))
    assert len(answers) == 1
    assert mailbox("personne@exemple.fr") == []


def test_resend_with_a_malformed_address_is_shown_next_to_the_field(any_client):
    response = any_client.submit("/inscription/renvoyer", {"email": "marie"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Il manque le caractère @." in text and 'aria-invalid="true"' in text


# -- purge ------------------------------------------------------------------------


def make_user(email: str, status: str, age_days: int) -> User:
    created = utcnow() - timedelta(days=age_days)
    return user_row(
        email,
        terms_accepted_at=created,
        created_at=created,
        status=status,
        activated_at=created if status == User.ACTIVE else None,
    )


def test_purge_deletes_what_is_never_used_and_keeps_the_rest(app):
    now = utcnow()
    with app.app_context(), db.connection_context():
        old_pending = make_user("vieux@exemple.fr", User.PENDING, 40)
        make_user("recent@exemple.fr", User.PENDING, 5)
        old_active = make_user("actif@exemple.fr", User.ACTIVE, 400)
        for raw, expires, used in (
            ("live", now + timedelta(minutes=5), None),
            ("used", now + timedelta(minutes=5), now),
            ("expired", now - timedelta(minutes=1), None),
        ):
            Token.create(
                user=old_active, purpose=Token.RESET, token_hash=raw, expires_at=expires, used_at=used
            )
        Token.create(user=old_pending, purpose=Token.ACTIVATION, token_hash="orphan", expires_at=now)
        CaptchaChallenge.create(id="live", expires_at=now + timedelta(minutes=5))
        CaptchaChallenge.create(id="spent", expires_at=now + timedelta(minutes=5), used_at=now)
        CaptchaChallenge.create(id="old", expires_at=now - timedelta(minutes=1))
        AuditEvent.create(
            event="auth.sign_in", outcome="success", user=old_pending, account="vieux@exemple.fr"
        )
        AuditEvent.create(event="auth.sign_in", outcome="success", at=now - timedelta(days=400))

    result = app.test_cli_runner().invoke(args=["purge", "--days", "30"])

    assert result.exit_code == 0, result.output
    assert "Deleted 1 pending account(s) older than 30 days" in result.output
    with app.app_context(), db.connection_context():
        assert sorted(u.email for u in User.select()) == ["actif@exemple.fr", "recent@exemple.fr"]
        assert [t.token_hash for t in Token.select()] == ["live"]
        assert [c.id for c in CaptchaChallenge.select()] == ["live"]
        kept = AuditEvent.get(AuditEvent.event == "auth.sign_in")
        # The trail outlives the account, under a pseudonym (as an erased account's).
        assert kept.user is None and kept.account.startswith("supprimé-")
        purged = AuditEvent.get(AuditEvent.event == "account.purged")
        assert '"accounts": 1' in purged.details


def test_purging_an_account_never_activated_forgets_its_address_and_its_mail(app, signup, mailbox):
    """Whoever typed the address, its owner never came: once the account is
    purged, its activation mail (never delivered: it would be tried for ever,
    with a dead link) goes, and its address and client addresses leave the
    trail, as an erased account's do. Another account's keep theirs."""
    signup.create_account()
    with app.app_context(), db.connection_context():
        User.update(created_at=utcnow() - timedelta(days=31)).execute()
        other = make_user("actif@exemple.fr", User.ACTIVE, 40)
        AuditEvent.create(event="auth.sign_in", outcome="success", user=other, account=other.email)
        OutboxMail.create(recipient=other.email, subject="kept", body_text="…", account_id=other.id)
        # An operator's event about the pending account names it.
        AuditEvent.create(
            event="admin.activation_resent", outcome="success", user=other, account=other.email,
            details=f'{{"target": "{EMAIL}"}}', about_account=EMAIL,
        )  # fmt: skip
    assert [m.sent_at for m in mailbox(EMAIL)] == [None]

    result = app.test_cli_runner().invoke(args=["purge"])

    assert result.exit_code == 0, result.output
    with app.app_context(), db.connection_context():
        assert [m.subject for m in OutboxMail.select()] == ["kept"]
        events = list(AuditEvent.select().where(AuditEvent.event != "account.purged"))
        stored = " ".join(f"{e.account} {e.details} {e.about_account} {e.client_address}" for e in events)
        assert EMAIL not in stored and "127.0.0.1" not in stored
        assert {e.account for e in events} == {"actif@exemple.fr", events[0].account}
        assert events[0].account.startswith("supprimé-")


def test_purge_deletes_mail_sent_long_ago_and_keeps_mail_not_delivered(app):
    """What a sent mail says of people (« Marie Curie asks to be attached »)
    is not kept for ever; mail still to deliver is never lost to a purge."""
    now = utcnow()
    with app.app_context(), db.connection_context():
        for subject, created, sent in (
            ("old, sent", now - timedelta(days=40), now - timedelta(days=40)),
            ("recent, sent", now - timedelta(days=5), now - timedelta(days=5)),
            ("old, never delivered", now - timedelta(days=40), None),
        ):
            OutboxMail.create(
                recipient="a@exemple.fr", subject=subject, body_text="…", created_at=created, sent_at=sent
            )

    result = app.test_cli_runner().invoke(args=["purge"])

    assert "1 mail(s) sent or given up more than 30 days ago" in result.output, result.output
    with app.app_context(), db.connection_context():
        assert sorted(m.subject for m in OutboxMail.select()) == ["old, never delivered", "recent, sent"]
    app.test_cli_runner().invoke(args=["purge", "--outbox-days", "1"])
    with app.app_context(), db.connection_context():
        assert [m.subject for m in OutboxMail.select()] == ["old, never delivered"]


@pytest.mark.parametrize("days", [7, 60])
def test_purge_age_comes_from_the_configuration(tmp_path, monkeypatch, days):
    from tests.support.app import clean_environment, make_app

    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_PURGE_PENDING_AFTER_DAYS", str(days))
    app = make_app(tmp_path)
    with app.app_context(), db.connection_context():
        make_user("a@exemple.fr", User.PENDING, 10)
    app.test_cli_runner().invoke(args=["purge"])
    with app.app_context(), db.connection_context():
        assert User.select().count() == (1 if days == 60 else 0)


def test_a_purged_signup_can_sign_up_again(app, client, signup, mailbox):
    signup.create_account()
    with app.app_context(), db.connection_context():
        User.update(created_at=utcnow() - timedelta(days=31)).execute()
    app.test_cli_runner().invoke(args=["purge"])
    with client.session_transaction() as session:
        session.clear()
    signup.create_account(**{k: v for k, v in PERSON.items() if k != "terms"}, terms="y")
    assert client.get(signup.activation_path()).status_code == 200


def test_attack_bot_signups_a_wave_never_activated_is_purged_in_one_pass_over_the_trail_and_outbox(
    app, monkeypatch
):
    """Bots sign up by the thousand with addresses nobody activates: the
    purge forgets them all in one reading of the trail's details and one
    deletion in the outbox, not one full scan each (which would hold the
    database's write lock for minutes)."""
    with app.app_context(), db.connection_context():
        for number in range(5):
            bot = make_user(f"robot{number}@exemple.fr", User.PENDING, 40)
            OutboxMail.create(recipient=bot.email, subject="Activez", body_text="…", account_id=bot.id)
    statements = recorded_statements(monkeypatch)
    result = app.test_cli_runner().invoke(args=["purge"])

    assert "Deleted 5 pending account(s)" in result.output, result.output
    # One for the mail of the accounts (by account id), one for the mail sent long ago.
    assert len([s for s in statements if s.startswith("DELETE") and '"outbox_mail"' in s]) == 2
    assert len([s for s in statements if s.startswith("SELECT") and 'FROM "audit_event"' in s]) == 1
    with app.app_context(), db.connection_context():
        assert OutboxMail.select().count() == 0


def test_attack_bot_signups_more_than_one_statement_may_name_are_purged(app):
    """The purge deleted the accounts it forgets by their ids in one
    statement: past SQLite's limit on a statement's values (32,766; 999 in
    builds before 3.32) a wave of bot sign-ups never activated made every
    daily purge fail, and the accounts pile up. They go in batches; here the
    limit is lowered to 999 so that a thousand accounts reach it."""
    import sqlite3

    import accounts

    created = utcnow() - timedelta(days=40)
    with app.app_context(), db.connection_context():
        at = {"terms_accepted_at": created, "created_at": created, "first_name": "R", "last_name": "B"}
        rows = [{"email": f"robot{n}@exemple.fr", "contact_email": f"r{n}@x.fr", **at} for n in range(1200)]
        for start in range(0, len(rows), 100):
            User.insert_many(rows[start : start + 100]).execute()
        db.connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        try:
            counts = accounts.purge(30)
        finally:
            db.connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32766)
        assert counts["accounts"] == 1200
        assert User.select().count() == 0
