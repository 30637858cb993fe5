"""Writes docs/rgaa/README.md from grille.csv (the grid is the source):
python -m docs.rgaa.render  — tests/test_accessibility_statement.py checks
the Markdown matches the grid."""

from __future__ import annotations

from accessibility import CONFORME, NON_APPLICABLE, NON_CONFORME, RGAA, load_audit

HEADER = """# Audit RGAA 4.1 du parcours

La grille est `grille.csv` (une ligne par critère : critère, thématique,
statut « conforme », « non conforme » ou « non applicable », justification) ;
`audit.json` donne la date, les outils et les pages auditées. La page
« Déclaration d'accessibilité » (`/declaration-accessibilite`) lit ces deux
fichiers à chaque requête. Ce fichier est produit par `python -m docs.rgaa.render`.

Contrôles automatiques, à chaque `make test`, sur chaque page et état d'erreur
visités par les tests navigateur (JavaScript activé et désactivé) : axe-core
(WCAG 2.1 A/AA), HTML_CodeSniffer (WCAG2AA), vérificateur HTML du W3C (Nu) ;
dans Chromium, largeur de 320 px, texte à 200 %, espacement du texte et
contraste des indicateurs de focus (`tests/browser/test_reflow.py`).
"""


def render() -> str:
    audit = load_audit()
    lines = [HEADER]
    lines.append(
        f"**Taux de conformité : {audit.rate:.1f} %** ({audit.state}) — {audit.count(CONFORME)} conformes, "
        f"{audit.count(NON_CONFORME)} non conforme(s), {audit.count(NON_APPLICABLE)} non applicables.\n"
    )
    theme = None
    for criterion in audit.criteria:
        if criterion.theme != theme:
            theme = criterion.theme
            lines.append(f"\n## {theme}\n\n| Critère | Statut | Justification |\n|---|---|---|")
        lines.append(f"| {criterion.number} | {criterion.status} | {criterion.reason} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    (RGAA / "README.md").write_text(render(), encoding="utf-8")
