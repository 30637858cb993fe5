"""14: when a session was last started for each account (« Dernière
connexion » in « Administration »), kept on the account: the audit trail's
successful password checks counted a sign-in whose second factor then
failed, missed those made by an activation or a reset link, and were gone
once the trail was purged."""

from __future__ import annotations

from peewee import DateTimeField
from playhouse.migrate import SchemaMigrator, migrate

# What the portal knew before this step, each known to end in a session:
# the events that only a started session follows (an account without a
# confirmed second factor signs in with its password alone)...
_FROM_THE_TRAIL = """
UPDATE "user" SET last_signed_in_at = (
    SELECT MAX(e.at) FROM audit_event e
    WHERE e.user_id = "user".id AND e.outcome = 'success' AND (
        e.event IN ('second_factor.used', 'account.activated', 'password.reset')
        OR (e.event = 'auth.sign_in' AND e.details LIKE {param})
        OR (e.event = 'auth.sign_in' AND NOT EXISTS (
            SELECT 1 FROM second_factor f WHERE f.user_id = "user".id AND f.confirmed_at IS NOT NULL
        ))
    )
)
"""
# ... and the sessions still open, when one started later.
_FROM_THE_SESSIONS = """
UPDATE "user" SET last_signed_in_at = (
    SELECT MAX(s.created_at) FROM user_session s WHERE s.user_id = "user".id
)
WHERE EXISTS (
    SELECT 1 FROM user_session s WHERE s.user_id = "user".id
    AND ("user".last_signed_in_at IS NULL OR s.created_at > "user".last_signed_in_at)
)
"""


def upgrade(migrator: SchemaMigrator) -> None:
    migrate(migrator.add_column("user", "last_signed_in_at", DateTimeField(null=True)))
    database = migrator.database
    database.execute_sql(_FROM_THE_TRAIL.format(param=database.param), ('%"method": "passkey"%',))
    database.execute_sql(_FROM_THE_SESSIONS)
