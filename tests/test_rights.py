"""« Mon compte » → « Télécharger mes données » (JSON file and readable page)
and « Supprimer mon compte » (its refusals, what it erases and keeps); the
survey consent's history."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

import rights
from models import AuditEvent, ConsentChange, Membership, OutboxMail, Structure, User, utcnow
from tests.support.app import Client, clean_environment, make_app, outbox, query, user_row
from tests.support.constants import EMAIL, PASSWORD
from tests.support.responses import led_to, sent_to_sign_in, shown, signs_in_first, text_of, without_tokens
from tests.support.signup import PERSON
from tests.support.structures import (
    LUCIE,
    PIERRE,
    STRUCTURE,
    ask_to_join,
    create_structure,
    new_client,
    sign_up,
)


def download(client) -> dict:
    response = client.get("/mon-compte/donnees.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="mes-donnees.json"'
    return json.loads(response.get_data(as_text=True))


# -- « Télécharger mes données » ------------------------------------------------------------


def test_account_page_offers_both_rights(marie):
    text = shown(marie, "/mon-compte/")
    assert "Télécharger mes données" in text and "Supprimer mon compte" in text


def test_the_data_file_holds_profile_consents_memberships_and_events(app, marie):
    marie.submit("/mon-compte/enquete", {"survey_consent": "y"})
    marie.submit("/mon-compte/enquete", {})
    assert create_structure(marie).status_code in (200, 303)
    data = download(marie)
    assert data["compte"]["adresse_email_connexion"] == EMAIL
    assert data["compte"]["prenom"] == "Marie" and data["compte"]["telephone"] == "+33123456789"
    assert data["consentements"]["conditions_acceptees_le"].endswith("Z")
    assert [c["consentement"] for c in data["consentements"]["historique_enquete"]] == [True, False]
    [membership] = data["structures_et_demandes"]
    assert membership["identifiant"] == "73282932000074" and membership["role"] == "gestionnaire_principal"
    names = [e["evenement"] for e in data["evenements"]]
    assert "account.created" in names and "structure.created" in names
    assert "password" not in json.dumps(data).lower().replace("password.", "")
    assert (
        query(app, lambda: AuditEvent.select().where(AuditEvent.event == "account.data_exported").count())
        == 1
    )


def test_head_requests_neither_record_exports_nor_escape_the_limit_attack_audit_flooding(
    tmp_path, monkeypatch
):
    """Each HEAD builds the whole file (Flask answers it with the GET view):
    uncounted, a script could make the portal read every table of the account
    again and again; recorded, it would fill the trail with exports nobody made."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_DATA_EXPORT="3 per hour")
    app.test_client_class = Client
    marie = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    assert [marie.head("/mon-compte/donnees.json").status_code for _ in range(2)] == [200, 200]
    exports = AuditEvent.select().where(AuditEvent.event == "account.data_exported")
    assert query(app, exports.count) == 0
    download(marie)  # the third of the hour: HEAD and GET share one count
    assert query(app, exports.count) == 1
    assert marie.head("/mon-compte/donnees.json").status_code == 429
    assert marie.get("/mon-compte/donnees.json").status_code == 429


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_attack_the_data_page_asked_for_in_a_loop_is_limited_per_account(tmp_path, monkeypatch, htmx):
    """Each « Mes données » finds the account's events among everybody's:
    asked for again and again, it would make the portal read the journal of
    the whole portal each time."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_DATA_PAGE="3 per hour", TRUSTED_PROXIES=1)
    app.test_client_class = Client
    marie = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    marie.htmx = htmx
    offices = [{"X-Forwarded-For": f"198.51.100.{n}"} for n in range(4)]
    assert [marie.get("/mon-compte/donnees", headers=offices[n]).status_code for n in range(3)] == [200] * 3
    refused = marie.get("/mon-compte/donnees", headers=offices[3])
    assert refused.status_code == 429 and "Patientez" in text_of(refused)
    assert marie.get("/mon-compte/").status_code == 200  # the rest of « Mon compte » is not held back


def test_the_data_file_holds_the_address_of_a_particulier_not_of_a_company(app, marie):
    """A « Particulier » is the person: its address, e-mail and phone are
    theirs. A company's details are not personal data of its members."""
    assert create_structure(marie).status_code in (200, 303)
    own = {"identifier_type": "particulier", "identifier": "", "company_name": "Marie Curie"}
    assert create_structure(marie, **own).status_code in (200, 303)
    person, company = sorted(download(marie)["structures_et_demandes"], key=lambda m: m["type_identifiant"])
    assert (person["type_identifiant"], company["type_identifiant"]) == ("particulier", "siret")
    assert person["coordonnees"]["address"] == STRUCTURE["address"]
    assert person["coordonnees"]["email"] == STRUCTURE["email"]
    assert person["coordonnees"]["postal_code"] == STRUCTURE["postal_code"]
    assert "coordonnees" not in company


