"""The directory as the portal's pages consult it: the local copy first,
then, when configured, the online source; and the checks step 6 applies.

``FLASK_SIRENE_CHECK`` (true): when a directory is loaded, an unknown SIRET
and a closed establishment are refused. With no directory loaded (a fresh
database) the pages behave as without one: format checks only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from sirene import lookup
from sirene.lookup import Establishment

UNKNOWN = "Ce SIRET est inconnu du répertoire SIRENE de l'INSEE."
CLOSED = "Cet établissement est fermé selon l'INSEE."
NO_DIRECTORY = (
    "Le répertoire SIRENE de l'INSEE n'est pas chargé sur ce portail : saisissez vous-même la raison "
    "sociale et l'adresse."
)


@dataclass(frozen=True)
class Answer:
    entry: Establishment | None
    available: bool  # a directory (local or online) could answer
    checked_at: datetime | None = None  # when the data were taken from INSEE's files or the API
    source: str = ""  # "local" or "api"
    problem: str | None = None  # why the online source could not answer

    def refusal(self) -> str | None:
        """The message refusing this SIRET at step 6, if it must be refused."""
        if not (self.available and current_app.config.get("SIRENE_CHECK", True)):
            return None
        if self.entry is None:
            return None if self.problem else UNKNOWN
        return None if self.entry.active else CLOSED


def is_available() -> bool:
    return lookup.is_loaded() or bool(current_app.config.get("SIRENE_API_URL"))


def consult(siret: str) -> Answer:
    """What the directory knows of that SIRET (14 digits)."""
    load = lookup.last_load("establishments")
    if load is not None:
        entry = lookup.find(siret)
        if entry is not None:
            return Answer(entry=entry, available=True, checked_at=load.finished_at, source="local")
    if current_app.config.get("SIRENE_API_URL"):
        from sirene import api

        return api.consult(siret, local_loaded=load is not None)
    return Answer(entry=None, available=load is not None, checked_at=load.finished_at if load else None)


def local_check(siret: str) -> Answer | None:
    """The local copy only (pages that list structures must not wait on the
    network): None when no directory is loaded."""
    load = lookup.last_load("establishments")
    if load is None:
        return None
    return Answer(entry=lookup.find(siret), available=True, checked_at=load.finished_at, source="local")


def closed(sirets: list[str]) -> set[str]:
    """Those SIRETs that the loaded directory says are closed."""
    if not lookup.is_loaded():
        return set()
    return {siret for siret in sirets if (entry := lookup.find(siret)) is not None and not entry.active}
