"""Operators for the console's tests: the role granted through the command."""

from __future__ import annotations

from models import User
from tests.support.app import query


def grant(app, email: str) -> None:
    result = app.test_cli_runner().invoke(args=["operator", "grant", email])
    assert result.exit_code == 0, result.output


def account_id(app, email: str) -> int:
    return query(app, lambda: User.by_email(email).id)


def account(app, email: str) -> User:
    return query(app, lambda: User.by_email(email))
