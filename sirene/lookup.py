"""What the portal asks the directory: an establishment by SIRET (with its
legal unit's name), the establishments of a SIREN, and what is loaded.

INSEE's raw values are decoded here: ``[ND]`` (masked) counts as absent,
street types are spelt out, the country is given as ISO 3166 alpha-2.
"""

from __future__ import annotations

import gettext
import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from models import SireneImport, db
from rules import text
from rules.places import postal_city
from sirene.schema import ESTABLISHMENTS, LEGAL_UNITS, ND, OVERSEAS, REPETITIONS, STREET_TYPES
from statements import Prepared, slot

ADDRESS_LENGTH = 38  # Structure.address
NAME_LENGTH = 100  # Structure.company_name and label
POSTAL_CODE_LENGTH = 10  # Structure.postal_code


@dataclass(frozen=True)
class Establishment:
    siret: str
    siren: str
    active: bool  # etatAdministratifEtablissement A
    diffusible: bool  # neither the establishment nor its legal unit partially diffusible
    head_office: bool
    company_name: str | None  # the legal unit's name; None if not imported or masked
    label: str | None  # enseigne, else the usual name
    address: str | None
    address_2: str | None
    address_3: str | None
    postal_code: str | None
    city: str | None
    country: str  # ISO 3166 alpha-2
    legal_unit_known: bool


@dataclass(frozen=True)
class Load:
    kind: str
    files: dict
    rows: int
    started_at: datetime
    finished_at: datetime


# Control characters (C0, DEL, C1) and invisible format ones (bidi
# overrides, zero-width, line separators): the importer keeps them out of
# the local copy (sirene.reader.Cleaned); the online source's answers, and a
# copy loaded before that, are cleaned here. A line break or tab: a space.
_CONTROLS = {
    **dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)]),
    **dict.fromkeys([*range(0x200B, 0x2010), *range(0x2028, 0x202F), *range(0x2060, 0x2065)]),
    **dict.fromkeys([*range(0x2066, 0x206A), 0xFEFF]),
    **dict.fromkeys(map(ord, "\t\n\r"), " "),
}


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.isprintable():  # a cheap test: INSEE's values are
        value = value.translate(_CONTROLS)
    if not value.isascii():  # what step 6's fields refuse (rules.text): fillers, selectors, marks
        value = "".join(c for c in value if not text.refused(c))
    value = value.strip()
    return None if not value or value == ND else value


# Names from sirene.schema only; values are always bound parameters.
_SELECT = (
    f"SELECT e.siret, e.record, u.siren, u.record FROM {ESTABLISHMENTS.table} e "  # noqa: S608
    f"LEFT JOIN {LEGAL_UNITS.table} u ON u.siren = e.siret / 100000 "
)


def find(siret: str) -> Establishment | None:
    """The establishment with that SIRET (14 digits), or None."""
    if len(siret) != 14 or not siret.isdigit():
        return None
    row = db.execute_sql(_SELECT + f"WHERE e.siret = {db.param}", (int(siret),)).fetchone()
    return _decode(row) if row else None


def of_siren(siren: str, limit: int = 50) -> list[Establishment]:
    """Establishments of a legal unit, head office first."""
    if len(siren) != 9 or not siren.isdigit():
        return []
    low = int(siren) * 100000
    sql = _SELECT + f"WHERE e.siret BETWEEN {db.param} AND {db.param} ORDER BY e.siret LIMIT {int(limit)}"
    found = [_decode(row) for row in db.execute_sql(sql, (low, low + 99999)).fetchall()]
    return sorted(found, key=lambda entry: not entry.head_office)


def _decode(row) -> Establishment:
    siret_number, record, siren_number, unit_record = row
    e = {name: _clean(value) for name, value in ESTABLISHMENTS.unpack(record).items()}
    u = {name: _clean(value) for name, value in LEGAL_UNITS.unpack(unit_record).items()}
    return build(f"{int(siret_number):014d}", e, u, legal_unit_known=siren_number is not None)


