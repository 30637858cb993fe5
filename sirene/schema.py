"""INSEE's stock files: the columns kept, by name, and the codes decoded.

Each kind of file maps the INSEE column names to the columns of the
portal's table, in table order. Values are stored as INSEE writes them
(``[ND]`` included), all but the key packed in one ``record`` column,
joined by SEPARATOR: the load does no per-row work in Python and binds two
values per row instead of twenty, which is most of its cost on SQLite.
``lookup`` unpacks and decodes them.
"""

from __future__ import annotations

from dataclasses import dataclass

ND = "[ND]"  # INSEE's mark of a masked field (partially diffusible units)
# ASCII unit separator, between the fields of a record. Never inside a field:
# the reader removes every control character from the file (sirene.reader.Cleaned).
SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Kind:
    name: str  # "establishments" or "legal_units"
    table: str  # the live table
    key: str  # the primary key column (an integer: SIRET or SIREN)
    columns: tuple[tuple[str, str], ...]  # (INSEE column, table column), key first
    label: str  # for people

    @property
    def digits(self) -> int:
        """How many digits the key has: a SIRET 14, a SIREN 9."""
        return 14 if self.key == "siret" else 9

    @property
    def insee_columns(self) -> tuple[str, ...]:
        return tuple(insee for insee, _ in self.columns)

    @property
    def record_fields(self) -> tuple[str, ...]:
        """The names of the fields packed in ``record``, in order."""
        return tuple(column for _, column in self.columns[1:])

    def unpack(self, record: str | None) -> dict[str, str | None]:
        values = record.split(SEPARATOR) if record is not None else []
        values += [""] * (len(self.record_fields) - len(values))
        return dict(zip(self.record_fields, values, strict=False))


ESTABLISHMENTS = Kind(
    name="establishments",
    table="sirene_establishment",
    key="siret",
    label="établissements (StockEtablissement)",
    columns=(
        ("siret", "siret"),
        ("statutDiffusionEtablissement", "diffusion"),
        ("etatAdministratifEtablissement", "state"),
        ("etablissementSiege", "head_office"),
        ("enseigne1Etablissement", "sign"),
        ("denominationUsuelleEtablissement", "usual_name"),
        ("numeroVoieEtablissement", "street_number"),
        ("indiceRepetitionEtablissement", "repetition"),
        ("typeVoieEtablissement", "street_type"),
        ("libelleVoieEtablissement", "street_name"),
        ("complementAdresseEtablissement", "complement"),
        ("codePostalEtablissement", "postal_code"),
        ("libelleCommuneEtablissement", "city"),
        ("codeCommuneEtablissement", "city_code"),
        ("distributionSpecialeEtablissement", "special_distribution"),
        ("codeCedexEtablissement", "cedex_code"),
        ("libelleCedexEtablissement", "cedex_label"),
        ("libelleCommuneEtrangerEtablissement", "foreign_city"),
        ("codePaysEtrangerEtablissement", "country_code"),
        ("libellePaysEtrangerEtablissement", "country_name"),
    ),
)

LEGAL_UNITS = Kind(
    name="legal_units",
    table="sirene_legal_unit",
    key="siren",
    label="unités légales (StockUniteLegale)",
    columns=(
        ("siren", "siren"),
        ("statutDiffusionUniteLegale", "diffusion"),
        ("etatAdministratifUniteLegale", "state"),
        ("denominationUniteLegale", "denomination"),
        ("prenomUsuelUniteLegale", "usual_first_name"),
        ("prenom1UniteLegale", "first_name"),
        ("nomUsageUniteLegale", "usage_name"),
        ("nomUniteLegale", "last_name"),
    ),
)

KINDS = (ESTABLISHMENTS, LEGAL_UNITS)


def kind_of(header: list[str]) -> Kind | None:
    """Which stock file a header line belongs to, whatever its other columns."""
    names = set(header)
    if "siret" in names:
        return ESTABLISHMENTS
    if "siren" in names and any(name.endswith("UniteLegale") for name in names):
        return LEGAL_UNITS
    return None


# INSEE's codes of the type of street (typeVoieEtablissement).
STREET_TYPES = {
    "ALL": "Allée",
    "AV": "Avenue",
    "BD": "Boulevard",
    "BRG": "Bourg",
    "CAR": "Carrefour",
    "CHE": "Chemin",
    "CHS": "Chaussée",
    "CITE": "Cité",
    "CLOS": "Clos",
    "COR": "Corniche",
    "CRS": "Cours",
    "DOM": "Domaine",
    "DSC": "Descente",
    "ECA": "Écart",
    "ESP": "Esplanade",
    "FG": "Faubourg",
    "GR": "Grande Rue",
    "HAM": "Hameau",
    "HLE": "Halle",
    "IMP": "Impasse",
    "LD": "Lieu-dit",
    "LOT": "Lotissement",
    "MAR": "Marché",
    "MTE": "Montée",
    "PARC": "Parc",
    "PAS": "Passage",
    "PL": "Place",
    "PLN": "Plaine",
    "PLT": "Plateau",
    "PRO": "Promenade",
    "PRV": "Parvis",
    "QUA": "Quartier",
    "QUAI": "Quai",
    "RES": "Résidence",
    "RLE": "Ruelle",
    "ROC": "Rocade",
    "RPT": "Rond-point",
    "RTE": "Route",
    "RUE": "Rue",
    "SEN": "Sentier",
    "SQ": "Square",
    "TPL": "Terre-plein",
    "TRA": "Traverse",
    "VLA": "Villa",
    "VLGE": "Village",
    "VOIE": "Voie",
    "ZA": "Zone d'activité",
    "ZAC": "Zone d'aménagement concerté",
    "ZI": "Zone industrielle",
}

# INSEE's repetition indexes (indiceRepetitionEtablissement).
REPETITIONS = {"B": "bis", "T": "ter", "Q": "quater", "C": "quinquies"}

# Overseas: the first three digits of the commune's code -> ISO 3166 alpha-2.
OVERSEAS = {
    "971": "GP",
    "972": "MQ",
    "973": "GF",
    "974": "RE",
    "975": "PM",
    "976": "YT",
    "977": "BL",
    "978": "MF",
    "986": "WF",
    "987": "PF",
    "988": "NC",
}
