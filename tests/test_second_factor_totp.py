"""Authenticator apps: enrolment in « Mon compte », the sign-in's second
step with codes computed by pyotp, and recovery codes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit import Event
from models import AuditEvent, RecoveryCode, SecondFactor, User, db, utcnow
from passwords import hash_password
from tests.support.app import user_row
from tests.support.constants import EMAIL, PASSWORD
from tests.support.responses import error_of, follow, is_fragment, signs_in_first, text_of
from tests.support.second_factor import (
    FACTORS,
    VERIFY,
    code_at,
    codes_page,
    enrol_totp,
    forget_reauthentication,
    password_step,
    reauthenticate,
    second_step,
    start_totp,
)


@pytest.fixture
def signed_in(app, any_client, signup):
    signup.create_account()
    signup.activate()
    response = password_step(any_client)
    assert response.status_code in (204, 303)
    return any_client


def stored(app, fn):
    with app.app_context(), db.connection_context():
        return fn()


def sign_out(client):
    client.submit("/deconnexion")


def test_enrolment_needs_the_password_again(signed_in):
    forget_reauthentication(signed_in)
    page = text_of(signed_in.get(FACTORS))
    assert "Confirmer votre identité" in page
    assert "Ajouter une application" not in page
    response = reauthenticate(signed_in, "Mauvais-Mot-De-Passe-1")
    assert response.status_code == 422
    assert "Le mot de passe est incorrect." in error_of(response, "password")
    assert is_fragment(response) == signed_in.htmx
    response = reauthenticate(signed_in)
    assert response.status_code == (200 if signed_in.htmx else 303)


def test_enrolment_shows_a_qr_code_and_the_secret_in_groups(app, signed_in):
    secret = start_totp(signed_in)
    page = text_of(signed_in.get(f"{FACTORS}application"))
    assert "<svg" in page and 'aria-label="QR code à scanner"' in page
    assert "<script" not in page.split('<div class="qr-code">')[1].split("</div>")[0]
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    # Not usable before a right code, and stored encrypted.
    row = stored(app, lambda: SecondFactor.get())
    assert row.confirmed_at is None
    assert secret not in row.secret


def test_a_wrong_code_keeps_the_enrolment_open(app, signed_in):
    secret = start_totp(signed_in)
    wrong = f"{(int(code_at(secret)) + 1) % 1000000:06d}"
    response = signed_in.submit(f"{FACTORS}application/valider", {"code": wrong})
    assert response.status_code == 422
    assert "Ce code est incorrect" in error_of(response, "code")
    assert is_fragment(response) == signed_in.htmx
    assert stored(app, lambda: SecondFactor.get().confirmed_at) is None
    short = signed_in.submit(f"{FACTORS}application/valider", {"code": "12345"})
    assert short.status_code == 422 and "Le code compte 6 chiffres" in error_of(short, "code")


def test_an_enrolment_finished_after_the_confirmation_lapsed_says_to_confirm_again(app, signed_in):
    secret = start_totp(signed_in)
    with signed_in.session_transaction() as session:
        session["reauth_at"] -= 11 * 60  # the password was confirmed 11 minutes ago
    response = signed_in.submit(f"{FACTORS}application/valider", {"code": code_at(secret)})
    assert "confirmé il y a plus de 10 minutes" in follow(signed_in, response)
    assert stored(app, lambda: SecondFactor.get().confirmed_at) is None


def test_enrolment_completes_with_a_right_code_and_shows_ten_recovery_codes_once(app, signed_in, mailbox):
    secret, codes = enrol_totp(signed_in)
    assert len(set(codes)) == 10
    assert stored(app, lambda: SecondFactor.get().confirmed_at) is not None
    hashes = stored(app, lambda: [row.code_hash for row in RecoveryCode.select()])
    assert len(hashes) == 10 and not set(codes) & set(hashes)
    page = text_of(signed_in.get(FACTORS))
    assert "Application d'authentification" in page and codes[0] not in page
    assert "Vos méthodes de connexion ont été modifiées" in [mail.subject for mail in mailbox(EMAIL)][-1]
    events = stored(app, lambda: [e.event for e in AuditEvent.select()])
    assert Event.SECOND_FACTOR_ENROLLED in events and Event.RECOVERY_CODES_GENERATED in events


def test_adding_an_app_in_two_tabs_shows_one_key_and_the_first_tab_s_code_works(app, signed_in, monkeypatch):
    """« Ajouter » in a second tab replaced the key the first tab shows: its
    code, from an app that scanned it, was « incorrect », without a word why.
    A key begun within ten minutes is shown again; later, a new one."""
    first = start_totp(signed_in)
    second = start_totp(signed_in)  # the other tab
    assert second == first
    response = signed_in.submit(f"{FACTORS}application/valider", {"code": code_at(first, -1)})
    assert "Vos codes de secours" in codes_page(signed_in, response)
    # A key left unconfirmed for longer is not shown again.
    stored(app, lambda: SecondFactor.delete().execute())
    left = start_totp(signed_in)
    long_ago = utcnow() - timedelta(minutes=11)
    stored(app, lambda: SecondFactor.update(created_at=long_ago).execute())
    assert start_totp(signed_in) != left


def test_attack_a_key_another_session_left_pending_is_never_the_owner_s(app, signed_in, signup):
    """Someone who knows the password keeps an app key of theirs pending
    (another browser); the owner's « Ajouter » must show a key of its own,
    or the owner would scan and confirm a key the other one knows."""
    planted = start_totp(signed_in)  # the other browser
    owner = app.test_client()
    password_step(owner)
    assert owner.get(f"{FACTORS}application").status_code in (302, 303)  # the planted key is not shown
    mine = start_totp(owner)
    assert mine != planted
    # The other browser's key is gone, and it cannot confirm the owner's.
    signed_in.submit(f"{FACTORS}application/valider", {"code": code_at(planted)})
    signed_in.submit(f"{FACTORS}application/valider", {"code": code_at(mine)})
    confirmed = SecondFactor.select().where(SecondFactor.confirmed_at.is_null(False))
    assert stored(app, confirmed.count) == 0
    response = owner.submit(f"{FACTORS}application/valider", {"code": code_at(mine, -1)})
    assert "Vos codes de secours" in codes_page(owner, response)


def test_recovery_codes_are_downloadable_as_text(signed_in):
    secret = start_totp(signed_in)
    response = signed_in.submit(f"{FACTORS}application/valider", {"code": code_at(secret)})
    page = codes_page(signed_in, response)
    assert 'download="codes-de-secours.txt"' in page
    assert 'href="data:text/plain;charset=utf-8,' in page


@pytest.fixture
def enrolled(app, signed_in):
    """Marie with an app, signed out: (client, secret, recovery codes)."""
    secret, codes = enrol_totp(signed_in)
    sign_out(signed_in)
    return signed_in, secret, codes


def test_the_password_alone_no_longer_signs_in(enrolled):
    client, _, _ = enrolled
    response = password_step(client)
    if client.htmx:
        assert response.status_code == 200
        assert response.headers["HX-Push-Url"] == VERIFY
        page = text_of(response)
        assert is_fragment(response)
    else:
        assert response.status_code == 303 and response.headers["Location"] == VERIFY
        page = text_of(client.get(VERIFY))
    assert "Vérification en deux étapes" in page
    assert "Code à 6 chiffres de votre application" in page
    assert "Utiliser un code de secours" in page
    assert signs_in_first(client.get("/mon-compte/"))


def test_a_right_code_signs_in(enrolled):
    client, secret, _ = enrolled
    password_step(client)
    response = second_step(client, code_at(secret))
    assert response.status_code == (204 if client.htmx else 303)
    assert client.get("/mon-compte/").status_code == 200
    # Back to the second step once signed in: « Mon espace », not « expirée ».
    back = client.get(VERIFY)
    assert (back.headers.get("HX-Redirect") or back.headers["Location"]) == "/espace/"
    assert "expiré" not in text_of(client.get("/espace/"))


def test_a_wrong_code_is_refused_next_to_the_field(app, enrolled):
    client, secret, _ = enrolled
    password_step(client)
    wrong = f"{(int(code_at(secret)) + 1) % 1000000:06d}"
    response = second_step(client, wrong)
    assert response.status_code == 422
    assert "Ce code est incorrect" in error_of(response, "code")
    assert is_fragment(response) == client.htmx
    assert signs_in_first(client.get("/mon-compte/"))
    failures = stored(app, lambda: AuditEvent.select().where(AuditEvent.outcome == "failure").count())
    assert failures >= 1


@pytest.mark.parametrize("typed", ["12345", "abcdef", "1234567"])
def test_a_code_of_another_shape_is_told_so_next_to_the_field(app, enrolled, typed):
    client, secret, _ = enrolled
    password_step(client)
    response = second_step(client, typed)
    assert response.status_code == 422
    assert "Le code compte 6 chiffres" in error_of(response, "code")
    assert f'value="{typed}"' in text_of(response)  # kept, to be corrected
    assert second_step(client, code_at(secret)[:3] + " " + code_at(secret)[3:]).status_code in (204, 303)


# Digits as other keyboards type them: full-width (Japanese, Chinese
# input methods) and Arabic-Indic.
OTHER_DIGITS = {
    "full-width": str.maketrans("0123456789-", "０１２３４５６７８９－"),
    "arabic-indic": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),
}


@pytest.mark.parametrize("script", OTHER_DIGITS)
def test_a_right_code_in_the_digits_of_another_keyboard_signs_in(enrolled, script):
    client, secret, _ = enrolled
    password_step(client)
    code = code_at(secret, +1)
    response = second_step(client, f"{code[:3]} {code[3:]}".translate(OTHER_DIGITS[script]))
    assert response.status_code in (204, 303), text_of(response)
    assert client.get("/mon-compte/").status_code == 200


def test_a_recovery_code_typed_in_full_width_signs_in(enrolled):
    client, _, codes = enrolled
    password_step(client)
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in codes[0])  # ａｂｃｄｅ－ｆｇｈｊｋ
    response = second_step(client, wide, method="recovery")
    assert response.status_code in (204, 303), text_of(response)
    assert client.get("/mon-compte/").status_code == 200


def test_a_code_from_one_step_of_drift_is_accepted(enrolled):
    client, secret, _ = enrolled
    password_step(client)
    assert second_step(client, code_at(secret, +1)).status_code in (204, 303)


def test_an_expired_code_is_refused(enrolled):
    client, secret, _ = enrolled
    password_step(client)
    assert second_step(client, code_at(secret, -3)).status_code == 422


def test_a_replayed_code_is_refused_replay_attack(enrolled):
    client, secret, _ = enrolled
    code = code_at(secret, +1)
    password_step(client)
    assert second_step(client, code).status_code in (204, 303)
    sign_out(client)
    password_step(client)
    assert second_step(client, code).status_code == 422
    # An older step than the last accepted one is refused too.
    assert second_step(client, code_at(secret)).status_code == 422


def test_the_second_step_without_the_password_step_is_refused_skip_attack(app, enrolled):
    _, secret, _ = enrolled
    client = app.test_client()
    response = second_step(client, code_at(secret, +1))
    assert response.status_code == 303 and response.headers["Location"] == "/connexion"
    assert signs_in_first(client.get("/mon-compte/"))


def test_a_code_for_another_method_is_not_accepted_method_attack(enrolled):
    client, secret, _ = enrolled
    password_step(client)
    # Codes by e-mail are not enabled for this account, and "sms" is no method.
    for method in ("email", "passkey", "sms"):
        response = second_step(client, code_at(secret), method=method)
        assert response.status_code == 422
        assert is_fragment(response) == client.htmx
        assert "Cette méthode n'est pas proposée pour votre compte" in text_of(response)
        # The page offers the account's own method again.
        assert "Code à 6 chiffres de votre application" in text_of(response)
    assert signs_in_first(client.get("/mon-compte/"))


def test_a_password_change_elsewhere_ends_the_pending_second_step(app, enrolled):
    client, secret, _ = enrolled
    password_step(client)
    stored(app, lambda: User.update(session_epoch=User.session_epoch + 1).execute())
    response = second_step(client, code_at(secret, +1))
    assert response.status_code in (204, 303)
    assert signs_in_first(client.get("/mon-compte/"))


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(enrolled):
    client, _, codes = enrolled
    password_step(client)
    response = second_step(client, codes[0].upper().replace("-", " "), method="recovery")
    assert response.status_code in (204, 303)
    page = text_of(client.get("/mon-compte/"))
    assert "Il vous en reste 9." in page
    sign_out(client)
    password_step(client)
    again = second_step(client, codes[0], method="recovery")
    assert again.status_code == 422
    # A recovery code never expires: spent, it is said so, not « expiré ».
    assert error_of(again, "code").endswith(
        "Ce code de secours est incorrect ou a déjà servi. Vérifiez-le et réessayez."
    )


def test_regenerating_revokes_the_old_recovery_codes(enrolled):
    client, secret, codes = enrolled
    password_step(client)
    second_step(client, code_at(secret, +1))
    reauthenticate(client)
    response = client.submit(f"{FACTORS}codes-de-secours")
    assert "Vos codes de secours" in codes_page(client, response)
    sign_out(client)
    password_step(client)
    assert second_step(client, codes[1], method="recovery").status_code == 422


def test_removing_the_app_needs_the_password_and_mails(app, enrolled, mailbox):
    client, secret, _ = enrolled
    password_step(client)
    second_step(client, code_at(secret, +1))
    factor_id = stored(app, lambda: SecondFactor.get().id)
    forget_reauthentication(client)
    client.submit(f"{FACTORS}retirer/{factor_id}")
    assert stored(app, lambda: SecondFactor.select().count()) == 1  # not re-authenticated: nothing removed
    reauthenticate(client)
    response = client.submit(f"{FACTORS}retirer/{factor_id}", {"turn_off": "y"})
    assert response.status_code == (200 if client.htmx else 303)
    assert stored(app, lambda: SecondFactor.select().count()) == 0
    assert stored(app, lambda: RecoveryCode.select().count()) == 0
    said = mailbox(EMAIL)[-1].body_text
    off = "la vérification en deux étapes est désactivée"  # the last method gone
    assert f"la méthode « Application d'authentification » a été retirée ; {off}" in said
    sign_out(client)
    assert password_step(client).status_code in (204, 303)
    assert client.get("/mon-compte/").status_code == 200


def test_removing_the_last_method_asks_first_and_changes_nothing_until_confirmed(app, enrolled, mailbox):
    """« Retirer » on the account's last method turns two-step verification
    off: the page says so and asks, and a slip of the finger removes nothing,
    mails nothing. Its own button (the hidden ``turn_off``) removes it."""
    client, secret, _ = enrolled
    password_step(client)
    second_step(client, code_at(secret, +1))
    factor_id = stored(app, lambda: SecondFactor.get().id)
    reauthenticate(client)
    mails = len(mailbox(EMAIL))
    response = client.submit(f"{FACTORS}retirer/{factor_id}")
    assert response.status_code == 200 and is_fragment(response) == client.htmx
    page = text_of(response)
    assert "« Application d'authentification » est votre dernière méthode : si vous la retirez" in page
    asked = page.split("est votre dernière méthode")[1].split("</form>")[0]
    assert f'action="{FACTORS}retirer/{factor_id}"' in asked
    assert '<input type="hidden" name="turn_off" value="y">' in asked
    assert "Retirer et désactiver la vérification en deux étapes" in asked
    assert f'href="{FACTORS}"' in asked  # « Annuler et garder cette méthode »
    assert stored(app, lambda: SecondFactor.select().count()) == 1
    assert len(mailbox(EMAIL)) == mails
    client.submit(f"{FACTORS}retirer/{factor_id}", {"turn_off": "y"})
    assert stored(app, lambda: SecondFactor.select().count()) == 0


def test_removing_one_of_two_methods_is_not_asked(app, enrolled):
    client, secret, _ = enrolled
    password_step(client)
    second_step(client, code_at(secret, +1))
    stored(
        app,
        lambda: SecondFactor.create(
            user=User.get(), kind=SecondFactor.EMAIL, name="Code par e-mail", confirmed_at=utcnow()
        ),
    )
    factor_id = stored(app, lambda: SecondFactor.get(SecondFactor.kind == SecondFactor.TOTP).id)
    reauthenticate(client)
    response = client.submit(f"{FACTORS}retirer/{factor_id}")
    assert "La méthode a été retirée." in follow(client, response)
    assert stored(app, lambda: [f.kind for f in SecondFactor.select()]) == [SecondFactor.EMAIL]


def test_removing_another_accounts_factor_does_nothing_idor_attack(app, signup, enrolled):
    client, _, _ = enrolled
    factor_id = stored(app, lambda: SecondFactor.get().id)
    other = app.test_client()
    stored(
        app, lambda: user_row("autre@exemple.fr", status=User.ACTIVE, password_hash=hash_password(PASSWORD))
    )
    password_step(other, "autre@exemple.fr")
    reauthenticate(other)
    other.submit(f"{FACTORS}retirer/{factor_id}")
    assert stored(app, lambda: SecondFactor.select().count()) == 1
