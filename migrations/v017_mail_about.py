"""17: the account each mail of the outbox is about, when that is not its
reader (a requester named to the manager or the operators, a successor or a
former manager named in a hand-over), so that erasing that account withdraws
the mail whatever its text says: until now the erasure looked for
« (login address) » in the bodies, and a mail naming the person by name only
stayed.

Mail written before this step gets its link here, by that very search, once:
a notice names its requester « Name (login address) », the address as people
read it (an internationalised domain in Unicode) or as stored (in ASCII).
The erasure then goes by the link alone. A hand-over written before this
step names a person by name only, which is no one's for sure (two accounts
may share a name): it gets no link, and goes as delivered mail does (the
outbox's purge).

Independent of step 16: it reads and writes ``outbox_mail`` and ``user``
only, as step 15 left them."""

from __future__ import annotations

import contextlib
import re

import idna
from peewee import IntegerField
from playhouse.migrate import SchemaMigrator, migrate

# « (someone@domain) » in a body: what the notices of a request wrote after
# the requester's name. Names hold no « ( » nor « @ » (rules.names).
_BRACKETED_ADDRESS = re.compile(r"\(([^()\s]+@[^()\s]+)\)")


def upgrade(migrator: SchemaMigrator) -> None:
    # The account's id, not a foreign key, as ``account_id`` (step 12): the
    # erasure deletes the rows itself.
    migrate(
        migrator.add_column("outbox_mail", "about_id", IntegerField(null=True)),
        migrator.add_index("outbox_mail", ("about_id",), False),
    )
    _link_earlier_mail(migrator.database)


def _link_earlier_mail(database) -> None:
    """Each mail naming an account's login between brackets, written for
    another account (or for no account: before step 12), is about it. The
    outbox holds the mail not delivered yet and that delivered lately: one
    reading of it and of the addresses, matched in Python (exactly, where
    SQL's LIKE takes « _ » for any character)."""
    accounts: dict[str, int] = {}
    for account_id, email in database.execute_sql('SELECT id, email FROM "user"'):
        for form in _forms(email):
            accounts.setdefault(form, account_id)
    if not accounts:
        return
    rows = database.execute_sql(
        f"SELECT id, account_id, body_text FROM outbox_mail WHERE body_text LIKE {database.param}",  # noqa: S608
        ("%(%@%)%",),
    ).fetchall()
    for mail_id, reader_id, body in rows:
        for match in _BRACKETED_ADDRESS.finditer(body or ""):
            about = accounts.get(match.group(1).lower())
            if about is not None and about != reader_id:
                database.execute_sql(
                    f"UPDATE outbox_mail SET about_id = {database.param} WHERE id = {database.param}",  # noqa: S608
                    (about, mail_id),
                )
                break  # the first named: the requester, before the structure's name


def _forms(email: str) -> set[str]:
    """The login as stored (ASCII) and with its domain in Unicode, as the
    mail may have shown it."""
    email = (email or "").lower()
    forms = {email}
    local, at, domain = email.rpartition("@")
    if at and "xn--" in domain:
        with contextlib.suppress(idna.IDNAError, UnicodeError, ValueError):
            forms.add(f"{local}@{idna.decode(domain)}".lower())
    return forms