def test_the_data_page_shows_what_the_file_holds_of_each_structure(marie):
    """The page showed a « Particulier »'s name and identifier only, while
    the file holds the person's own address, e-mail and phone (the
    structure's details): the page shows what the file holds, for each kind,
    and no company's details (not the person's data), decisions dated."""
    company = {**STRUCTURE, "address": "1 avenue de la Société", "city": "Lyon", "postal_code": "69001"}
    assert create_structure(marie, **company).status_code in (200, 303)
    own = {
        "identifier_type": "particulier", "identifier": "", "company_name": "Marie Curie", "label": "",
        "email": "marie.maison@exemple.org", "phone": "01 98 76 54 32", "address": "3 rue des Lilas",
        "address_2": "Escalier C", "address_3": "", "city": "Nantes", "postal_code": "44000",
    }  # fmt: skip
    assert create_structure(marie, **own).status_code in (200, 303)
    held = download(marie)["structures_et_demandes"]
    text = " ".join(shown(marie, "/mon-compte/donnees").split())
    [person] = [m for m in held if "coordonnees" in m]
    details = person["coordonnees"]
    assert person["type_identifiant"] == "particulier" and len(held) == 2
    for name in ("company_name", "email", "address", "address_2", "city", "postal_code"):
        assert details[name] in text, name
    assert "01 98 76 54 32" in text and details["phone"] == "+33198765432"  # as the page writes phones
    assert "France" in text and details["country"] == "FR"
    assert person["identifiant"] in text
    # A company's details are not hers (read without the page's random tokens).
    assert "1 avenue de la Société" not in without_tokens(text) and "Lyon" not in without_tokens(text)
    assert all(membership["decide_le"] for membership in held)  # both created: decided at once
    assert "Décidée le" in text


def test_the_data_file_holds_the_language_the_second_factors_and_the_drafts(app, marie):
    from tests.support.second_factor import enrol_totp

    secret, codes = enrol_totp(marie)
    typed = {
        "first_name": "Marie",
        "last_name": "Durand-Secret",
        "phone": "06 99 99 99 99",
        "contact_email": "",
    }
    assert marie.submit("/mon-compte/informations/brouillon", typed).status_code in (200, 303)
    data = download(marie)
    assert data["compte"]["langue"] == "fr"
    [method] = data["verification_en_deux_etapes"]["methodes"]
    assert method["type"] == "totp" and method["ajoutee_le"].endswith("Z")
    assert data["verification_en_deux_etapes"]["codes_de_secours_restants"] == len(codes)
    [draft] = data["brouillons"]
    assert draft["contenu"]["last_name"] == "Durand-Secret" and draft["contenu"]["phone"] == "06 99 99 99 99"
    page = shown(marie, "/mon-compte/donnees")
    assert "Durand-Secret" in page and "Vérification en deux étapes" in page and "Mes brouillons" in page
    assert f"Codes de secours restants : <strong>{len(codes)}</strong> sur 10." in page
    assert '<dd lang="fr">Français</dd>' in page


def test_an_enrolment_not_finished_is_in_the_file_but_not_shown_as_a_method_in_use(app, marie):
    """An authenticator added but never confirmed is data the portal holds (the
    file lists it, unconfirmed); the page does not call it a method in use."""
    from models import SecondFactor

    query(app, lambda: SecondFactor.create(user=User.by_email(EMAIL), kind="totp", name="Application"))
    [method] = download(marie)["verification_en_deux_etapes"]["methodes"]
    assert method["type"] == "totp" and method["confirmee_le"] is None
    page = shown(marie, "/mon-compte/donnees")
    assert "Aucune méthode n'est activée" in page and "Codes de secours restants" not in page


def test_the_data_file_holds_no_secret_attack_secret_leak(app, marie):
    """The file is personal data, not a key ring: the authenticator's key,
    the recovery codes and their hashes, the stored secrets never in it."""
    from models import RecoveryCode, SecondFactor
    from tests.support.second_factor import enrol_totp

    secret, codes = enrol_totp(marie)
    stored = query(
        app, lambda: [f.secret for f in SecondFactor.select()] + [c.code_hash for c in RecoveryCode.select()]
    )
    for response in (marie.get("/mon-compte/donnees.json"), marie.get("/mon-compte/donnees")):
        text = response.get_data(as_text=True)
        for value in [secret, *codes, *stored]:
            assert value and value not in text


