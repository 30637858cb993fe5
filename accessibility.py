"""The RGAA audit grid of docs/rgaa/, read for the accessibility statement:
counts by status, the conformance rate and the non-compliant criteria. Read
at each request (a small file), so the statement never drifts from the grid."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask_babel import lazy_gettext as _l

RGAA = Path(__file__).resolve().parent / "docs" / "rgaa"
CONFORME, NON_CONFORME, NON_APPLICABLE = "conforme", "non conforme", "non applicable"
STATUSES = (CONFORME, NON_CONFORME, NON_APPLICABLE)
# The statement's wording of the state, as the page says it (the grid and
# docs/rgaa/README.md keep the French words).
TOTALLY, PARTIALLY = "totalement conforme", "partiellement conforme"
# audit.json writes its date in French (« 30 novembre 2026 »).
FRENCH_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
STATE_TEXTS = {
    TOTALLY: _l("totalement conforme"),
    PARTIALLY: _l("partiellement conforme"),
    NON_CONFORME: _l("non conforme"),
}


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
            return TOTALLY
        return PARTIALLY if self.rate >= 50 else NON_CONFORME

    @property
    def state_text(self) -> str:
        """The state in the language of the page."""
        return str(STATE_TEXTS[self.state])

    @property
    def day(self) -> date | None:
        """The audit's date as a date, so that a page in another language
        says it in its own words; None if audit.json's text is not one."""
        match = re.fullmatch(r"(\d{1,2})(?:er)? (\w+) (\d{4})", str(self.details.get("date", "")).strip())
        if not match or match[2].lower() not in FRENCH_MONTHS:
            return None
        try:
            return date(int(match[3]), FRENCH_MONTHS.index(match[2].lower()) + 1, int(match[1]))
        except ValueError:
            return None

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