def build(siret: str, e: dict, u: dict, legal_unit_known: bool) -> Establishment:
    """An establishment from INSEE's fields (names of ``sirene.schema``),
    whether from the local copy or the online source."""
    e = {name: _clean(e.get(name)) for name in ESTABLISHMENTS.record_fields}
    u = {name: _clean(u.get(name)) for name in LEGAL_UNITS.record_fields}
    country = _country(e)
    city, postal_code = e["city"], e["postal_code"]
    if e["cedex_code"]:
        postal_code, city = e["cedex_code"], e["cedex_label"] or city
    if country not in OVERSEAS.values() and country != "FR":
        city = e["foreign_city"] or city
    return Establishment(
        siret=siret,
        siren=siret[:9],
        active=e["state"] != "F",
        diffusible=e["diffusion"] != "P" and u["diffusion"] != "P",
        head_office=(e["head_office"] or "").lower() in ("true", "1", "o", "oui"),
        company_name=_fit(legal_name(u), NAME_LENGTH),
        label=_fit(e["sign"] or e["usual_name"], NAME_LENGTH),
        address=street(e),
        address_2=_fit(e["complement"]),
        address_3=_fit(e["special_distribution"]),
        postal_code=_fit(postal_code, POSTAL_CODE_LENGTH),
        city=_city(city),
        country=country,
        legal_unit_known=legal_unit_known,
    )


def legal_name(unit: dict) -> str | None:
    """The denomination, or for a sole trader the first name and the name
    in use."""
    if unit.get("denomination"):
        return unit["denomination"]
    first = unit.get("usual_first_name") or unit.get("first_name")
    last = unit.get("usage_name") or unit.get("last_name")
    return " ".join(part for part in (first, last) if part) or None


def _fit(value: str | None, length: int = ADDRESS_LENGTH) -> str | None:
    """Cut to what the structure's field holds: a value of thousands of
    characters (a crafted file) is shown and filled in at its field's size."""
    return value[:length].rstrip() if value else value


def _city(value: str | None) -> str | None:
    """The commune, shortened as La Poste does when it is longer than the
    address line. One still too long (« ST-REMY-EN-BOUZEMONT-ST-GENEST-ET-
    ISSON », 39) is filled whole, up to the size of a name: step 6 then says
    how to shorten it, where a cut would have filled another name, unseen."""
    return _fit(postal_city(value), NAME_LENGTH) if value else value


def street(e: dict) -> str | None:
    """« 12 bis Boulevard Haussmann »; INSEE's short code when the spelt-out
    form would not fit the address line."""
    code = e.get("street_type")
    repetition = e.get("repetition")
    spelt = REPETITIONS.get(repetition or "", repetition)
    number = " ".join(part for part in (e.get("street_number"), spelt) if part)
    for street_type in (STREET_TYPES.get(code or "", code), code):
        line = " ".join(part for part in (number, street_type, e.get("street_name")) if part)
        if len(line) <= ADDRESS_LENGTH:
            return line or None
    return _fit(line)


def _country(e: dict) -> str:
    if e.get("country_code") or e.get("foreign_city"):
        return _country_by_name(e.get("country_name") or "") or "ZZ"
    return OVERSEAS.get((e.get("city_code") or e.get("postal_code") or "")[:3], "FR")


def _fold(name: str) -> str:
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(name.upper().replace("-", " ").replace("'", " ").split())


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    import pycountry

    translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    names = {}
    for country in pycountry.countries:
        for name in (country.name, translation.gettext(country.name), getattr(country, "common_name", "")):
            if name:
                names[_fold(name)] = country.alpha_2
    return names


def _country_by_name(name: str) -> str | None:
    return _countries().get(_fold(name))


def last_load(kind: str) -> Load | None:
    entry = SireneImport.latest(kind)
    if entry is None:
        return None
    return Load(
        kind=entry.kind,
        files=json.loads(entry.files),
        rows=entry.rows,
        started_at=entry.started_at,
        finished_at=entry.finished_at,
    )


def loaded_at(kind: str) -> datetime | None:
    """When the latest import of ``kind`` finished, None when there is none."""
    return SireneImport.latest_finish(kind)


def is_loaded() -> bool:
    """Whether establishments were imported: the checks apply only then."""
    return _ANY_IMPORT.scalar(kind=ESTABLISHMENTS.name) is not None


# Every page of step 6 and « Mon espace » asks it.
_ANY_IMPORT = Prepared(
    lambda: SireneImport.select(SireneImport.id).where(SireneImport.kind == slot("kind")).limit(1)
)