def test_the_data_file_names_no_other_persons_address_attack_data_leak(app, marie):
    """A manager's events name requesters and successors: their addresses are
    theirs, not the holder's, and stay out of the holder's file."""
    import audit

    def record():
        audit.record(
            "structure.attachment_decided", User.by_email(EMAIL), requester="lucie@exemple.fr", to=EMAIL
        )

    query(app, record)
    data = download(marie)
    assert "lucie@exemple.fr" not in json.dumps(data)
    [event] = [e for e in data["evenements"] if e["evenement"] == "structure.attachment_decided"]
    assert event["details"] == {"requester": "un autre compte", "to": EMAIL}


def test_the_data_page_is_readable(marie):
    marie.submit("/mon-compte/enquete", {"survey_consent": "y"})
    text = shown(marie, "/mon-compte/donnees")
    assert "<h1>Mes données</h1>" in text
    assert EMAIL in text and "Donné" in text
    # Events and outcomes read as words, in the page's language, never as stored codes.
    assert '<td data-label="Événement">Inscription</td>' in text and "account.created" not in text
    assert '<td data-label="Résultat">Réussi</td>' in text and ">success<" not in text


def test_the_data_page_reads_outcomes_in_english(marie):
    from tests.support.i18n import speak

    speak(marie, "en")
    text = shown(marie, "/mon-compte/donnees")
    assert '<td data-label="Outcome">Succeeded</td>' in text and "Réussi" not in text
    assert '<td data-label="Event">Sign-up</td>' in text and "Inscription" not in text


def tables_read(monkeypatch) -> list[str]:
    """The tables each SELECT of the database reads from (its first FROM), as they run."""
    import re

    from models import db

    read = []
    original = db.obj.execute_sql

    def execute_sql(sql, params=None, *args, **kwargs):
        found = re.search(r'\bFROM "(\w+)"', sql)
        if sql.lstrip().upper().startswith("SELECT") and found:
            read.append(found.group(1))
        return original(sql, params, *args, **kwargs)

    monkeypatch.setattr(db.obj, "execute_sql", execute_sql)
    return read


def test_the_data_page_reads_each_table_once(app, marie, monkeypatch):
    """The page shows the file's rows: memberships, events, factors, drafts
    and consents are read once, not once for the file and again for the page."""
    from tests.support.second_factor import enrol_totp

    enrol_totp(marie)
    marie.submit("/mon-compte/enquete", {"survey_consent": "y"})
    assert create_structure(marie).status_code in (200, 303)
    read = tables_read(monkeypatch)
    text = shown(marie, "/mon-compte/donnees")
    assert STRUCTURE["company_name"] in text
    held = (
        "membership", "audit_event", "second_factor", "recovery_code", "draft", "consent_change",
        "user_session", "outbox_mail",
    )  # fmt: skip
    assert {table: read.count(table) for table in held} == dict.fromkeys(held, 1)


def test_attack_a_long_history_is_shown_in_part_and_the_file_has_it_all(app, marie):
    """The journal grows with what anybody does (a failed sign-in with the
    address is an event of the account) and the consent's history with each
    change: the page shows the latest SHOWN_ON_THE_PAGE of each and says how
    many there are, the file has them all. Read whole, 5,000 of them made the
    page cost 383 ms and weigh 1.7 MB."""
    more = rights.SHOWN_ON_THE_PAGE + 30
    start = utcnow() - timedelta(days=10)

    def pile_up():
        user = User.get(User.email == EMAIL)
        for n in range(more):
            at = start + timedelta(minutes=n)
            ConsentChange.create(user=user, consent=n % 2 == 0, at=at)
            AuditEvent.create(
                at=at, user=user, account=EMAIL, client_address="203.0.113.7", event="auth.sign_in",
                outcome="failure", details=json.dumps({"reason": "wrong_password", "failures": n}),
            )  # fmt: skip

    query(app, pile_up)
    events = query(app, lambda: rights._events_query(User.get(User.email == EMAIL)).count())
    text = shown(marie, "/mon-compte/donnees")
    assert f"Seuls les {rights.SHOWN_ON_THE_PAGE} plus récents sont affichés, sur {more} :" in text
    assert f"Seuls les {rights.SHOWN_ON_THE_PAGE} plus récents sont affichés, sur {events} :" in text
    consent_table = text.split("Historique du consentement")[1].split("</table>")[0]
    assert consent_table.count("<tr>") == rights.SHOWN_ON_THE_PAGE + 1  # and its heading
    journal = text.split("Le journal de mon compte")[1]
    assert journal.count("<tr>") == rights.SHOWN_ON_THE_PAGE + 1
    with app.test_request_context("/"):
        date_fr = app.jinja_env.filters["date_fr"]
        latest, first_shown, older = (date_fr(start + timedelta(minutes=n)) for n in (more - 1, 30, 29))
    assert latest in consent_table and first_shown in consent_table and older not in consent_table
    data = download(marie)
    assert len(data["consentements"]["historique_enquete"]) == more
    assert len(data["evenements"]) >= events  # its own download is one more


