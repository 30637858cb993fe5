"""devices.py, the device-cookie module: its API as the sign-in throttle and
a later « Faire confiance à cet appareil » use it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import jsonify

import devices
from models import User, db
from tests.support.app import clean_environment, make_app, user_row


@pytest.fixture
def site(tmp_path, monkeypatch):
    """An app with one route that runs a devices call for user ``uid``."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, WTF_CSRF_ENABLED=False)
    with app.app_context(), db.connection_context():
        ids = [user_row(f"p{n}@exemple.fr").id for n in range(7)]

    @app.post("/_device/<action>/<int:uid>")
    def _device(action: str, uid: int):
        user = User.get_by_id(uid)
        if action == "remember":
            devices.remember(user)
        elif action == "trust":
            devices.remember(user, trust_for=timedelta(days=30))
        elif action == "forget":
            devices.forget(user)
        return jsonify(known=devices.is_known(user), trusted=devices.is_trusted(user))

    return app, ids


def state(client, uid, action="read"):
    return client.post(f"/_device/{action}/{uid}").get_json()


def test_remember_trust_and_forget(site):
    app, [marie, pierre, *_] = site
    client = app.test_client()
    assert state(client, marie) == {"known": False, "trusted": False}
    assert state(client, marie, "remember") == {"known": True, "trusted": False}
    assert state(client, marie, "trust") == {"known": True, "trusted": True}
    assert state(client, marie, "remember") == {"known": True, "trusted": True}  # trust kept
    assert state(client, pierre) == {"known": False, "trusted": False}
    assert state(client, pierre, "remember")["known"]
    assert state(client, marie, "forget") == {"known": False, "trusted": False}
    assert state(client, pierre)["known"]
    assert client.get_cookie("device") is not None


def test_an_epoch_change_revokes_the_entry(site):
    app, [marie, *_] = site
    client = app.test_client()
    state(client, marie, "trust")
    with app.app_context(), db.connection_context():
        User.get_by_id(marie).sign_out_everywhere()
    assert state(client, marie) == {"known": False, "trusted": False}


def test_a_tampered_or_foreign_cookie_is_ignored(site, tmp_path):
    app, [marie, *_] = site
    client = app.test_client()
    state(client, marie, "remember")
    value = client.get_cookie("device").value
    client.set_cookie("device", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert not state(client, marie)["known"]
    app.secret_key = "another-secret"
    client.set_cookie("device", value)
    assert not state(client, marie)["known"]


def test_one_cookie_keeps_the_latest_accounts_only(site):
    app, ids = site
    client = app.test_client()
    for uid in ids:
        state(client, uid, "remember")
    known = [state(client, uid)["known"] for uid in ids]
    assert known == [False] * (len(ids) - devices.MAX_ACCOUNTS) + [True] * devices.MAX_ACCOUNTS


def test_an_expired_cookie_is_ignored(site, monkeypatch):
    import itsdangerous.timed

    app, [marie, *_] = site
    client = app.test_client()
    state(client, marie, "remember")
    later = time.time() + (app.config["DEVICE_COOKIE_DAYS"] + 1) * 86400
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    assert not state(client, marie)["known"]


def test_a_deleted_accounts_entry_does_not_carry_over_to_its_reused_id_attack_id_reuse(site):
    """SQLite may give the id of the newest account, once deleted, to the next
    sign-up: the old owner's browser must not be known to the new account."""
    app, [*_, last] = site
    client = app.test_client()
    assert state(client, last, "trust")["trusted"]
    with app.app_context(), db.connection_context():
        old = User.get_by_id(last)
        epoch = old.session_epoch
        old.delete_instance()
        newcomer = user_row("nouveau@exemple.fr", id=last)
        User.update(session_epoch=epoch).where(User.id == newcomer.id).execute()
    assert state(client, last) == {"known": False, "trusted": False}
