"""« Dernière connexion » on an account's console page: the last time a
session was started for the account, whichever way it signed in (password,
password and second factor, a passkey alone, an activation or a reset
link), kept on the account; never a password accepted whose second factor
then failed, and not lost when the audit trail is purged."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from models import AuditEvent, User, db
from tests.support.app import Client, query
from tests.support.constants import NEW_PASSWORD
from tests.support.operators import account_id
from tests.support.passkeys import passkey_alone_account
from tests.support.responses import shown
from tests.support.second_factor import code_at, enrol_totp, password_step, second_step
from tests.support.signup import link_in
from tests.support.structures import PIERRE, new_client, sign_up

PIERRE_EMAIL = PIERRE["email"]
LONG_AGO = datetime(2020, 1, 2, 3, 4, 5)


def last_sign_in(app, email: str = PIERRE_EMAIL) -> datetime | None:
    return query(app, lambda: User.by_email(email).last_signed_in_at)


def set_long_ago(app, email: str = PIERRE_EMAIL) -> None:
    query(app, lambda: User.update(last_signed_in_at=LONG_AGO).where(User.email == email).execute())


def shown_last_sign_in(operator, app, email: str = PIERRE_EMAIL) -> str:
    page = shown(operator, f"/administration/comptes/{account_id(app, email)}/")
    match = re.search(r"<dt>Dernière connexion</dt><dd>([^<]*)</dd>", page)
    assert match, page
    return match.group(1)


def test_activation_signs_in_and_is_the_first_sign_in(app, operator, mailbox):
    new_client(app, mailbox, PIERRE)
    assert last_sign_in(app) is not None
    assert shown_last_sign_in(operator, app) != "Jamais"


def test_a_new_password_from_a_reset_link_is_a_sign_in(app, operator, mailbox):
    pierre = new_client(app, mailbox, PIERRE)
    pierre.submit("/deconnexion")
    set_long_ago(app)
    assert shown_last_sign_in(operator, app) == "02/01/2020 à 04:04"
    pierre.submit("/mot-de-passe-oublie/", {"email": PIERRE_EMAIL})
    [mail] = [m for m in mailbox(PIERRE_EMAIL) if m.subject == "Réinitialisez votre mot de passe"]
    response = pierre.submit(link_in(mail), {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert last_sign_in(app) > LONG_AGO
    assert shown_last_sign_in(operator, app) != "02/01/2020 à 04:04"


def test_a_password_whose_second_factor_then_fails_is_no_sign_in(app, operator, mailbox):
    pierre = new_client(app, mailbox, PIERRE)
    secret, _codes = enrol_totp(pierre)
    pierre.submit("/deconnexion")
    set_long_ago(app)
    assert password_step(pierre, PIERRE_EMAIL).status_code in (200, 303)
    assert second_step(pierre, "000000").status_code == 422
    assert last_sign_in(app) == LONG_AGO
    assert shown_last_sign_in(operator, app) == "02/01/2020 à 04:04"
    assert second_step(pierre, code_at(secret)).status_code in (204, 303)
    assert last_sign_in(app) > LONG_AGO


def test_a_password_alone_is_a_sign_in(app, any_client, mailbox):
    marie = sign_up(any_client, mailbox)
    marie.submit("/deconnexion")
    query(app, lambda: User.update(last_signed_in_at=LONG_AGO).execute())
    assert password_step(marie).status_code in (204, 303)
    assert query(app, lambda: User.get().last_signed_in_at) > LONG_AGO


@pytest.mark.parametrize("htmx", [False, True])
def test_a_passkey_alone_is_a_sign_in(tmp_path, monkeypatch, htmx):
    app, marie, passkey = passkey_alone_account(tmp_path, monkeypatch, htmx)
    query(app, lambda: User.update(last_signed_in_at=LONG_AGO).execute())
    challenge = marie.submit("/connexion/verification/cle-d-acces-seule/options").get_json()["challenge"]
    answer = passkey.answer(challenge)
    response = marie.submit("/connexion/verification/cle-d-acces-seule", {"credential": answer})
    assert response.status_code < 400
    assert query(app, lambda: User.get().last_signed_in_at) > LONG_AGO


def test_a_wrong_password_is_no_sign_in(app, operator, mailbox):
    pierre = new_client(app, mailbox, PIERRE)
    pierre.submit("/deconnexion")
    set_long_ago(app)
    assert password_step(pierre, PIERRE_EMAIL, "Mauvais-mot-de-passe-1").status_code == 422
    assert last_sign_in(app) == LONG_AGO


def test_the_last_sign_in_outlives_the_purge_of_the_audit_trail(app, operator, mailbox):
    new_client(app, mailbox, PIERRE)
    before = shown_last_sign_in(operator, app)

    def purge_all() -> None:
        with db.atomic():
            AuditEvent.delete().execute()

    query(app, purge_all)
    assert shown_last_sign_in(operator, app) == before != "Jamais"


def test_a_pending_account_never_signed_in(app, operator, mailbox):
    from tests.support.signup import Signup

    app.test_client_class = Client
    Signup(app.test_client(), mailbox).create_account(**PIERRE)
    assert shown_last_sign_in(operator, app) == "Jamais"


def test_the_data_file_holds_the_last_sign_in(app, marie):
    data = marie.get("/mon-compte/donnees.json").get_json()
    stored = query(app, lambda: User.get().last_signed_in_at)
    assert data["compte"]["derniere_connexion_le"] == stored.isoformat() + "Z"