def test_a_short_history_is_shown_whole_without_a_word_on_it(marie):
    marie.submit("/mon-compte/enquete", {"survey_consent": "y"})
    assert "plus récents sont affichés" not in shown(marie, "/mon-compte/donnees")


def test_a_visitor_cannot_download_anyones_data(client):
    assert signs_in_first(client.get("/mon-compte/donnees.json"))
    assert signs_in_first(client.get("/mon-compte/donnees"))


def test_consent_given_at_sign_up_starts_the_history(app, client, mailbox):
    from tests.support.signup import PERSON

    sign_up(client, mailbox, {**PERSON, "survey_consent": "y"})
    history = query(app, lambda: [c.consent for c in ConsentChange.of(User.by_email(EMAIL))])
    assert history[0] is True
    # The test's activation posts the password only (the box unticked): the
    # history then ends with the withdrawal, as the account says.
    assert history[-1] == query(app, lambda: User.by_email(EMAIL).survey_consent)


# -- « Supprimer mon compte » -----------------------------------------------------------------


def test_the_delete_page_says_what_happens(marie):
    text = shown(marie, "/mon-compte/supprimer")
    assert "<h1>Supprimer mon compte</h1>" in text and "définitive" in text
    assert 'type="password"' in text


def test_deletion_needs_the_password(app, marie):
    response = marie.submit("/mon-compte/supprimer", {"password": "pas le bon"})
    assert response.status_code == 422
    assert "Le mot de passe est incorrect." in text_of(response)
    assert query(app, lambda: User.by_email(EMAIL)) is not None
    response = marie.submit("/mon-compte/supprimer", {"password": ""})
    assert response.status_code == 422 and "Ce champ est obligatoire." in text_of(response)


def test_deletion_without_csrf_token_is_refused_attack_cross_site_request(app, marie):
    assert marie.post("/mon-compte/supprimer", data={"password": PASSWORD}).status_code == 400
    assert query(app, lambda: User.by_email(EMAIL)) is not None


def test_deletion_erases_the_person_and_keeps_a_pseudonymous_trail(app, marie, mailbox):
    assert create_structure(marie).status_code in (200, 303)
    response = marie.submit("/mon-compte/supprimer", {"password": PASSWORD})
    assert led_to(marie, response) == "/"
    assert "Votre compte est supprimé" in text_of(marie.get("/"))
    sent_to_sign_in(marie, marie.get("/mon-compte/"))

    def stored():
        return (
            User.select().count(),
            Membership.select().count(),
            OutboxMail.select().where(OutboxMail.recipient == EMAIL).count(),
            Structure.get(),
            list(AuditEvent.select()),
        )

    users, members, mails, structure, events = query(app, stored)
    assert (users, members, mails) == (0, 0, 0)
    # The structure stays, for its identifier, without its contact details.
    assert structure.identifier == "73282932000074" and structure.email is None and structure.phone is None
    assert events and all(EMAIL not in (e.account or "") + (e.details or "") for e in events)
    assert all(e.client_address is None for e in events)
    assert {e.account for e in events if e.account} <= {events[-1].account}
    assert events[-1].event == "account.deleted" and events[-1].account.startswith("supprimé-")
    # The address is free again.
    assert query(app, lambda: User.by_email(EMAIL)) is None


def test_after_the_deletion_the_page_stays_in_the_accounts_language(app, marie):
    """An account read in French from a browser asking for English: the
    page that says the account is gone is French, as its notice is, not an
    English page around a French notice."""
    query(app, lambda: User.update(language="fr").where(User.email == EMAIL).execute())
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    response = marie.submit("/mon-compte/supprimer", {"password": PASSWORD}, headers=english)
    assert led_to(marie, response) == "/"
    page = text_of(marie.get("/", headers=english))
    assert "Votre compte est supprimé" in page and "Créer un compte" in page  # not « Create an account »


PROFILE = {"first_name": "Marie", "last_name": "Curie", "phone": "01 23 45 67 89"}


