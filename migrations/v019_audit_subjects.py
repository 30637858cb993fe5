"""19: what an audit event is about, in indexed columns of its own: the
account another account's event names (``about_account``: a request's
requester, a role's successor, an operator's target, by login address as
``account``) and the structure it concerns (``structure_id``). Until now the
events about an account (« Mes données », the console's account page and
trail) and those of a structure (the console's trail) were found by a LIKE on
the JSON details: a reading of the whole journal each time, and of every
event naming an address each time an account was erased. The details stay
as they were; the columns are copies the queries use.

The rows already there get their columns here, a batch at a time, from
their details."""

from __future__ import annotations

import json

from peewee import Case, CharField, IntegerField, TextField
from playhouse.migrate import SchemaMigrator, migrate

from migrations.frozen import FrozenModel

# Rows read and written at a time (see step 16).
BATCH = 100

# The detail keys naming another account, as ``audit.ABOUT_KEYS`` at this
# version: one at most in an event.
ABOUT_KEYS = ("requester", "to", "target")


class AuditEvent(FrozenModel):
    details = TextField(null=True)
    about_account = CharField(null=True)
    structure_id = IntegerField(null=True)

    class Meta:
        table_name = "audit_event"


def upgrade(migrator: SchemaMigrator) -> None:
    # The structure's id, not a foreign key: the journal outlives what it names.
    migrate(
        migrator.add_column("audit_event", "about_account", CharField(null=True)),
        migrator.add_index("audit_event", ("about_account",), False),
        migrator.add_column("audit_event", "structure_id", IntegerField(null=True)),
        migrator.add_index("audit_event", ("structure_id",), False),
    )
    _fill()


def subjects(details: str | None) -> tuple[str | None, int | None]:
    """The account named and the structure concerned, as recorded in ``details``."""
    try:
        loaded = json.loads(details) if details else None
    except ValueError:
        return None, None
    if not isinstance(loaded, dict):
        return None, None
    about = next((loaded[key] for key in ABOUT_KEYS if isinstance(loaded.get(key), str)), None)
    structure = loaded.get("structure")
    return about, structure if isinstance(structure, int) and not isinstance(structure, bool) else None


def _fill() -> None:
    """Only events whose details hold one of the keys can name anything:
    the database picks those (most events name nothing: a sign-in), read
    BATCH rows at a time in the order of their ids, and the keys' values
    are read from the JSON here."""
    may_name = None
    for key in (*ABOUT_KEYS, "structure"):
        holds = AuditEvent.details.contains(f'"{key}"')
        may_name = holds if may_name is None else may_name | holds
    last = 0
    while True:
        rows = list(
            AuditEvent.select(AuditEvent.id, AuditEvent.details)
            .where((AuditEvent.id > last) & may_name)
            .order_by(AuditEvent.id)
            .limit(BATCH)
        )
        if not rows:
            return
        last = rows[-1].id
        found = {row.id: subjects(row.details) for row in rows}
        # A CASE of the values found only (never all NULL: PostgreSQL would
        # read it as text, whatever the column).
        for column, index in ((AuditEvent.about_account, 0), (AuditEvent.structure_id, 1)):
            values = [(event_id, pair[index]) for event_id, pair in found.items() if pair[index] is not None]
            if values:
                AuditEvent.update({column: Case(AuditEvent.id, values)}).where(
                    AuditEvent.id.in_([event_id for event_id, _ in values])
                ).execute()
