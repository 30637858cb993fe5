"""The portal keeps an operator: the only operator with an open account
cannot delete their account (« Supprimer mon compte ») nor lose the role
(``flask operator revoke``) until another active account is granted it.
The refusal says how to go on, so that the right to erasure stays one; an
operator whose account is closed counts for nobody."""

from __future__ import annotations

import json

import pytest

from models import AuditEvent, User, db
from passwords import hash_password
from tests.support.app import query, user_row
from tests.support.constants import EMAIL, PASSWORD
from tests.support.i18n import speak
from tests.support.operators import grant
from tests.support.responses import shown, text_of

ONLY_ONE = (
    "Vous êtes le seul opérateur du portail : votre compte ne peut pas être supprimé tant "
    "qu'un autre compte actif n'a pas reçu ce rôle."
)
COMMAND = "<code>flask --app app operator grant ADRESSE</code>"
OTHER = "relais@exemple.fr"


def run(app, *args):
    return app.test_cli_runner().invoke(args=["operator", *args])


def another_operator(app, status: str = User.ACTIVE) -> None:
    """Another account made an operator by the command, then left in ``status``."""
    query(app, lambda: user_row(OTHER, status=User.ACTIVE))
    grant(app, OTHER)
    query(app, lambda: User.update(status=status).where(User.email == OTHER).execute())


def exists(app, email: str = EMAIL) -> bool:
    return query(app, lambda: User.by_email(email)) is not None


def refused_deletions(app) -> list[dict]:
    def read():
        rows = AuditEvent.select().where(
            (AuditEvent.event == "account.deleted") & (AuditEvent.outcome == "failure")
        )
        return [json.loads(row.details) for row in rows]

    return query(app, read)


# -- « Supprimer mon compte » ----------------------------------------------------------------


def test_the_last_operator_is_told_how_to_go_on_before_typing_a_password(operator):
    text = shown(operator, "/mon-compte/supprimer")
    assert ONLY_ONE in text and COMMAND in text
    assert 'type="password"' not in text


def test_attack_the_last_operator_posting_the_deletion_anyway_is_refused(app, operator):
    response = operator.submit("/mon-compte/supprimer", {"password": PASSWORD})
    assert response.status_code == 422
    text = text_of(response)
    assert ONLY_ONE in text and COMMAND in text
    assert exists(app) and query(app, lambda: User.by_email(EMAIL).is_operator)
    assert refused_deletions(app) == [{"reason": "last_operator"}]


def test_the_password_is_checked_first_a_wrong_one_says_nothing_of_the_role(app, operator):
    response = operator.submit("/mon-compte/supprimer", {"password": "pas le bon"})
    assert response.status_code == 422 and "Le mot de passe est incorrect." in text_of(response)
    assert refused_deletions(app) == [{"reason": "password"}]


def test_an_operator_may_delete_their_account_once_another_is_granted(app, operator):
    another_operator(app)
    assert 'type="password"' in shown(operator, "/mon-compte/supprimer")
    response = operator.submit("/mon-compte/supprimer", {"password": PASSWORD})
    assert response.status_code in (204, 303)
    assert not exists(app) and exists(app, OTHER)


def test_attack_an_operator_whose_account_is_closed_does_not_count(app, operator):
    another_operator(app, User.DISABLED)
    assert ONLY_ONE in shown(operator, "/mon-compte/supprimer")
    assert operator.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code == 422
    assert exists(app)


def test_attack_a_page_opened_before_the_other_operator_left_is_refused_in_words(app, operator):
    another_operator(app)
    assert 'type="password"' in shown(operator, "/mon-compte/supprimer")
    query(app, lambda: User.update(is_operator=False).where(User.email == OTHER).execute())
    response = operator.submit("/mon-compte/supprimer", {"password": PASSWORD})
    assert response.status_code == 422
    assert ONLY_ONE in text_of(response) and exists(app)


def test_the_refusal_reads_in_english(app, operator):
    speak(operator, "en")
    text = shown(operator, "/mon-compte/supprimer")
    assert "You are the portal's only operator" in text
    assert "<code>flask --app app operator grant ADDRESS</code>" in text
    assert ONLY_ONE not in text


def test_an_ordinary_account_is_never_the_last_operator(app, marie):
    assert query(app, lambda: User.by_email(EMAIL).is_last_operator()) is False
    assert 'type="password"' in shown(marie, "/mon-compte/supprimer")


# -- ``flask operator revoke`` ---------------------------------------------------------------


def test_the_command_refuses_to_revoke_the_last_operator_in_one_line(app, account):
    grant(app, EMAIL)
    result = run(app, "revoke", EMAIL)
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"Error: {EMAIL} is the last operator with an open account")
    assert "flask --app app operator grant EMAIL" in line
    assert query(app, lambda: User.by_email(EMAIL).is_operator)
    assert query(app, lambda: AuditEvent.select().where(AuditEvent.event == "operator.revoked").count()) == 0


