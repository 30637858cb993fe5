"""Operators need a second factor to reach « Administration », whatever
FLASK_TWO_FACTOR_POLICY says (default ``optional`` here): a stolen operator
password alone opens nothing. Full page and htmx (``any_client``)."""

from __future__ import annotations

from tests.support.constants import EMAIL
from tests.support.operators import grant
from tests.support.second_factor import VERIFY, code_at, enrol_totp
from tests.support.structures import sign_up


def test_an_operator_without_a_second_factor_is_led_to_enrolment_attack_stolen_password(
    app, any_client, mailbox
):
    operator = sign_up(any_client, mailbox)
    grant(app, EMAIL)
    for url in ("/administration/", "/administration/comptes?q=a", "/administration/journal"):
        response = operator.get(url)
        assert response.status_code == 303, url
        assert response.headers["Location"] == "/mon-compte/verification-en-deux-etapes/"


def test_the_enrolment_page_tells_an_operator_why_the_console_led_there(app, any_client, mailbox):
    """Under the default policy it said only « votre mot de passe suffit pour
    vous connecter », after a click on « Administration »."""
    from tests.support.responses import text_of

    operator = sign_up(any_client, mailbox)
    notice = "« Administration » demande la vérification en deux étapes : ajoutez une méthode pour y accéder."
    assert notice not in text_of(operator.get("/mon-compte/verification-en-deux-etapes/"))
    grant(app, EMAIL)
    response = operator.get("/administration/")
    assert notice in text_of(operator.get(response.headers["Location"]))
    enrol_totp(operator)
    assert notice not in text_of(operator.get("/mon-compte/verification-en-deux-etapes/"))


def test_an_operator_session_that_has_not_passed_the_factor_is_asked_for_it(app, any_client, mailbox):
    operator = sign_up(any_client, mailbox)
    grant(app, EMAIL)
    secret, _ = enrol_totp(operator)
    with operator.session_transaction() as session:
        session.pop("second_factor_at")  # e.g. a session from a trusted device
    response = operator.get("/administration/")
    assert response.status_code == 303 and response.headers["Location"] == VERIFY
    response = operator.submit(VERIFY, {"method": "totp", "code": code_at(secret, +1)})
    # Back where the operator was going: a full reload under htmx (the signed-in header changes).
    header = "HX-Redirect" if operator.htmx else "Location"
    assert response.headers[header] == "/administration/"
    assert operator.get("/administration/").status_code == 200


def test_an_ordinary_account_still_meets_404_not_the_second_factor(app, any_client, mailbox):
    client = sign_up(any_client, mailbox)
    assert client.get("/administration/").status_code == 404


def test_attack_an_operator_without_a_second_factor_posts_console_actions_in_vain(app, any_client, mailbox):
    """A stolen operator password, the role granted before any factor was
    enrolled: the console's actions, sent with a valid CSRF token, change
    nothing and lead to enrolment."""
    from models import AuditEvent, User
    from tests.support.app import query
    from tests.support.operators import account, account_id
    from tests.support.structures import PIERRE, new_client

    new_client(app, mailbox, PIERRE)
    operator = sign_up(any_client, mailbox)
    grant(app, EMAIL)
    pierre_id = account_id(app, PIERRE["email"])
    for action in ("desactiver", "sessions", "supprimer"):
        response = operator.submit(f"/administration/comptes/{pierre_id}/{action}", {"confirm": "y"})
        assert response.status_code == 303, action
        assert response.headers["Location"] == "/mon-compte/verification-en-deux-etapes/"
    pierre = account(app, PIERRE["email"])
    assert pierre.status == User.ACTIVE and pierre.session_epoch == 1
    assert query(app, lambda: AuditEvent.select().where(AuditEvent.event.startswith("admin.")).count()) == 0
