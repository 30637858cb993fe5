"""« Faire confiance à cet appareil pendant 30 jours »: this browser's entry
in the device cookie (devices.py) carries a trust until a date. The entry is
bound to the account's session epoch, so a password change or « Se
déconnecter partout » revokes the trust; a plain « Se déconnecter » keeps it."""

from __future__ import annotations

from datetime import timedelta

import devices
from models import User

TRUST_FOR = timedelta(days=30)


def is_trusted(user: User) -> bool:
    return devices.is_trusted(user)


def trust(user: User) -> None:
    """This browser skips ``user``'s second factor for TRUST_FOR (call after
    signing in)."""
    devices.remember(user, trust_for=TRUST_FOR)
