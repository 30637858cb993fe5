"""The « Déclaration d'accessibilité »: its figures come from docs/rgaa/, it
is linked from every page's footer, served as a page and as a fragment."""

from __future__ import annotations

import csv
import re
from datetime import date

from accessibility import NON_CONFORME, RGAA, STATUSES, Audit, load_audit
from tests.support.i18n import speak
from tests.support.responses import is_fragment, text_of

PATH = "/declaration-accessibilite"


def test_the_grid_has_the_106_criteria_of_rgaa_4_1_each_with_a_status_and_a_reason():
    with open(RGAA / "grille.csv", encoding="utf-8", newline="") as grid:
        rows = list(csv.DictReader(grid))
    assert len(rows) == 106 and len({r["critere"] for r in rows}) == 106
    assert all(r["statut"] in STATUSES and r["justification"].strip() for r in rows)


def test_the_statement_shows_the_rate_computed_from_the_grid(any_client):
    audit = load_audit()
    text = text_of(any_client.get(PATH))
    rate = f"{audit.rate:.1f}".replace(".", ",")
    assert f"<strong>{rate} %</strong>" in text and f"<strong>{audit.state}</strong>" in text
    assert f"{audit.count('conforme')} critères conformes" in text
    for criterion in audit.failures:
        assert f"Critère {criterion.number} " in text
    assert "Défenseur des droits" in text and "Voies de recours" in text
    assert "Pages du site ayant fait l'objet de la vérification" in text


def test_the_statement_is_a_fragment_under_htmx_and_a_page_without(client, htmx_client):
    assert is_fragment(htmx_client.get(PATH))
    response = client.get(PATH)
    page = text_of(response)
    assert not is_fragment(response) and "<h1>Déclaration d'accessibilité</h1>" in page


def test_every_page_links_the_statement_from_its_footer(client):
    for path in ("/", "/connexion", "/inscription/", PATH):
        footer = text_of(client.get(path)).split('<footer class="site-footer">')[1]
        assert f'<a href="{PATH}">Déclaration d\'accessibilité</a>' in footer, path


def test_the_rate_counts_only_applicable_criteria(tmp_path):
    (tmp_path / "audit.json").write_text("{}", encoding="utf-8")
    (tmp_path / "grille.csv").write_text(
        "critere,thematique,statut,justification\n1.1,Images,conforme,a\n1.2,Images,non applicable,b\n"
        f"1.3,Images,{NON_CONFORME},c\n1.4,Images,conforme,d\n",
        encoding="utf-8",
    )
    audit = load_audit(tmp_path)
    assert round(audit.rate, 1) == 66.7 and audit.state == "partiellement conforme"


def test_the_readable_grid_matches_the_grid():
    from docs.rgaa.render import render

    assert (RGAA / "README.md").read_text(encoding="utf-8") == render(), "run: python -m docs.rgaa.render"


# -- the site map (RGAA 12.1, 12.3, 12.4) ---------------------------------------------------------

SITE_MAP = "/plan-du-site"


def test_every_page_links_the_site_map_from_its_footer(client):
    for path in ("/", "/connexion", "/inscription/", PATH, SITE_MAP):
        footer = text_of(client.get(path)).split('<footer class="site-footer">')[1]
        assert f'<a href="{SITE_MAP}">Plan du site</a>' in footer, path


def test_the_site_map_is_a_fragment_under_htmx_and_a_page_without(client, htmx_client):
    assert is_fragment(htmx_client.get(SITE_MAP))
    response = client.get(SITE_MAP)
    assert not is_fragment(response) and "<h1>Plan du site</h1>" in text_of(response)


def _links(response) -> set[str]:
    main = text_of(response).split('id="main"')[1].split("</main>")[0]
    return set(re.findall(r'<a href="([^"]+)"', main))


def test_the_site_map_leads_a_visitor_to_every_page_they_may_open(client):
    links = _links(client.get(SITE_MAP))
    assert {"/", "/inscription/", "/connexion", "/mot-de-passe-oublie/", "/inscription/renvoyer"} <= links
    assert {PATH, "/conditions", "/mentions-legales"} <= links
    assert "/espace/" not in links and "/mon-compte/" not in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_the_site_map_of_a_signed_in_account_leads_to_its_own_pages(client, signup):
    signup.create_account()
    signup.activate()
    links = _links(client.get(SITE_MAP))
    assert {"/espace/", "/mon-compte/", "/mon-compte/donnees", "/structure/nouvelle"} <= links
    assert "/connexion" not in links and "/inscription/" not in links
    # Neither « Approbations » (no structure managed) nor « Administration » (no operator).
    assert "/approbations/" not in links and "/administration/" not in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_in_english_the_statement_says_its_date_in_english(client):
    """audit.json writes « 30 novembre 2026 »: an English page says « 30 November 2026 »."""
    speak(client, "en", PATH)
    day = load_audit().day
    assert day is not None
    text = text_of(client.get(PATH))
    assert f"This statement was drawn up on {day.day} {day:%B} {day.year}." in text
    assert not re.search(r"drawn up on <span lang=\"fr\">", text)
    speak(client, "fr", PATH)
    written = load_audit().details["date"]
    assert f"<p>Cette déclaration a été établie le {written}." in text_of(client.get(PATH))


def test_an_audit_date_that_is_not_one_is_shown_as_written():
    dates = {"30 novembre 2026": date(2026, 11, 30), "1er mars 2025": date(2025, 3, 1)}
    for written in (*dates, "31 février 2026", "novembre 2026", "30 November 2026"):
        assert Audit([], {"date": written}).day == dates.get(written)


def test_the_statement_names_the_portal_as_it_is_configured(app, any_client):
    """An organisation that names its portal (FLASK_PORTAL_NAME) has its
    statement speak of that portal, in each of its sentences that names it."""
    app.config["PORTAL_NAME"] = "Portail Factures de Rennes"
    text = text_of(any_client.get(PATH))
    assert "Portail Factures de Rennes s'engage à rendre ses services accessibles" in text
    assert "s'applique au site Portail Factures de Rennes :" in text
    assert "Portail Factures de Rennes est <strong>" in text
    assert "contacter le responsable du site Portail Factures de Rennes pour" in text
    assert "Portail Structures" not in text.split("<main", 1)[-1]
    english = text_of(any_client.get(PATH, headers={"Accept-Language": "en"}))
    assert "Portail Factures de Rennes is committed to making its services accessible" in english


def test_in_english_the_pages_checked_are_named_in_english_where_the_catalogue_names_them(client):
    """The audit names them in French; a page's title the catalogue translates
    reads in English, the others stay French, marked so."""
    speak(client, "en", PATH)
    text = text_of(client.get(PATH))
    # The name in English; its address, French words, marked as such.
    assert '<li>Home (<span lang="fr">/</span>)</li>' in text
    assert '<li>Create a new structure (<span lang="fr">/structure/nouvelle</span>)</li>' in text
    assert '<li>Captcha (<span lang="fr">/inscription/captcha</span>)</li>' in text  # not marked French
    assert '<span lang="fr">Choix de la structure (/structure/)</span>' in text
    speak(client, "fr", PATH)
    french = text_of(client.get(PATH))
    assert "Accueil (/)" in french and "Home (/)" not in french