def test_deletion_erases_mail_to_every_address_the_account_used(app, marie, mailbox):
    """A contact address given, then replaced: the mail to the first one
    (it names the person and carries a link) goes with the account too."""
    for contact in ("premier.contact@exemple.org", "second.contact@exemple.org"):
        assert marie.submit(
            "/mon-compte/informations", {**PROFILE, "contact_email": contact}
        ).status_code in (
            200,
            303,
        )
    earlier = query(
        app, lambda: OutboxMail.select().where(OutboxMail.recipient == "premier.contact@exemple.org").count()
    )
    assert earlier == 1
    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)
    left = query(app, lambda: [(m.recipient, m.body_text) for m in OutboxMail.select()])
    assert not [m for m in left if "Curie" in m[1] or EMAIL in m[1] or "contact@exemple.org" in m[0]], left


def test_deleting_a_particulier_erases_its_whole_address(app, marie, mailbox):
    """A « Particulier » is a person: left without members, it keeps its
    identifier only, not its name, address, city nor postal code."""
    assert create_structure(marie, identifier_type="particulier", identifier="").status_code in (200, 303)
    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)
    structure = query(app, Structure.get)
    kept = {structure.company_name, structure.address, structure.city, structure.postal_code}
    assert kept == {"(supprimé)"}
    assert structure.identifier and structure.email is None and structure.phone is None


@pytest.mark.parametrize("ended", ["refused", "pending"])
def test_attack_a_request_to_an_erased_particulier_keeps_none_of_the_person(app, marie, mailbox, ended):
    """Pierre's request to Marie's « Particulier », refused or still waiting,
    counted as a member: her name and home stayed after her erasure, shown
    to anyone searching its identifier (and to Pierre, once approved)."""
    own = {"identifier_type": "particulier", "identifier": "", "company_name": "Marie Curie"}
    assert create_structure(marie, **own).status_code in (200, 303)
    identifier = query(app, lambda: Structure.get().identifier)
    pierre = new_client(app, mailbox, PIERRE)
    asked = {"identifier_type": "particulier", "identifier": identifier}
    assert pierre.submit("/structure/rattachement/demande", asked).status_code in (200, 303)
    if ended == "refused":
        request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
        marie.submit(f"/approbations/{request_id}/refuser")
    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)
    structure = query(app, Structure.get)
    assert {structure.company_name, structure.address, structure.city} == {"(supprimé)"}
    assert structure.phone is None and structure.email is None
    lucie = new_client(app, mailbox, LUCIE)
    found = text_of(lucie.get(f"/structure/rattachement?identifier_type=particulier&identifier={identifier}"))
    assert "Marie Curie" not in found and STRUCTURE["address"] not in found


def test_a_request_alone_keeps_no_company_s_contact_details(app, marie, mailbox):
    """A company erased by its manager with only a request waiting: no
    member remains, so its e-mail and phone go (its name is no person's)."""
    assert create_structure(marie).status_code in (200, 303)
    pierre = new_client(app, mailbox, PIERRE)
    assert ask_to_join(pierre).status_code in (200, 303)
    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)
    structure = query(app, Structure.get)
    assert structure.company_name == STRUCTURE["company_name"]
    assert structure.email is None and structure.phone is None


def test_a_company_keeps_its_details_for_a_member_whose_account_is_closed(app, marie, mailbox):
    """An active member remains (a closed account's, which needs no
    hand-over): the company's contact details are theirs and stay."""
    assert create_structure(marie).status_code in (200, 303)
    lucie_member(app, status=User.DISABLED)
    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)
    structure = query(app, Structure.get)
    assert structure.email == STRUCTURE["email"] and structure.phone is not None


def lucie_member(app, status: str = User.ACTIVE) -> int:
    """Lucie Martin, an active member of the one structure (her account in
    ``status``); the structure's id."""

    def add_member():
        lucie = user_row("lucie.martin@exemple.fr", first_name="Lucie", last_name="Martin", status=status)
        Membership.create(
            user=lucie, structure=Structure.get(), status=Membership.ACTIVE, decided_at=utcnow()
        )
        return Structure.get().id

    return query(app, add_member)


def test_a_sole_manager_with_members_must_hand_over_first(app, marie, mailbox):
    assert create_structure(marie).status_code in (200, 303)
    structure_id = lucie_member(app)
    text = shown(marie, "/mon-compte/supprimer")
    assert "transférer le rôle de gestionnaire principal" in text
    assert f'href="/structure/{structure_id}/"' in text and 'type="password"' not in text
    response = marie.submit("/mon-compte/supprimer", {"password": PASSWORD})
    assert response.status_code == 422 and "transmettez d'abord ce rôle" in text_of(response)
    assert query(app, lambda: User.by_email(EMAIL)) is not None


