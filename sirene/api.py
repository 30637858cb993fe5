"""The optional online source (``FLASK_SIRENE_API_URL``): the State's open
company search, recherche-entreprises (``GET /search?q=<siret>``), asked
for a SIRET missing from the local copy.

Answers are cached (``FLASK_SIRENE_API_CACHE_SECONDS``); each request waits
at most ``FLASK_SIRENE_API_TIMEOUT`` seconds; after
``FLASK_SIRENE_API_FAILURES_BEFORE_PAUSE`` failures in a row the source is
left alone for ``FLASK_SIRENE_API_PAUSE_SECONDS`` (a circuit breaker), so a
slow or dead API never slows step 6 down for long. When it cannot answer,
the person types the data by hand and is told why.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app

from models import utcnow
from sirene import lookup
from sirene.directory import N_, TOO_MANY, Answer

# French, cached in answers; shown translated (Answer.problem_text).
UNAVAILABLE = N_(
    "Le service en ligne de l'INSEE ne répond pas pour le moment : saisissez vous-même la raison sociale "
    "et l'adresse de la structure."
)
CACHE_SIZE = 10_000
MAX_ANSWER_BYTES = 2 * 1024 * 1024


class SourceError(Exception):
    pass


@dataclass
class _State:
    """Per app: the cache and the breaker, shared by the worker's threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: OrderedDict = field(default_factory=OrderedDict)  # siret -> (expires, Answer)
    failures: int = 0
    paused_until: float = 0.0
    requests: int = 0


def _state() -> _State:
    return current_app.extensions.setdefault("sirene_api", _State())


def consult(siret: str, local_loaded: bool, allowed: Callable[[], bool] | None = None) -> Answer:
    """The source's answer for ``siret``: cached, or asked when ``allowed()``
    (a request's share of the source, counted only when it is asked)."""
    config, state, now = current_app.config, _state(), time.monotonic()
    with state.lock:
        cached = state.cache.get(siret)
        if cached and cached[0] > now:
            state.cache.move_to_end(siret)
            return cached[1]
        if state.paused_until > now:
            return Answer(entry=None, available=local_loaded, problem=UNAVAILABLE)
    if allowed is not None and not allowed():
        return Answer(entry=None, available=local_loaded, problem=TOO_MANY)
    with state.lock:
        state.requests += 1
    try:
        entry = _ask(config["SIRENE_API_URL"], siret, float(config.get("SIRENE_API_TIMEOUT") or 2))
    except SourceError:
        with state.lock:
            state.failures += 1
            if state.failures >= int(config.get("SIRENE_API_FAILURES_BEFORE_PAUSE") or 3):
                state.paused_until = time.monotonic() + float(config.get("SIRENE_API_PAUSE_SECONDS") or 60)
                state.failures = 0
        current_app.logger.warning("SIRENE online source unavailable for a lookup")
        return Answer(entry=None, available=local_loaded, problem=UNAVAILABLE)
    answer = Answer(entry=entry, available=True, checked_at=utcnow(), source="api")
    with state.lock:
        state.failures = 0
        state.cache[siret] = (time.monotonic() + float(config.get("SIRENE_API_CACHE_SECONDS") or 0), answer)
        while len(state.cache) > CACHE_SIZE:
            state.cache.popitem(last=False)
    return answer


def _ask(base_url: str, siret: str, timeout: float) -> lookup.Establishment | None:
    url = base_url.rstrip("/") + "/search?" + urllib.parse.urlencode({"q": siret})
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - operator's URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_ANSWER_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:  # HTTP errors, timeouts, refused
        raise SourceError(str(error)) from error
    if len(body) > MAX_ANSWER_BYTES:
        raise SourceError("answer too large")
    try:
        return find_in(json.loads(body), siret)
    except (ValueError, TypeError, AttributeError, KeyError) as error:
        raise SourceError(f"unexpected answer: {error}") from error


def find_in(answer: dict, siret: str) -> lookup.Establishment | None:
    """The establishment with that SIRET in a recherche-entreprises answer."""
    for result in answer.get("results") or []:
        places = [result.get("siege") or {}, *(result.get("matching_etablissements") or [])]
        for place in places:
            if str(place.get("siret") or "") == siret:
                return _establishment(result, place, siret)
    return None


# How the online source marks a field it masks (a partially diffusible unit
# or establishment): absent, as INSEE's files' « [ND] » is.
MASKED = re.compile(r"\[\s*(?:ND|NON[\s-]*DIFFUSIBLES?)\s*\]", re.IGNORECASE)


def _text(value) -> str | None:
    if value is None:
        return None
    value = str(value)
    return None if MASKED.fullmatch(value.strip()) else value


def _diffusion(status) -> str | None:
    """INSEE's « statut de diffusion »: « O » diffusible; any other status
    (« P » partially, « N » not) masks the person's details, as the files'
    « P » does."""
    return None if status is None or str(status).strip().upper() == "O" else "P"


def _establishment(result: dict, place: dict, siret: str) -> lookup.Establishment:
    e = {
        "state": _text(place.get("etat_administratif")),
        "head_office": "true" if (result.get("siege") or {}).get("siret") == siret else "false",
        "sign": _text((place.get("liste_enseignes") or [None])[0]),
        "street_number": _text(place.get("numero_voie")),
        "repetition": _text(place.get("indice_repetition")),
        "street_type": _text(place.get("type_voie")),
        "street_name": _text(place.get("libelle_voie")),
        "complement": _text(place.get("complement_adresse")),
        "postal_code": _text(place.get("code_postal")),
        "city": _text(place.get("libelle_commune")),
        "city_code": _text(place.get("commune")),
        "foreign_city": _text(place.get("libelle_commune_etranger")),
        "country_name": _text(place.get("libelle_pays_etranger")),
        "diffusion": _diffusion(place.get("statut_diffusion")),
    }
    name = _text(result.get("nom_raison_sociale")) or _text(result.get("nom_complet"))
    unit = {"denomination": name, "diffusion": _diffusion(result.get("statut_diffusion"))}
    return lookup.build(siret, e, unit, legal_unit_known=bool(name))
