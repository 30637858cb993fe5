"""Generate INSEE-shaped stock files of any size: the real header lines and
value formats, rows sorted by SIREN as INSEE publishes them."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from tests.support.sirene_files import (
    ESTABLISHMENT_DEFAULTS,
    ESTABLISHMENT_HEADER,
    LEGAL_UNIT_DEFAULTS,
    LEGAL_UNIT_HEADER,
)

STREETS = ["DE LA REPUBLIQUE", "VICTOR HUGO", "JEAN JAURES", "DU GENERAL DE GAULLE", "PASTEUR", "DES LILAS"]
TYPES = ["RUE", "AV", "BD", "PL", "CHE", "IMP", "ALL", "RTE"]
CITIES = [("75009", "PARIS 9", "75109"), ("69003", "LYON 3EME", "69383"), ("33000", "BORDEAUX", "33063")]


def luhn_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (1 if position % 2 else 2)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def sirens(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct SIRENs, ascending: each drawn from its own slice of
    the eight digits before the check digit (as INSEE's, none twice)."""
    rng = random.Random(seed)
    step = 90_000_000 // (count + 1)
    out = []
    for n in range(count):
        base = f"{10_000_000 + n * step + rng.randrange(step):08d}"
        out.append(base + luhn_digit(base))
    return out


def siret_of(siren: str, index: int) -> str:
    nic = f"{(index + 1) * 10:04d}"
    body = siren + nic
    return body + luhn_digit(body)


def generate(directory: Path, establishments: int, legal_units: int, seed: int = 7) -> tuple[Path, Path]:
    """Write StockUniteLegale_utf8.csv and StockEtablissement_utf8.csv."""
    rng = random.Random(seed)
    units = sirens(legal_units, seed)
    directory.mkdir(parents=True, exist_ok=True)
    unit_path = directory / "StockUniteLegale_utf8.csv"
    with unit_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(LEGAL_UNIT_HEADER)
        base = [LEGAL_UNIT_DEFAULTS.get(name, "") for name in LEGAL_UNIT_HEADER]
        name_at = LEGAL_UNIT_HEADER.index("denominationUniteLegale")
        for n, siren in enumerate(units):
            row = base[:]
            row[0] = siren
            row[name_at] = f"SOCIETE {n} SAS"
            writer.writerow(row)
    site_path = directory / "StockEtablissement_utf8.csv"
    per_unit, extra = divmod(establishments, legal_units)
    with site_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ESTABLISHMENT_HEADER)
        base = [ESTABLISHMENT_DEFAULTS.get(name, "") for name in ESTABLISHMENT_HEADER]
        at = {name: i for i, name in enumerate(ESTABLISHMENT_HEADER)}
        for n, siren in enumerate(units):
            for index in range(per_unit + (1 if n < extra else 0)):
                row = base[:]
                siret = siret_of(siren, index)
                postal, city, code = rng.choice(CITIES)
                row[at["siren"]], row[at["nic"]], row[at["siret"]] = siren, siret[9:], siret
                row[at["etablissementSiege"]] = "true" if index == 0 else "false"
                row[at["numeroVoieEtablissement"]] = str(rng.randrange(1, 200))
                row[at["typeVoieEtablissement"]] = rng.choice(TYPES)
                row[at["libelleVoieEtablissement"]] = rng.choice(STREETS)
                row[at["codePostalEtablissement"]] = postal
                row[at["libelleCommuneEtablissement"]] = city
                row[at["codeCommuneEtablissement"]] = code
                row[at["identifiantAdresseEtablissement"]] = f"{code}_{rng.randrange(10000):04d}_{index:05d}"
                row[at["coordonneeLambertAbscisseEtablissement"]] = f"{rng.uniform(100000, 1200000):.1f}"
                row[at["coordonneeLambertOrdonneeEtablissement"]] = f"{rng.uniform(6000000, 7100000):.1f}"
                if rng.random() < 0.1:
                    row[at["etatAdministratifEtablissement"]] = "F"
                writer.writerow(row)
    return unit_path, site_path


def sirets(directory_establishments: int, legal_units: int, seed: int = 7) -> list[str]:
    """The SIRETs ``generate`` writes (for lookups)."""
    per_unit, extra = divmod(directory_establishments, legal_units)
    return [
        siret_of(siren, index)
        for n, siren in enumerate(sirens(legal_units, seed))
        for index in range(per_unit + (1 if n < extra else 0))
    ]