def test_the_data_page_says_a_structure_is_not_active_beside_an_accepted_membership(app, marie):
    """« Statut : Acceptée » alone read as if the structure were open."""
    assert create_structure(marie).status_code in (200, 303)
    assert "Ateliers Curie (en attente" not in shown(marie, "/mon-compte/donnees")
    query(app, lambda: Structure.update(status=Structure.PENDING).execute())
    assert "Ateliers Curie (en attente de validation)</td>" in shown(marie, "/mon-compte/donnees")


def test_mon_espace_says_a_structure_is_not_active_beside_its_name(app, marie):
    """The same state as « Mes données » gives (views.structure.structure_state)."""
    assert create_structure(marie).status_code in (200, 303)
    assert "Ateliers Curie</a> (" not in shown(marie, "/espace/")
    for status, said in ((Structure.PENDING, "en attente de validation"), (Structure.DISABLED, "désactivée")):
        query(app, lambda status=status: Structure.update(status=status).execute())
        assert f"Ateliers Curie</a> ({said})</td>" in shown(marie, "/espace/")


def test_a_sole_manager_of_a_disabled_structure_may_leave(app, marie, mailbox):
    """A disabled structure's role cannot be handed over (operators designate
    one when they reactivate it): it does not hold the account back."""
    assert create_structure(marie).status_code in (200, 303)
    lucie_member(app)
    query(app, lambda: Structure.update(status=Structure.DISABLED).execute())
    assert 'type="password"' in shown(marie, "/mon-compte/supprimer")
    response = marie.submit("/mon-compte/supprimer", {"password": PASSWORD})
    assert response.status_code < 400
    assert query(app, lambda: User.by_email(EMAIL)) is None


def test_a_sole_manager_whose_only_member_is_a_closed_account_may_leave(app, marie, mailbox):
    """Lucie's account is closed: she cannot take the role, so it cannot be
    handed over and does not hold Marie back."""
    assert create_structure(marie).status_code in (200, 303)
    lucie_member(app, User.DISABLED)
    assert 'type="password"' in shown(marie, "/mon-compte/supprimer")
    response = marie.submit("/mon-compte/supprimer", {"password": PASSWORD})
    assert response.status_code < 400
    assert query(app, lambda: User.by_email(EMAIL)) is None
    # Lucie is still its member (her account may be reopened): the
    # structure keeps its details, which only a structure left alone loses.
    structure = query(app, Structure.get)
    assert (structure.email, structure.phone) == (STRUCTURE["email"], "+33123456789")


def test_deleting_a_sole_manager_hands_the_waiting_requests_to_the_operators(app, marie, mailbox):
    assert create_structure(marie).status_code in (200, 303)
    pierre = new_client(app, mailbox, PIERRE)
    asked = {"identifier_type": "siret", "identifier": "73282932000074"}
    assert pierre.submit("/structure/rattachement/demande", asked).status_code == 303
    query(app, lambda: user_row("operateur@exemple.fr", status=User.ACTIVE, is_operator=True))
    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)
    [handed] = [m for m in mailbox("operateur@exemple.fr") if "sans gestionnaire" in m.subject]
    assert "Pierre Durand" in handed.body_text
    # Asked again, the request says who decides it now.
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    pierre.submit(f"/espace/demandes/{request_id}/annuler")
    response = pierre.submit("/structure/rattachement/demande", asked)
    text = text_of(pierre.get(response.headers["Location"]))
    assert "transmise aux opérateurs du portail" in text and "au gestionnaire principal" not in text
    sent = [
        m
        for m in mailbox(PIERRE["contact_email"])
        if m.subject == "Votre demande de rattachement est envoyée"
    ]
    assert "transmise aux opérateurs du portail" in sent[-1].body_text


def test_deleting_a_member_keeps_the_structure_and_its_manager(app, mailbox):
    pierre = new_client(app, mailbox, PIERRE)
    create_structure(pierre)
    app.test_client_class = Client
    marie = sign_up(app.test_client(), mailbox)
    query(
        app,
        lambda: Membership.create(
            user=User.by_email(EMAIL),
            structure=Structure.get(),
            status=Membership.ACTIVE,
            decided_at=utcnow(),
        ),
    )
    response = marie.submit("/mon-compte/supprimer", {"password": PASSWORD})
    assert response.status_code == 303
    structure = query(app, lambda: Structure.get())
    assert structure.email == STRUCTURE["email"]
    assert query(app, lambda: Structure.get().manager().email) == PIERRE["email"]


def test_the_account_page_title_is_plain_text(marie):
    text = shown(marie, "/mon-compte/")
    assert "<title>Mon compte – Portail Structures</title>" in text