def test_the_command_revokes_a_closed_operator_and_then_the_open_one_stays(app, account):
    grant(app, EMAIL)
    another_operator(app, User.DISABLED)
    assert run(app, "revoke", OTHER).exit_code == 0
    assert run(app, "revoke", EMAIL).exit_code == 1
    another_operator_again = "relais2@exemple.fr"
    query(app, lambda: user_row(another_operator_again, status=User.ACTIVE))
    grant(app, another_operator_again)
    result = run(app, "revoke", EMAIL)
    assert result.exit_code == 0 and "no longer an operator" in result.output


def test_revoking_an_account_that_is_no_operator_still_says_so(app, account):
    result = run(app, "revoke", EMAIL)
    assert result.exit_code == 0 and "is not an operator" in result.output


# -- two operators leaving at once (PostgreSQL: the database decides) ------------------------


def test_attack_the_two_last_operators_revoked_at_once_one_stays(pg_app):
    """Each revocation sees the other operator before either commits; the
    operators' rows are locked in one order, so the second waits and then
    finds itself the last."""
    import operations
    from models import db
    from tests.support.concurrency import at_once

    with pg_app.app_context(), db.connection_context():
        for email in (EMAIL, OTHER):
            user_row(email, status=User.ACTIVE, is_operator=True)

    def revoke(email: str):
        with pg_app.app_context(), db.connection_context():
            try:
                return operations.revoke(email)
            except operations.LastOperator:
                return "refused"

    assert sorted(at_once([lambda e=e: revoke(e) for e in (EMAIL, OTHER)]), key=str) == [True, "refused"]
    with pg_app.app_context(), db.connection_context():
        assert User.select().where(User.is_operator).count() == 1


# -- the console's own « Désactiver » / « Supprimer » between two operators --------------------


def _two_operators(app) -> None:
    query(app, lambda: [user_row(email, status=User.ACTIVE, is_operator=True) for email in (EMAIL, OTHER)])


def _as_loaded(email: str) -> User:
    """An account as a request loaded it (its own copy, read before the
    other request committed)."""
    return User.by_email(email)


def in_request(app, fn):
    """``fn()`` as a console request runs it (its mail names the portal's pages)."""
    with app.test_request_context(), db.connection_context():
        return fn()


def _open_operators() -> list[str]:
    return [u.email for u in User.select().where(User.is_operator & (User.status == User.ACTIVE))]


@pytest.mark.parametrize("action", ["disable", "delete_account"])
def test_attack_two_operators_closing_or_deleting_each_other_at_once_leave_one(app, action):
    """Each opened the other's page and sends « Désactiver » (or deletes the
    account); both requests were let in while both were open. The one that
    comes second was closed meanwhile: it is refused, and the portal keeps an
    operator."""
    import operations

    _two_operators(app)
    act = getattr(operations, action)

    def race():
        marie, relais = _as_loaded(EMAIL), _as_loaded(OTHER)
        marie_page, relais_page = _as_loaded(EMAIL), _as_loaded(OTHER)
        first = act(marie, relais_page)
        second = act(relais, marie_page)
        return first, second, _open_operators()

    assert in_request(app, race) == (True, False, [EMAIL])


def test_attack_an_operator_gone_meanwhile_closes_no_account_from_a_page_opened_before(app):
    """Marie deletes her account (the other operator still open) while a
    console page of hers, sent at the same time, closes that other operator:
    an account deleted meanwhile acts no more, and an operator stays."""
    import operations
    import rights

    _two_operators(app)
    query(
        app, lambda: User.update(password_hash=hash_password(PASSWORD)).where(User.email == EMAIL).execute()
    )

    def race():
        marie_request, relais_page = _as_loaded(EMAIL), _as_loaded(OTHER)
        assert rights.delete_account(_as_loaded(EMAIL), PASSWORD) is None
        closed = operations.disable(marie_request, relais_page)
        return closed, _open_operators()

    assert in_request(app, race) == (False, [OTHER])


def test_attack_two_operators_closing_each_other_at_once_on_postgresql_leave_one(pg_app):
    """Released together, each sees the other open before either commits:
    the operators' rows are locked in one order, so the second waits, then
    finds itself closed and closes nobody."""
    import operations
    from tests.support.concurrency import at_once

    with pg_app.app_context(), db.connection_context():
        for email in (EMAIL, OTHER):
            user_row(email, status=User.ACTIVE, is_operator=True)

    def close(by: str, whom: str):
        with pg_app.test_request_context(), db.connection_context():
            return operations.disable(User.by_email(by), User.by_email(whom))

    results = at_once([lambda: close(EMAIL, OTHER), lambda: close(OTHER, EMAIL)])
    assert sorted(results) == [False, True]
    with pg_app.app_context(), db.connection_context():
        assert len(_open_operators()) == 1
