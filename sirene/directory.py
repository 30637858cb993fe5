"""The directory as the portal's pages consult it: the local copy first,
then, when configured, the online source; and the checks step 6 applies.

``FLASK_SIRENE_CHECK`` (true): when a directory is loaded, an unknown SIRET
and a closed establishment are refused. With no directory loaded (a fresh
database) the pages behave as without one: format checks only.

The messages stay French here (answers are cached, whatever the page's
language): ``N_`` marks them for the catalogue, ``Answer.refusal``,
``Answer.problem_text`` and ``notice`` translate them when they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context
from flask_babel import gettext

from sirene import lookup
from sirene.lookup import Establishment


def N_(message: str) -> str:  # noqa: N802 - gettext's name for a mark without translation
    """Marks a message for ``pybabel extract``; it is translated where it is shown."""
    return message


UNKNOWN = N_("Ce SIRET est inconnu du répertoire SIRENE de l'INSEE.")
CLOSED = N_("Cet établissement est fermé selon l'INSEE.")
# The online source asked past this client's or this account's share of it
# (RATELIMIT_SIRENE_LOOKUP): not asked. Under FLASK_SIRENE_CHECK the SIRET is
# refused for now, or running out of one's share would let an unknown
# SIRET through unchecked, as a source down does.
TOO_MANY = N_(
    "Trop de vérifications de SIRET auprès de l'INSEE en peu de temps : réessayez dans un moment. "
    "Ce que vous avez saisi est conservé."
)
NO_DIRECTORY = N_(
    "Le répertoire SIRENE de l'INSEE n'est pas chargé sur ce portail : saisissez vous-même la raison "
    "sociale et l'adresse."
)


@dataclass(frozen=True)
class Answer:
    entry: Establishment | None
    available: bool  # a directory (local or online) could answer
    checked_at: datetime | None = None  # when the data were taken from INSEE's files or the API
    source: str = ""  # "local" or "api"
    problem: str | None = None  # why the online source could not answer (French: see N_)

    def refusal(self) -> str | None:
        """The message refusing this SIRET at step 6, if it must be refused,
        in the page's language."""
        if not current_app.config.get("SIRENE_CHECK", True):
            return None
        if self.problem == TOO_MANY:
            return gettext(TOO_MANY)
        if not self.available:
            return None
        if self.entry is None:
            return None if self.problem else gettext(UNKNOWN)
        return None if self.entry.active else gettext(CLOSED)

    def problem_text(self) -> str | None:
        """Why the online source could not answer, in the page's language."""
        return gettext(self.problem) if self.problem else None


def notice() -> str:
    """What the person is told at step 6 when no directory can answer
    (translated), else ""."""
    return "" if is_available() else gettext(NO_DIRECTORY)


def is_available() -> bool:
    return lookup.is_loaded() or bool(current_app.config.get("SIRENE_API_URL"))


def consult(siret: str) -> Answer:
    """What the directory knows of that SIRET (14 digits)."""
    loaded_at = lookup.loaded_at("establishments")
    if loaded_at is not None:
        entry = lookup.find(siret)
        if entry is not None:
            return Answer(entry=entry, available=True, checked_at=loaded_at, source="local")
    if current_app.config.get("SIRENE_API_URL"):
        from sirene import api

        return api.consult(siret, local_loaded=loaded_at is not None, allowed=_share_of_the_source)
    return Answer(entry=None, available=loaded_at is not None, checked_at=loaded_at)


def _share_of_the_source() -> bool:
    """A page may ask the online source once more for this account
    (``RATELIMIT_SIRENE_LOOKUP``, counted apart from the pages' own limits):
    whatever page asks it (step 6's « Soumettre », its ``?siret=``, the
    look-up as the SIRET is typed, the search), the quota the portal
    shares is not drained by one account. Outside a request (a command),
    always."""
    if not has_request_context():
        return True
    import security  # noqa: PLC0415 - the web layer's limits, only in a request

    return security.online_lookup_allowed()


def local_check(siret: str) -> Answer | None:
    """The local copy only (pages that list structures must not wait on the
    network): None when no directory is loaded."""
    loaded_at = lookup.loaded_at("establishments")
    if loaded_at is None:
        return None
    return Answer(entry=lookup.find(siret), available=True, checked_at=loaded_at, source="local")


def closed(sirets: list[str]) -> set[str]:
    """Those SIRETs that the loaded directory says are closed."""
    if not lookup.is_loaded():
        return set()
    return {siret for siret in sirets if (entry := lookup.find(siret)) is not None and not entry.active}