def test_deleting_an_account_whose_contact_is_anothers_login_keeps_that_accounts_mail_attack_mail_erasure(
    app, marie, mailbox
):
    """A contact address is typed, not proven: Marie gives Pierre's login
    address as hers. Her deletion erases her mail, not the mail written for
    Pierre (a link not delivered yet would be lost)."""
    new_client(app, mailbox, PIERRE)
    pierre_email = PIERRE["email"]

    def pierres():
        return [m.id for m in OutboxMail.select().where(OutboxMail.recipient == pierre_email)]

    written = query(app, pierres)
    assert written
    changed = {**PROFILE, "contact_email": pierre_email}
    assert marie.submit("/mon-compte/informations", changed).status_code in (200, 303)
    assert query(app, lambda: User.by_email(EMAIL).contact_email) == pierre_email
    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)
    assert query(app, pierres) == written


def test_deleting_an_account_whose_contact_is_anothers_login_keeps_that_accounts_trail_attack_audit_tampering(
    app, marie, mailbox
):
    """Marie's contact address is Pierre's login: her deletion does not put
    her pseudonym in place of Pierre in the events that name him."""
    import audit

    new_client(app, mailbox, PIERRE)
    pierre_email = PIERRE["email"]
    query(
        app,
        lambda: audit.record("structure.attachment_decided", User.by_email(EMAIL), requester=pierre_email),
    )
    changed = {**PROFILE, "contact_email": pierre_email}
    assert marie.submit("/mon-compte/informations", changed).status_code in (200, 303)
    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)
    [event] = query(
        app, lambda: list(AuditEvent.select().where(AuditEvent.event == "structure.attachment_decided"))
    )
    assert json.loads(event.details) == {"requester": pierre_email}


def test_the_data_file_and_page_hold_the_sessions_and_the_mail_written_for_the_account(app, marie, mailbox):
    """Open sessions and the outbox are data the portal holds about the
    person: listed (when, to whom, what), never a session key nor a mail's
    body, whose links are keys."""
    from models import UserSession

    written = outbox(app)
    mine = [m for m in written if m.recipient == EMAIL]
    assert mine
    data = download(marie)
    assert data["compte"]["adresse_email_contact_confirmee_le"] is None  # the login address is the contact
    [session] = data["sessions_ouvertes"]
    assert session["ouverte_le"].endswith("Z")
    assert [(m["destinataire"], m["objet"]) for m in data["courriels"]] == [
        (m.recipient, m.subject) for m in mine
    ]
    assert all(m["ecrit_le"].endswith("Z") for m in data["courriels"])
    text = json.dumps(data)
    assert not [m for m in mine if m.body_text[:200] in text]
    assert not [s for s in query(app, lambda: [s.key_hash for s in UserSession.select()]) if s in text]
    page = shown(marie, "/mon-compte/donnees")
    assert "Mes sessions ouvertes" in page and "Les courriels qui vous sont écrits" in page
    assert mine[0].subject in page and "Pas encore envoyé" in page


def test_the_data_file_holds_no_mail_of_another_account_attack_data_leak(app, marie, mailbox):
    """Marie types Pierre's login address as her contact: the mail written
    for Pierre to that address stays out of her file and page."""
    new_client(app, mailbox, PIERRE)
    changed = {**PROFILE, "contact_email": PIERRE["email"]}
    assert marie.submit("/mon-compte/informations", changed).status_code in (200, 303)
    marie_id = query(app, _marie_id)
    pierres = {(m.recipient, m.subject) for m in outbox(app, PIERRE["email"]) if m.account_id != marie_id}
    assert pierres
    in_file = {(m["destinataire"], m["objet"]) for m in download(marie)["courriels"]}
    assert in_file and not pierres & in_file


def _marie_id() -> int:
    return User.by_email(EMAIL).id


def test_the_data_file_holds_what_others_recorded_about_the_account_not_who_nor_from_where_attack_data_leak(
    app, marie
):
    """An operator closed and reopened the account: events about the holder,
    in the file and on the page; the operator's address and client address
    are the operator's and stay out."""

    def record():
        operator = user_row("operateur@exemple.fr", status=User.ACTIVE, is_operator=True)
        for name in ("admin.account_disabled", "admin.account_enabled"):
            AuditEvent.create(
                user=operator,
                account=operator.email,
                client_address="203.0.113.9",
                event=name,
                outcome="success",
                details=json.dumps({"target": EMAIL}),
                about_account=EMAIL,  # as audit.record copies it
            )

    query(app, record)
    data = download(marie)
    about = [e for e in data["evenements"] if e["evenement"].startswith("admin.")]
    assert [e["evenement"] for e in about] == ["admin.account_disabled", "admin.account_enabled"]
    assert all(e["adresse_ip"] is None and e["details"] == {"target": EMAIL} for e in about)
    page = shown(marie, "/mon-compte/donnees")
    for text in (json.dumps(data), page):
        assert "203.0.113.9" not in text and "operateur@exemple.fr" not in text


