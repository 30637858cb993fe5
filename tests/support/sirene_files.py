"""INSEE-shaped stock files for the tests: the real header lines (in the
order INSEE publishes them) and rows written as INSEE writes them."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

_ESTABLISHMENT_COLUMNS = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,"
    "anneeEffectifsEtablissement,activitePrincipaleRegistreMetiersEtablissement,"
    "dateDernierTraitementEtablissement,etablissementSiege,nombrePeriodesEtablissement,"
    "complementAdresseEtablissement,numeroVoieEtablissement,indiceRepetitionEtablissement,"
    "dernierNumeroVoieEtablissement,indiceRepetitionDernierNumeroVoieEtablissement,typeVoieEtablissement,"
    "libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,"
    "libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,codeCommuneEtablissement,"
    "codeCedexEtablissement,libelleCedexEtablissement,codePaysEtrangerEtablissement,"
    "libellePaysEtrangerEtablissement,identifiantAdresseEtablissement,coordonneeLambertAbscisseEtablissement,"
    "coordonneeLambertOrdonneeEtablissement,complementAdresse2Etablissement,numeroVoie2Etablissement,"
    "indiceRepetition2Etablissement,typeVoie2Etablissement,libelleVoie2Etablissement,codePostal2Etablissement,"
    "libelleCommune2Etablissement,libelleCommuneEtranger2Etablissement,distributionSpeciale2Etablissement,"
    "codeCommune2Etablissement,codeCedex2Etablissement,libelleCedex2Etablissement,"
    "codePaysEtranger2Etablissement,libellePaysEtranger2Etablissement,dateDebut,"
    "etatAdministratifEtablissement,enseigne1Etablissement,enseigne2Etablissement,enseigne3Etablissement,"
    "denominationUsuelleEtablissement,activitePrincipaleEtablissement,"
    "nomenclatureActivitePrincipaleEtablissement,caractereEmployeurEtablissement"
)
ESTABLISHMENT_HEADER = _ESTABLISHMENT_COLUMNS.split(",")

_LEGAL_UNIT_COLUMNS = (
    "siren,statutDiffusionUniteLegale,unitePurgeeUniteLegale,dateCreationUniteLegale,sigleUniteLegale,"
    "sexeUniteLegale,prenom1UniteLegale,prenom2UniteLegale,prenom3UniteLegale,prenom4UniteLegale,"
    "prenomUsuelUniteLegale,pseudonymeUniteLegale,identifiantAssociationUniteLegale,"
    "trancheEffectifsUniteLegale,anneeEffectifsUniteLegale,dateDernierTraitementUniteLegale,"
    "nombrePeriodesUniteLegale,categorieEntreprise,anneeCategorieEntreprise,dateDebut,"
    "etatAdministratifUniteLegale,nomUniteLegale,nomUsageUniteLegale,denominationUniteLegale,"
    "denominationUsuelle1UniteLegale,denominationUsuelle2UniteLegale,denominationUsuelle3UniteLegale,"
    "categorieJuridiqueUniteLegale,activitePrincipaleUniteLegale,nomenclatureActivitePrincipaleUniteLegale,"
    "nicSiegeUniteLegale,economieSocialeSolidaireUniteLegale,societeMissionUniteLegale,"
    "caractereEmployeurUniteLegale"
)
LEGAL_UNIT_HEADER = _LEGAL_UNIT_COLUMNS.split(",")

ESTABLISHMENT_DEFAULTS = {
    "statutDiffusionEtablissement": "O",
    "dateCreationEtablissement": "2001-03-15",
    "dateDernierTraitementEtablissement": "2024-03-22T10:01:55",
    "etablissementSiege": "true",
    "nombrePeriodesEtablissement": "2",
    "dateDebut": "2001-03-15",
    "etatAdministratifEtablissement": "A",
    "activitePrincipaleEtablissement": "62.01Z",
    "nomenclatureActivitePrincipaleEtablissement": "NAFRev2",
    "caractereEmployeurEtablissement": "N",
}
LEGAL_UNIT_DEFAULTS = {
    "statutDiffusionUniteLegale": "O",
    "dateCreationUniteLegale": "2001-03-15",
    "dateDernierTraitementUniteLegale": "2024-03-22T10:01:55",
    "nombrePeriodesUniteLegale": "3",
    "dateDebut": "2001-03-15",
    "etatAdministratifUniteLegale": "A",
    "categorieJuridiqueUniteLegale": "5710",
    "caractereEmployeurUniteLegale": "N",
}


def establishment(siret: str, **values: str) -> dict:
    return {**ESTABLISHMENT_DEFAULTS, "siren": siret[:9], "nic": siret[9:], "siret": siret, **values}


# An address in Paris, as INSEE writes it (« 12 Boulevard HAUSSMANN » once decoded).
HAUSSMANN = {
    "numeroVoieEtablissement": "12",
    "typeVoieEtablissement": "BD",
    "libelleVoieEtablissement": "HAUSSMANN",
    "codePostalEtablissement": "75009",
    "libelleCommuneEtablissement": "PARIS 9",
    "codeCommuneEtablissement": "75109",
}


def legal_unit(siren: str, **values: str) -> dict:
    return {**LEGAL_UNIT_DEFAULTS, "siren": siren, **values}


def csv_text(header: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()


def write(path: Path, header: list[str], rows: list[dict], as_zip: bool = False) -> Path:
    text = csv_text(header, rows)
    if as_zip:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(path.stem + ".csv", text)
    else:
        path.write_text(text, encoding="utf-8")
    return path
