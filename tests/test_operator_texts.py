"""The operator's texts: the portal's name, the operating organisation, the
support contact, the survey consent's wording, and the conditions and legal
pages from the operator's files (or their defaults)."""

from __future__ import annotations

import pytest

from forms.registration import SURVEY_CONSENT_LABEL
from tests.support.app import Client, clean_environment, make_app, operator_texts, outbox
from tests.support.i18n import speak
from tests.support.responses import shown, text_of, without_tokens
from tests.support.structures import sign_up

CONSENT = (
    "J'accepte que mon nom et mon adresse soient utilisés par Exemple SA pour l'enquête de satisfaction."
)


def test_defaults_name_the_portal_and_keep_the_flow_s_consent(any_client):
    text = shown(any_client, "/inscription/")
    assert SURVEY_CONSENT_LABEL in text
    assert 'href="/conditions" target="_blank"' in text
    home = text_of(any_client.get("/", headers={"HX-Request": ""}))
    assert "Portail Structures" in home and "Mentions légales / Données personnelles" in home


@pytest.mark.parametrize("url", ["/conditions", "/mentions-legales"])
def test_default_texts_say_they_must_be_replaced(any_client, url):
    text = shown(any_client, url)
    assert "doit le remplacer" in text


@pytest.fixture
def operated(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    operator_texts(tmp_path, monkeypatch)
    monkeypatch.setenv("FLASK_PORTAL_NAME", "Portail Exemple")
    monkeypatch.setenv("FLASK_OPERATOR_NAME", "Exemple SA")
    monkeypatch.setenv("FLASK_SUPPORT_EMAIL", "aide@exemple.fr")
    monkeypatch.setenv("FLASK_SURVEY_CONSENT_TEXT", CONSENT)
    return make_app(tmp_path)


def test_the_operator_s_texts_from_settings(operated):
    client = operated.test_client()
    page = text_of(client.get("/inscription/"))
    assert "– Portail Exemple</title>" in page and "Portail Structures" not in page
    assert CONSENT in page and "AIFE" not in without_tokens(page)
    assert "opéré par Exemple SA" in page and 'href="mailto:aide@exemple.fr"' in page
    terms = text_of(client.get("/conditions"))
    assert "<strong>texte</strong>" in terms and "doit le remplacer" not in terms
    legal = text_of(client.get("/mentions-legales"))
    assert "Exemple SA, 1 rue de la Paix." in legal


def test_the_consent_on_mon_compte_uses_the_operator_s_wording(operated):
    operated.test_client_class = Client
    client = sign_up(operated.test_client(), lambda r=None: outbox(operated, r))
    assert CONSENT in text_of(client.get("/mon-compte/"))


def test_a_missing_text_file_stops_the_start(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_TERMS_FILE", str(tmp_path / "absent.md"))
    with pytest.raises(RuntimeError, match="FLASK_TERMS_FILE"):
        make_app(tmp_path)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "fr",
            (
                "supprimé 7 jours après l'inscription",
                "Le journal de sécurité : 90 jours",
                "sans adresse e-mail ni adresse IP",
                "Les courriels : 14 jours après leur envoi",
                "Une étape pas encore terminée : 10 jours.",
                "Les informations personnelles de l'inscription : 1 heure.",
                "Une session ouverte : 1 jour au plus",
                "l'adresse IP",
            ),
        ),
        (
            "en",
            (
                "deleted 7 days after signing up",
                "The security log: 90 days",
                "without email address or IP address",
                "Emails: 14 days after they are sent",
                "A step not finished yet: 10 days.",
                "The personal information typed while signing up: 1 hour.",
                "An open session: 1 day at most",
                "the IP address",
            ),
        ),
    ],
)
def test_the_default_privacy_notice_states_the_retention_the_purge_applies(
    tmp_path, monkeypatch, language, said
):
    """The periods come from the settings the purge and the sessions use: a
    notice with figures of its own would say something the portal does not do."""
    clean_environment(monkeypatch)
    app = make_app(
        tmp_path,
        PURGE_PENDING_AFTER_DAYS=7,
        AUDIT_RETENTION_DAYS=90,
        OUTBOX_RETENTION_DAYS=14,
        DRAFT_STRUCTURE_DAYS=10,
        DRAFT_SIGNUP_HOURS=1,  # one hour, not « 1 heures »
        SESSION_MAX_AGE_DAYS=1,
    )
    app.test_client_class = Client
    client = app.test_client()
    if language == "en":
        speak(client, "en")
    text = " ".join(text_of(client.get("/mentions-legales")).split())
    assert [phrase for phrase in said if phrase not in text.replace("&#39;", "'")] == []