def test_attack_a_stranger_s_address_never_reaches_the_holder_s_data_file(app, marie, mailbox):
    """Anybody may fail to sign in to Marie's account, or ask a reset for
    her address: those events are hers, but the client's address in them is
    the stranger's. Her own sign-in keeps hers."""
    stranger = Client(app)
    there = {"environ_base": {"REMOTE_ADDR": "198.51.100.7"}}
    stranger.submit("/connexion", {"email": EMAIL, "password": "Pas-le-bon-9"}, **there)
    stranger.submit("/mot-de-passe-oublie/", {"email": EMAIL}, **there)
    Client(app).submit(
        "/connexion", {"email": EMAIL, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "192.0.2.44"}
    )
    data = download(marie)
    seen = {(e["evenement"], e["resultat"]): e["adresse_ip"] for e in data["evenements"]}
    for text in (json.dumps(data), shown(marie, "/mon-compte/donnees")):
        assert "198.51.100.7" not in text
    assert any(event == "auth.sign_in" and address == "192.0.2.44" for (event, _), address in seen.items())
    assert any(event == "password.reset_requested" for event, _ in seen)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_deleting_a_requester_withdraws_the_mail_naming_them_to_the_manager(
    app, any_client, mailbox, language
):
    """Pierre asks to join Marie's structure, then deletes his account before
    the notice is delivered: it would name him after his erasure, about a
    request gone with his account. Marie's own mail stays."""
    marie = new_client(app, mailbox, PERSON)
    assert create_structure(marie).status_code == 303
    query(app, lambda: User.update(language=language).where(User.email == EMAIL).execute())
    pierre = sign_up(any_client, mailbox, PIERRE)
    assert ask_to_join(pierre).status_code in (200, 303)
    [notice] = [m for m in mailbox(EMAIL) if PIERRE["email"] in m.body_text]
    assert notice.sent_at is None and notice.language == language
    kept = [m.id for m in mailbox(EMAIL) if m.id != notice.id]

    assert pierre.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)

    left = query(app, lambda: list(OutboxMail.select()))
    assert not [m for m in left if "Pierre" in m.body_text or PIERRE["email"] in m.body_text]
    assert [m.id for m in left if m.recipient == EMAIL] == kept


def test_deleting_an_account_whose_address_ends_anothers_keeps_the_mail_naming_the_other_attack_mail_erasure(
    app, mailbox
):
    """« durand@exemple.fr » is the end of « pierre.durand@exemple.fr »: its
    deletion leaves the notice naming Pierre where it is."""
    marie = new_client(app, mailbox, PERSON)
    assert create_structure(marie).status_code == 303
    pierre = new_client(app, mailbox, PIERRE)
    assert ask_to_join(pierre).status_code == 303
    suffix = {
        **PIERRE,
        "email": "durand@exemple.fr",
        "email_confirm": "durand@exemple.fr",
        "contact_email": "",
    }
    other = new_client(app, mailbox, suffix)

    def notices():
        return [m.id for m in OutboxMail.select() if f"({PIERRE['email']})" in m.body_text]

    before = query(app, notices)
    assert before
    assert other.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code == 303
    assert query(app, lambda: User.by_email("durand@exemple.fr")) is None
    assert query(app, notices) == before


def test_my_data_reads_drafts_by_their_labels_and_choices(app, marie):
    """« Mes données » listed a draft by the form's internal names and raw
    values (« identifier_type siret », « non_diffusible False », « country
    FR »): it reads as the step does, in the page's language."""
    from tests.support.i18n import speak

    step_6 = {
        "identifier_type": "ue",
        "identifier": "DE136695976",
        "company_name": "Curie GmbH",
        "country": "DE",
        "non_diffusible": "",
    }
    assert marie.submit("/structure/nouvelle/brouillon", step_6).status_code in (200, 204, 303)
    page = " ".join(shown(marie, "/mon-compte/donnees").split())
    assert "<dt>Type d'identifiant</dt><dd>UE hors France</dd>" in page
    assert "<dt>Numéro de TVA intracommunautaire</dt><dd>DE136695976</dd>" in page
    assert "<dt>Raison sociale</dt><dd>Curie GmbH</dd>" in page and "<dd>Allemagne</dd>" in page
    assert "<dd>non</dd>" in page and "identifier_type" not in page and "company_name" not in page
    speak(marie, "en", "/mon-compte/donnees")
    page = " ".join(shown(marie, "/mon-compte/donnees").split())
    assert "<dd>EU outside France</dd>" in page and "<dd>Germany</dd>" in page and "<dd>no</dd>" in page
