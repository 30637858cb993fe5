"""The RGAA audit grid of docs/rgaa/, read for the accessibility statement:
counts by status, the conformance rate and the non-compliant criteria. Read
at each request (a small file), so the statement never drifts from the grid."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

RGAA = Path(__file__).resolve().parent / "docs" / "rgaa"
CONFORME, NON_CONFORME, NON_APPLICABLE = "conforme", "non conforme", "non applicable"
STATUSES = (CONFORME, NON_CONFORME, NON_APPLICABLE)


@dataclass(frozen=True)
class Criterion:
    number: str
    theme: str
    status: str
    reason: str


@dataclass(frozen=True)
class Audit:
    criteria: list[Criterion]
    details: dict

    def count(self, status: str) -> int:
        return sum(1 for c in self.criteria if c.status == status)

    @property
    def rate(self) -> float:
        """RGAA's rate: conforming criteria over the applicable ones, in %."""
        applicable = self.count(CONFORME) + self.count(NON_CONFORME)
        return 100.0 * self.count(CONFORME) / applicable if applicable else 100.0

    @property
    def state(self) -> str:
        """The statement's wording: totally (100 %), partially (50 % or more) or not conformant."""
        if self.rate >= 100:
            return "totalement conforme"
        return "partiellement conforme" if self.rate >= 50 else "non conforme"

    @property
    def failures(self) -> list[Criterion]:
        return [c for c in self.criteria if c.status == NON_CONFORME]


def load_audit(folder: Path = RGAA) -> Audit:
    with open(folder / "grille.csv", encoding="utf-8", newline="") as grid:
        rows = list(csv.DictReader(grid))
    criteria = [Criterion(r["critere"], r["thematique"], r["statut"], r["justification"]) for r in rows]
    unknown = {c.status for c in criteria} - set(STATUSES)
    if unknown:
        raise ValueError(f"{folder / 'grille.csv'}: unknown status {sorted(unknown)}")
    details = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    return Audit(criteria, details)
