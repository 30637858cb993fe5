"""« Administration »: structures (search, page, designating a new
gestionnaire principal, correcting data, disabling), moderation on and
off, the outbox and the audit trail; as an operator (full page and htmx
fragment), and 404 for anyone else."""

from __future__ import annotations

import html
import json
import re
import threading
import time

import pytest

import operations
from models import AuditEvent, Membership, OutboxMail, Structure, User, utcnow
from tests.support.app import Client, HtmxClient, failed_mail, make_app, outbox, query, user_row
from tests.support.constants import EMAIL, PASSWORD
from tests.support.operators import grant
from tests.support.responses import error_of, follow, shown, text_of, without_tokens
from tests.support.second_factor import enrol_totp
from tests.support.signup import PERSON
from tests.support.structures import PIERRE, STRUCTURE, create_structure, mails_to, new_client, sign_up

LUCIE_EMAIL = "lucie.martin@exemple.fr"


def events(app, name: str) -> list[AuditEvent]:
    return query(app, lambda: list(AuditEvent.select().where(AuditEvent.event == name)))


def roles(app) -> dict[str, str]:
    def read():
        rows = Membership.select(Membership, User).join(User, on=(Membership.user == User.id))
        return {m.user.email: m.role for m in rows}

    return query(app, read)


# -- search and page -----------------------------------------------------------------------


def test_structures_search_by_identifier_name_and_city(operator, structure_id):
    for text in ("732 829 320", "73282932000074", "ateliers", "Les Ateliers", "paris"):
        assert "Ateliers Curie" in shown(operator, f"/administration/structures?q={text}"), text
    assert "Aucune structure trouvée" in shown(operator, "/administration/structures?q=Lyon")


def test_structures_search_finds_accented_words_whatever_their_case(app, operator, structure_id):
    """SQLite's LIKE ignores the case of ASCII letters only: « évry » missed « Évry »."""
    query(
        app,
        lambda: Structure.update(city="Évry-Courcouronnes", company_name="Études Curie").execute(),
    )
    for text in ("évry", "ÉVRY", "Évry-courcouronnes", "études", "ÉTUDES CURIE"):
        assert "Études Curie" in shown(operator, f"/administration/structures?q={text}"), text


def test_structures_search_finds_words_typed_without_their_accents(app, operator, structure_id):
    query(
        app,
        lambda: Structure.update(
            city="Évry-Courcouronnes", company_name="Études Curie", label="Maison Lætitia"
        ).execute(),
    )
    for text in ("evry", "EVRY-COURCOURONNES", "etudes curie", "laetitia", "LAETITIA"):
        assert "Études Curie" in shown(operator, f"/administration/structures?q={text}"), text


def test_structure_page_lists_its_members(operator, structure_id):
    text = shown(operator, f"/administration/structures/{structure_id}/")
    assert "<h1>Ateliers Curie</h1>" in text
    assert "Pierre Durand" in text and "Lucie Martin" in text and "Active" in text


def test_structure_page_marks_members_whose_account_is_not_active(app, operator, structure_id):
    """A disabled gestionnaire principal was listed as « Gestionnaire principal »
    with nothing more, under a page saying the structure has no active one:
    each member whose account is not active now says so beside their name."""
    query(app, lambda: User.update(status=User.DISABLED).where(User.email == PIERRE["email"]).execute())
    text = shown(operator, f"/administration/structures/{structure_id}/")
    pierre = re.search(r"<tr>(?:(?!</tr>).)*Pierre Durand.*?</tr>", text, re.S).group(0)
    assert '<span class="hint">(compte : désactivé)</span>' in pierre and "Gestionnaire principal" in pierre
    lucie = re.search(r"<tr>(?:(?!</tr>).)*Lucie Martin.*?</tr>", text, re.S).group(0)
    assert "(compte :" not in lucie
    assert text.count("(compte :") == 1


def test_an_unknown_structure_is_404(operator):
    assert operator.get("/administration/structures/424242/").status_code == 404


def test_structure_pages_are_404_for_its_own_manager(app, structure_id):
    app.test_client_class = Client
    pierre = app.test_client()
    assert pierre.submit("/connexion", {"email": PIERRE["email"], "password": PASSWORD}).status_code == 303
    assert pierre.get(f"/structure/{structure_id}/").status_code == 200
    assert pierre.get(f"/administration/structures/{structure_id}/").status_code == 404


# -- designating a new gestionnaire principal -----------------------------------------------


def test_designate_a_new_manager_when_the_manager_has_left(app, operator, structure_id, mailbox):
    url = f"/administration/structures/{structure_id}/"
    lucie = query(app, lambda: Membership.get(Membership.user == User.by_email(LUCIE_EMAIL)).id)
    text = follow(operator, operator.submit(f"{url}gestionnaire", {"member": lucie}), pushed=url)
    assert "Lucie Martin est désormais gestionnaire principal de la structure." in text
    assert roles(app) == {PIERRE["email"]: Membership.USER, LUCIE_EMAIL: Membership.MANAGER}
    [mail] = mails_to(mailbox, LUCIE_EMAIL)
    assert mail.subject == "Vous êtes gestionnaire principal de votre structure"
    assert "L'équipe du portail vous a confié" in mail.body_text
    [event] = events(app, "admin.manager_designated")
    assert event.account == EMAIL
    assert json.loads(event.details) == {"structure": structure_id, "target": LUCIE_EMAIL}


def test_designate_starts_with_nobody_chosen_a_careless_submit_names_nobody(app, operator, structure_id):
    page = shown(operator, f"/administration/structures/{structure_id}/")
    assert 'name="member" required><option selected value="">Sélectionner un membre</option>' in page
    response = operator.submit(f"/administration/structures/{structure_id}/gestionnaire", {"member": ""})
    assert response.status_code == 422
    assert error_of(response, "member").endswith("Choisissez un membre de la structure.")
    assert roles(app)[PIERRE["email"]] == Membership.MANAGER
    assert events(app, "admin.manager_designated") == []


def test_designate_refuses_someone_who_is_not_a_member_attack_foreign_membership(app, operator, structure_id):
    url = f"/administration/structures/{structure_id}/gestionnaire"
    response = operator.submit(url, {"member": "999"})
    assert response.status_code == 422
    assert "Not a valid choice" not in text_of(response)
    assert roles(app)[PIERRE["email"]] == Membership.MANAGER
    assert operator.submit(url, {"member": "abc"}).status_code == 422
    assert events(app, "admin.manager_designated") == []


def test_a_closed_account_is_not_designated_attack_orphaned_structure(app, operator, structure_id):
    query(app, lambda: User.update(status=User.DISABLED).where(User.email == LUCIE_EMAIL).execute())
    lucie = query(app, lambda: Membership.get(Membership.user == User.by_email(LUCIE_EMAIL)).id)
    url = f"/administration/structures/{structure_id}/"
    assert "Aucun autre membre actif ne peut recevoir ce rôle." in shown(operator, url)
    follow(operator, operator.submit(f"{url}gestionnaire", {"member": lucie}), pushed=url)
    assert roles(app) == {PIERRE["email"]: Membership.MANAGER, LUCIE_EMAIL: Membership.USER}
    assert events(app, "admin.manager_designated") == []


def test_designating_a_member_who_left_meanwhile_says_nobody_was_designated(app, operator, structure_id):
    """The page was opened with Lucie in the list; she left before « Désigner »."""
    lucie = query(app, lambda: Membership.get(Membership.user == User.by_email(LUCIE_EMAIL)).id)
    query(app, lambda: Membership.delete().where(Membership.id == lucie).execute())
    url = f"/administration/structures/{structure_id}/"
    text = follow(operator, operator.submit(f"{url}gestionnaire", {"member": lucie}), pushed=url)
    assert "Personne n'a été désigné : aucun autre membre actif ne peut recevoir ce rôle." in text
    assert roles(app) == {PIERRE["email"]: Membership.MANAGER}
    assert events(app, "admin.manager_designated") == []


# -- correcting data ------------------------------------------------------------------------


def test_correct_a_structure(app, operator, structure_id):
    url = f"/administration/structures/{structure_id}/modifier"
    assert "Corriger la structure" in shown(operator, url)
    form = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
    response = operator.submit(url, {**form, "company_name": "Ateliers Curie et Fils"})
    text = follow(operator, response, pushed=f"/administration/structures/{structure_id}/")
    assert "Les informations de la structure ont été corrigées." in text
    assert query(app, lambda: Structure.get().company_name) == "Ateliers Curie et Fils"
    [event] = events(app, "admin.structure_updated")
    assert event.account == EMAIL and json.loads(event.details)["fields"] == ["company_name"]


def test_correcting_with_bad_data_shows_the_errors_and_keeps_the_input(app, operator, structure_id):
    url = f"/administration/structures/{structure_id}/modifier"
    form = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
    response = operator.submit(url, {**form, "company_name": "", "postal_code": "ABC"})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in text_of(response) and 'value="ABC"' in text_of(response)
    assert query(app, lambda: Structure.get().company_name) == "Ateliers Curie"


# -- disabling ------------------------------------------------------------------------------


def test_disable_and_enable_a_structure(app, operator, structure_id, mailbox):
    url = f"/administration/structures/{structure_id}/"
    text = follow(operator, operator.submit(f"{url}desactiver"), pushed=url)
    assert "La structure est désactivée" in text and "Désactivée" in text
    # Nobody can ask to be attached to it any more.
    other = new_client(
        app,
        mailbox,
        {**PIERRE, "email": "x@exemple.fr", "email_confirm": "x@exemple.fr", "contact_email": ""},
    )
    found = text_of(other.get("/structure/rattachement?identifier_type=siret&identifier=73282932000074"))
    assert "n'accepte pas de demande de rattachement" in found
    response = other.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "73282932000074"}
    )
    assert response.status_code == 409 and "n'a pas été envoyée" in text_of(response)
    text = follow(operator, operator.submit(f"{url}reactiver"), pushed=url)
    assert "La structure est réactivée ; son gestionnaire principal est prévenu." in text
    told = [mail.subject for mail in mails_to(mailbox, PIERRE["contact_email"])][-2:]
    assert told == ["Votre structure est désactivée", "Votre structure est active"]
    toggled = events(app, "admin.structure_disabled") + events(app, "admin.structure_enabled")
    assert [e.account for e in toggled] == [EMAIL, EMAIL]


# -- moderation -----------------------------------------------------------------------------


def test_without_moderation_a_new_structure_is_active(app, structure_id):
    assert query(app, lambda: Structure.get().status) == Structure.ACTIVE


def test_the_console_s_home_lists_the_structures_awaiting_validation(
    app, operator, structure_id, monkeypatch
):
    """They wait for an operator as the requests do: the home says how many,
    lists the oldest with a link to each, and says so when none wait while
    moderation is on. A structure left pending when moderation was turned
    off waits all the same."""
    assert "Structures en attente de validation" not in shown(operator, "/administration/")
    app.config["STRUCTURE_MODERATION"] = True
    assert "Aucune structure n'attend de validation." in shown(operator, "/administration/")
    app.config["STRUCTURE_MODERATION"] = False
    query(app, lambda: Structure.update(status=Structure.PENDING).execute())
    response = operator.get("/administration/")
    text = text_of(response)
    assert "1 structure attend d'être validée ou refusée." in text
    listed = r"Ateliers Curie</a> – SIRET 73282932000074, créée le \d\d/\d\d/\d{4} à \d\d:\d\d<"
    assert re.search(listed, text)
    assert f'href="/administration/structures/{structure_id}/"' in response.get_data(as_text=True)

    def another():
        row = dict(Structure.get_by_id(structure_id).__data__, identifier="55203253400646")
        del row["id"]
        Structure.create(**dict(row, company_name="Forges Curie", created_at=utcnow()))

    query(app, another)
    monkeypatch.setattr(operations, "REQUESTS_SHOWN", 1)
    for url in ("/administration/", "/administration/structures"):
        text = shown(operator, url)
        assert "Ateliers Curie" in text and "Forges Curie" not in text, url  # the oldest first
    assert "2 structures attendent d'être validées ou refusées." in shown(operator, "/administration/")
    assert "Les 1 plus anciennes sur 2 sont listées." in shown(operator, "/administration/structures")


def test_attack_markup_in_a_pending_structure_s_name_is_text_on_the_console_s_home(
    app, operator, structure_id
):
    """A name stored with markup (an older version's row, a restored
    backup): the home's list of structures awaiting validation shows it as text."""
    query(
        app,
        lambda: Structure.update(
            status=Structure.PENDING, company_name="<img src=x onerror=alert(1)>"
        ).execute(),
    )
    text = shown(operator, "/administration/")
    assert "<img src=x" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;</a> – SIRET 73282932000074" in text


@pytest.fixture
def moderated(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_STRUCTURE_MODERATION", "true")
    return make_app(tmp_path)


@pytest.mark.parametrize("approve", [True, False])
def test_with_moderation_a_structure_waits_for_an_operator(moderated, approve):
    app = moderated

    def mailbox(recipient=None):
        return outbox(app, recipient)

    pierre = new_client(app, mailbox, PIERRE)
    response = create_structure(pierre)
    assert "en attente de validation" in text_of(pierre.get(response.headers["Location"]))
    assert query(app, lambda: Structure.get().status) == Structure.PENDING
    [created] = mails_to(mailbox, PIERRE["contact_email"])
    assert "en attente de validation" in created.body_text
    assert "(en attente de validation)" in text_of(pierre.get("/espace/"))
    structure_id = query(app, lambda: Structure.get().id)
    assert "L'équipe du portail doit la valider" in text_of(pierre.get(f"/structure/{structure_id}/"))

    operator = new_client(app, mailbox, PERSON)
    grant(app, EMAIL)
    enrol_totp(operator)
    assert "En attente de validation" in shown(operator, "/administration/structures")
    # A search's results come right under its form, before the structures awaiting a decision.
    searched = shown(operator, "/administration/structures?q=Ateliers")
    assert searched.index("1 structure trouvée") < searched.index("En attente de validation")
    structure_id = query(app, lambda: Structure.get().id)
    url = f"/administration/structures/{structure_id}/"
    text = follow(operator, operator.submit(f"{url}{'valider' if approve else 'refuser'}"))
    assert ("est validée" if approve else "est refusée") in text
    expected = Structure.ACTIVE if approve else Structure.DISABLED
    assert query(app, lambda: Structure.get().status) == expected
    subject = "Votre structure est validée" if approve else "Votre structure n'est pas validée"
    assert mails_to(mailbox, PIERRE["contact_email"])[-1].subject == subject
    [event] = events(app, "admin.structure_moderated")
    assert event.account == EMAIL and event.outcome == ("approved" if approve else "refused")
    # A second decision changes nothing.
    assert "n'est pas en attente" in follow(operator, operator.submit(f"{url}valider"))
    if not approve:  # « Réactiver » undoes the refusal: the creator, told it was refused, learns it
        follow(operator, operator.submit(f"{url}reactiver"))
        assert query(app, lambda: Structure.get().status) == Structure.ACTIVE
        [active] = [
            m for m in mails_to(mailbox, PIERRE["contact_email"]) if m.subject == "Votre structure est active"
        ]
        assert (
            "est désormais active" in active.body_text and f"/structure/{structure_id}/" in active.body_text
        )


# -- the outbox -----------------------------------------------------------------------------


NO_MAIL_SERVER = "Aucun serveur de messagerie n'est configuré (FLASK_MAIL_SERVER)"


def test_outbox_lists_failed_and_pending_mail_and_retries(app, operator):
    """Without a mail server (the tests' app has none) mail only waits in the
    outbox: the page says so once, and « Réessayer » says it stays there,
    rather than promising it will be sent in the next seconds."""
    mail_id = failed_mail(app)
    text = shown(operator, "/administration/courriels")
    assert "En échec (1)" in text and "550 Mailbox unavailable" in text
    assert text.count(NO_MAIL_SERVER) == 1 and 'id="no-mail-server"' in text
    text = follow(operator, operator.submit(f"/administration/courriels/{mail_id}/reessayer"))
    assert f"{NO_MAIL_SERVER} : le courriel reste dans la file et partira quand un serveur le sera." in text
    assert "sera de nouveau envoyé" not in text
    assert query(app, lambda: OutboxMail.get_by_id(mail_id).next_attempt_at) <= utcnow()
    count = query(app, lambda: OutboxMail.select().where(OutboxMail.sent_at.is_null()).count())
    text = follow(operator, operator.submit("/administration/courriels/reessayer"))
    assert (
        f"{NO_MAIL_SERVER} : {count} courriel(s) restent dans la file et partiront quand un serveur le sera."
        in text
    )
    assert "seront de nouveau envoyés" not in text
    assert [e.account for e in events(app, "admin.mail_retried")] == [EMAIL, EMAIL]


@pytest.fixture(params=["page", "htmx"])
def smtp_operator(request, smtp_app):
    """Marie Curie, an operator of an app with a mail server, on a full-page or an htmx client."""
    smtp_app.test_client_class = HtmxClient if request.param == "htmx" else Client
    client = sign_up(smtp_app.test_client(), lambda recipient=None: outbox(smtp_app, recipient))
    grant(smtp_app, EMAIL)
    enrol_totp(client)
    _all_delivered(smtp_app)  # the sign-up's mail out of the way
    return client


def test_outbox_retries_with_a_mail_server_say_the_mail_goes_out(smtp_app, smtp_operator, smtp):
    text = shown(smtp_operator, "/administration/courriels")
    assert NO_MAIL_SERVER not in text and 'id="no-mail-server"' not in text
    mail_id = failed_mail(smtp_app)
    text = follow(smtp_operator, smtp_operator.submit(f"/administration/courriels/{mail_id}/reessayer"))
    assert "Le courriel sera de nouveau envoyé dans les prochaines secondes." in text
    assert NO_MAIL_SERVER not in text
    _all_delivered(smtp_app)
    failed_mail(smtp_app)
    text = follow(smtp_operator, smtp_operator.submit("/administration/courriels/reessayer"))
    assert "1 courriel(s) seront de nouveau envoyés." in text and NO_MAIL_SERVER not in text
    _all_delivered(smtp_app)


def test_outbox_numbers_each_mail_as_the_logs_name_it(app, operator):
    """A delivery failure is logged by the mail's number and its recipient's
    domain only: the console shows that number beside the address, and
    anchors its row, so that the operator finds the mail."""
    mail_id = failed_mail(app, "lucie.martin@exemple.fr")
    text = shown(operator, "/administration/courriels")
    row = re.search(rf'<tr id="mail-{mail_id}">.*?</tr>', text, re.S).group(0)
    assert f'<td data-label="N°">{mail_id}</td>' in row
    assert "lucie.martin@exemple.fr" in row and "550 Mailbox unavailable" in row


def test_many_failures_never_hide_the_mail_waiting(app, operator, monkeypatch):
    """Failed and pending mail were read as one list cut at 200, failures
    first, and the headings counted that list: 205 failures said « En échec
    (200) », « En attente (0) » and « Aucun courriel en attente. », with mail
    waiting. Each part is now read and counted on its own, and says when it
    lists only the first of them."""
    import operations

    monkeypatch.setattr(operations, "OUTBOX_SHOWN", 3)

    def fill() -> int:
        OutboxMail.update(sent_at=utcnow()).where(OutboxMail.sent_at.is_null()).execute()  # the sign-up's
        for n in range(5):
            mail = OutboxMail.create(recipient=f"echec{n}@exemple.fr", subject="Essai", body_text="x")
            mail.mark_failed("550")
        for n in range(2):
            OutboxMail.create(recipient=f"attente{n}@exemple.fr", subject="Attente", body_text="x")
        return OutboxMail.select().where(OutboxMail.sent_at.is_null(False)).count()

    sent = query(app, fill)
    text = shown(operator, "/administration/courriels")
    assert "En échec (5)" in text and "En attente (2)" in text
    assert f"Envoyés ces 7 derniers jours ({sent})" in text
    assert "attente0@exemple.fr" in text and "attente1@exemple.fr" in text
    assert "Aucun courriel en attente." not in text
    failed = re.search(r"En échec \(5\)</h2>(.*?)<h2>", text, re.S).group(1)
    assert "Les 3 plus anciens sont listés." in failed
    assert [f"echec{n}@exemple.fr" in failed for n in range(5)] == [True, True, True, False, False]
    pending = re.search(r"En attente \(2\)</h2>(.*?)<h2>", text, re.S).group(1)
    assert "sont listés" not in pending


def _all_delivered(app, timeout: float = 10) -> int:
    """Waits until the outbox has nothing left to send; how many it sent."""
    deadline = time.monotonic() + timeout
    unsent = lambda: OutboxMail.select().where(OutboxMail.sent_at.is_null()).count()  # noqa: E731
    while query(app, unsent) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert query(app, unsent) == 0
    time.sleep(0.1)  # the delivery thread's pass ends after its last mail
    return query(app, lambda: OutboxMail.select().count())


def test_a_retried_mail_goes_out_in_the_next_seconds_as_the_page_says(smtp_app, smtp):
    """« Le courriel sera de nouveau envoyé dans les prochaines secondes »:
    the web process delivered only when a request queued new mail, so a
    retried one waited for its backoff, the next mail queued or send-mail."""
    marie = sign_up(smtp_app.test_client(), lambda recipient=None: outbox(smtp_app, recipient))
    grant(smtp_app, EMAIL)
    enrol_totp(marie)
    sent_before = _all_delivered(smtp_app)  # no delivery going on any more

    def fail_one() -> int:
        mail = OutboxMail.create(recipient="lucie@exemple.fr", subject="Essai", body_text="x")
        mail.mark_failed("421 Try again later")  # its next attempt 30 seconds away
        return mail.id

    mail_id = query(smtp_app, fail_one)
    response = marie.submit(f"/administration/courriels/{mail_id}/reessayer")
    assert response.status_code == 303
    assert [m["To"] for m in smtp.wait_for(sent_before + 1, timeout=5)][sent_before:] == ["lucie@exemple.fr"]


def test_outbox_names_each_mail_on_its_retry_button_and_shows_addresses_in_unicode(app, operator):
    """Read out of context (a screen reader's list of buttons), « Réessayer »
    says which mail; an internationalised domain reads as people type it."""
    mail_id = failed_mail(app, "a@xn--exemple-t-i4ab.fr")
    text = shown(operator, "/administration/courriels")
    assert ">a@exemple-été.fr</td>" in text and "xn--" not in without_tokens(text)
    button = re.search(
        rf'action="/administration/courriels/{mail_id}/reessayer".*?</button>', text, re.S
    ).group(0)
    assert 'Réessayer<span class="visually-hidden" lang="fr"> – Essai – a@exemple-été.fr</span>' in button


# -- the audit trail ------------------------------------------------------------------------


def test_audit_trail_with_filters(app, operator, structure_id):
    text = shown(operator, "/administration/journal")
    assert ">Réussi</td>" in text and ">success</td>" not in text  # outcomes as words
    assert "auth.sign_in" in text and "structure.created" in text
    text = shown(operator, f"/administration/journal?account={PIERRE['email']}&event=structure.created")
    assert "structure.created" in text and "auth.sign_in</code>" not in text
    text = shown(operator, f"/administration/journal?structure={structure_id}")
    assert "<code>structure.created</code>" in text and "<code>account.created</code>" not in text


def test_audit_trail_bad_filters_are_shown_next_to_the_fields(operator):
    response = operator.get("/administration/journal?since=hier&structure=abc&event=nope")
    assert response.status_code == 422
    text = text_of(response)
    assert "Date attendue au format AAAA-MM-JJ" in text and "Numéro interne attendu" in text
    assert 'value="hier"' in text
    # No search ran: no « 0 événement » and no empty list, as if the filter had found nothing.
    assert "événement" not in text.split("</form>", 1)[1] and "Aucun événement" not in text


def test_audit_trail_period_ending_before_it_starts_is_an_error_next_to_its_end(operator):
    """Dates typed the wrong way round listed « 0 événement », as if nothing had happened."""
    response = operator.get("/administration/journal?since=2026-03-14&until=2026-03-01")
    assert response.status_code == 422
    assert "Cette date précède celle de « Depuis le »" in error_of(response, "until")
    assert operator.get("/administration/journal?since=2026-03-14&until=2026-03-14").status_code == 200


def test_audit_trail_filters_read_pasted_values_without_their_spaces(operator):
    """« 2026-01-01 » pasted with a space before it is a date, not « too long »."""
    response = operator.get(
        "/administration/journal?since=%202026-01-01%20&account=%20marie.curie%40exemple.fr"
    )
    assert response.status_code == 200
    assert 'value="2026-01-01"' in text_of(response)


@pytest.mark.parametrize(
    "query",
    [
        "structure=%C2%B2",
        "structure=99999999999999999999",
        "until=9999-12-31",
        "since=0001-01-01&until=9999-01-01",
    ],
)
def test_audit_trail_hostile_filters_get_a_message_not_a_500_attack_overflow(operator, query):
    response = operator.get(f"/administration/journal?{query}")
    assert response.status_code == 422
    text = text_of(response)
    said = ("Date attendue au format AAAA-MM-JJ", "Numéro interne attendu", "Aucune structure ne porte")
    assert any(message in text for message in said)
    if query == "structure=99999999999999999999":  # digits all: too large, not « digits expected »
        assert "Aucune structure ne porte ce numéro : il dépasse tous ceux du portail." in html.unescape(text)


# -- requests to a structure without a gestionnaire principal -----------------------------


def orphan() -> int:
    """A structure whose gestionnaire principal has gone (its id)."""
    creator = user_row("ancien@exemple.fr", status=User.ACTIVE)
    structure = Structure.register(creator, "siret", "73282932000074", **{
        k: STRUCTURE[k] for k in ("company_name", "address", "city", "postal_code", "country")
    })  # fmt: skip
    Membership.delete().where(Membership.user == creator).execute()
    return structure.id


def test_a_request_to_a_structure_without_manager_goes_to_the_operators(app, operator, mailbox):
    structure_id = query(app, orphan)
    pierre = new_client(app, mailbox, PIERRE)
    pierre.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "73282932000074"}
    )
    [mail] = [m for m in mailbox(EMAIL) if "sans gestionnaire" in m.subject]
    assert f"/administration/structures/{structure_id}/" in mail.body_text

    url = f"/administration/structures/{structure_id}/"
    text = shown(operator, url)
    assert "ces demandes reviennent aux opérateurs" in text
    # Nobody to designate yet, and no former manager to speak of: what to do first.
    assert "approuvez d'abord une demande ci-dessus, puis désignez son auteur ici" in html.unescape(text)
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/approuver"), pushed=url)
    assert "La demande de rattachement est acceptée." in text
    assert "le membre choisi le deviendra" in text and "ancien gestionnaire" not in text
    assert query(app, lambda: Membership.get_by_id(request_id).status) == Membership.ACTIVE
    assert "acceptée" in mails_to(mailbox, PIERRE["contact_email"])[-1].subject
    [event] = events(app, "membership.decided")
    assert event.account == EMAIL and event.outcome == "approved"


def test_requests_to_a_structure_whose_manager_is_closed_go_to_the_operators(
    app, operator, structure_id, mailbox
):
    """Pierre manages « Ateliers Curie »; an operator closes his account. He
    cannot sign in: the request waiting for him and those that follow come
    to the operators, who can decide them."""
    jeanne = {**PIERRE, "email": "jeanne@exemple.fr", "email_confirm": "jeanne@exemple.fr"}
    jeanne.update(first_name="Jeanne", contact_email="jeanne.contact@exemple.fr")
    waiting = new_client(app, mailbox, jeanne)
    waiting.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "73282932000074"}
    )
    assert [m for m in mailbox(EMAIL) if "sans gestionnaire" in m.subject] == []
    pierre_id = query(app, lambda: User.by_email(PIERRE["email"]).id)
    follow(operator, operator.submit(f"/administration/comptes/{pierre_id}/desactiver"))
    [mail] = [m for m in mailbox(EMAIL) if "sans gestionnaire" in m.subject]
    assert f"/administration/structures/{structure_id}/" in mail.body_text

    url = f"/administration/structures/{structure_id}/"
    assert "ces demandes reviennent aux opérateurs" in shown(operator, url)
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/approuver"), pushed=url)
    assert "La demande de rattachement est acceptée." in text
    assert query(app, lambda: Membership.get_by_id(request_id).status) == Membership.ACTIVE


def test_operators_approve_no_request_to_a_disabled_structure(app, operator, mailbox):
    structure_id = query(app, orphan)
    new_client(app, mailbox, PIERRE).submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "73282932000074"}
    )
    query(app, lambda: Structure.update(status=Structure.DISABLED).execute())
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    url = f"/administration/structures/{structure_id}/"
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/approuver"))
    assert "Cette structure n'accepte pas de nouveau membre pour le moment" in text
    assert query(app, lambda: Membership.get_by_id(request_id).status) == Membership.PENDING
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/refuser"))
    assert "La demande de rattachement est refusée." in text


def refused_by_the_operators(app, operator, mailbox) -> None:
    """Pierre asks to join a structure without a gestionnaire principal;
    the operators refuse it from the console."""
    structure_id = query(app, orphan)
    new_client(app, mailbox, PIERRE).submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "73282932000074"}
    )
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    url = f"/administration/structures/{structure_id}/"
    follow(operator, operator.submit(f"{url}demandes/{request_id}/refuser"))


def test_a_refusal_by_the_operators_is_mailed_as_theirs_not_a_managers(app, operator, mailbox):
    """The structure has no gestionnaire principal: the requester was told
    the operators would decide; their refusal does not name a manager to contact."""
    refused_by_the_operators(app, operator, mailbox)
    [mail] = [m for m in mails_to(mailbox, PIERRE["contact_email"]) if "refusée" in m.subject]
    for body in (mail.body_text, mail.body_html):
        assert "L'équipe du portail a refusé votre demande de rattachement" in body
        assert "n'a pas de gestionnaire principal pour le moment" in body
        assert "Le gestionnaire principal" not in body and "contactez-le" not in body


def test_a_decision_on_a_request_is_in_the_requester_s_history(app, operator, mailbox):
    """The console's account page and the trail filtered by an account list
    other accounts' events about it: a decision on its request names it as
    « requester », not « target », and was left out of both."""
    refused_by_the_operators(app, operator, mailbox)
    pierre_id = query(app, lambda: User.by_email(PIERRE["email"]).id)
    decided = "<code>membership.decided</code>"
    assert decided in shown(operator, f"/administration/comptes/{pierre_id}/")
    trail = shown(operator, f"/administration/journal?account={PIERRE['email']}")
    assert decided in trail and "<code>membership.requested</code>" in trail
    assert decided not in shown(operator, "/administration/journal?account=ancien@exemple.fr")


def test_operators_do_not_decide_for_a_structure_that_has_a_manager(app, operator, structure_id, mailbox):
    other = new_client(
        app,
        mailbox,
        {**PIERRE, "email": "x@exemple.fr", "email_confirm": "x@exemple.fr", "contact_email": ""},
    )
    other.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "73282932000074"}
    )
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    url = f"/administration/structures/{structure_id}/"
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/approuver"))
    assert "n'attend plus de décision des opérateurs" in text
    assert query(app, lambda: Membership.get_by_id(request_id).status) == Membership.PENDING


def test_an_erased_structure_reads_deleted_in_the_pages_language(app, operator):
    """A « Particulier » whose holder deleted the account keeps « (supprimé) »
    in place of its details; an English page says « (deleted) »."""
    from rights import ERASED
    from tests.support.i18n import speak

    def erased_particulier() -> int:
        fields = {"company_name": ERASED, "address": ERASED, "city": ERASED, "postal_code": ERASED}
        return Structure.create(
            identifier_type="particulier", identifier="P0000001", country="FR", **fields
        ).id

    structure_id = query(app, erased_particulier)
    french = shown(operator, f"/administration/structures/{structure_id}/")
    assert "<h1>(supprimé)</h1>" in french
    speak(operator, "en")
    english = shown(operator, f"/administration/structures/{structure_id}/")
    assert "<h1>(deleted)</h1>" in english and "(supprimé)" not in english
    rows = shown(operator, "/administration/structures?q=P0000001")
    assert "(deleted)" in rows and "(supprimé)" not in rows


def test_an_erased_structure_reads_deleted_on_the_account_page_of_a_former_requester(app, operator):
    """A request refused by a « Particulier » whose holder then deleted the
    account: the requester's page in the console names the structure as the
    structure's own page does, « (deleted) » in English."""
    from rights import ERASED
    from tests.support.i18n import speak

    def refused_by_an_erased_particulier() -> int:
        fields = {"company_name": ERASED, "address": ERASED, "city": ERASED, "postal_code": ERASED}
        structure = Structure.create(
            identifier_type="particulier", identifier="P0000001", country="FR", **fields
        )
        lucie = user_row(LUCIE_EMAIL, first_name="Lucie", last_name="Martin", status=User.ACTIVE)
        Membership.create(user=lucie, structure=structure, status=Membership.REFUSED, decided_at=utcnow())
        return lucie.id

    lucie_id = query(app, refused_by_an_erased_particulier)
    speak(operator, "en")
    english = shown(operator, f"/administration/comptes/{lucie_id}/")
    assert ">(deleted)</a>" in english and "(supprimé)" not in english


def test_a_structure_search_with_more_matches_than_shown_says_so_not_a_false_count(app, operator):
    def many() -> None:
        for n in range(51):
            Structure.create(
                identifier_type="particulier", identifier=f"P{n:07d}", company_name=f"Homonyme {n:02d}",
                address="1 rue", city="Lyon", postal_code="69001", country="FR",
            )  # fmt: skip

    query(app, many)
    text = shown(operator, "/administration/structures?q=homonyme")
    assert "Plus de 50 structures trouvées" in text
    assert "Seules les 50 premières sont affichées : précisez la recherche." in text
    assert text.count('href="/administration/structures/') == 50
    assert "1 structure trouvée" in shown(operator, "/administration/structures?q=Homonyme 50")


def test_attack_an_operator_s_own_request_is_for_another_operator_to_decide(app, operator, mailbox):
    """An operator asking to join a structure without a gestionnaire principal:
    recorded (it was a 500: the operators' notice named her to herself), told
    to the other operators only, and neither decided by her nor made hers."""
    structure_id = query(app, orphan)
    new_client(app, mailbox, PIERRE)
    grant(app, PIERRE["email"])
    asked = operator.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "73282932000074"}
    )
    assert asked.status_code in (200, 204, 303)
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    told = [m.subject for m in mails_to(mailbox, PIERRE["contact_email"])]
    assert [m for m in mailbox(EMAIL) if "sans gestionnaire" in m.subject] == []
    assert len([subject for subject in told if "sans gestionnaire" in subject]) == 1
    url = f"/administration/structures/{structure_id}/"
    text = follow(operator, operator.submit(f"{url}demandes/{request_id}/approuver"))
    assert "Vous ne pouvez ni décider votre propre demande ni vous désigner" in text
    assert query(app, lambda: Membership.get_by_id(request_id).status) == Membership.PENDING
    # Approved by another operator: she cannot make herself its gestionnaire principal.
    approved = Membership.update(status=Membership.ACTIVE).where(Membership.id == request_id)
    query(app, approved.execute)
    text = follow(operator, operator.submit(url + "gestionnaire", {"member": request_id}))
    assert "Vous ne pouvez ni décider votre propre demande ni vous désigner" in text
    assert query(app, lambda: Membership.get_by_id(request_id).role) == Membership.USER


ASK = {"identifier_type": "siret", "identifier": "73282932000074"}
ONLY_OPERATOR = "vous êtes le seul opérateur du portail : vous ne pouvez pas décider de votre propre demande"
NO_OPERATOR = "le portail n'a pas encore d'opérateur pour la traiter : elle attendra qu'il en ait un"


def test_the_sole_operator_s_own_request_says_who_can_decide_it(app, operator, mailbox):
    """No other operator to tell: she is told so, on the page and by mail,
    rather than that the operators have it; the console's home lists it as
    hers, for the operator granted next."""
    structure_id = query(app, orphan)
    text = follow(operator, operator.submit("/structure/rattachement/demande", ASK))
    assert ONLY_OPERATOR in html.unescape(text) and "transmise aux opérateurs" not in text
    [sent] = [m for m in mailbox(EMAIL) if m.subject == "Votre demande de rattachement est envoyée"]
    assert ONLY_OPERATOR in sent.body_text and "transmise aux opérateurs" not in sent.body_text
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    home = html.unescape(shown(operator, "/administration/"))
    assert f'href="/administration/structures/{structure_id}/#request-{request_id}"' in home
    assert "Votre propre demande : un autre opérateur la décide." in home


def test_with_no_operator_yet_a_request_waits_and_the_first_one_granted_finds_it(app, mailbox):
    """A portal whose operators are not granted yet: the requester is told
    the request waits for one; once granted, the console's home lists it."""
    structure_id = query(app, orphan)
    pierre = new_client(app, mailbox, PIERRE)
    text = follow(pierre, pierre.submit("/structure/rattachement/demande", ASK))
    assert NO_OPERATOR in html.unescape(text)
    [sent] = [m for m in mails_to(mailbox, PIERRE["contact_email"]) if "est envoyée" in m.subject]
    assert NO_OPERATOR in sent.body_text
    grant(app, PIERRE["email"])
    enrol_totp(pierre)
    request_id = query(app, lambda: Membership.get(Membership.status == Membership.PENDING).id)
    home = html.unescape(shown(pierre, "/administration/"))
    assert "1 demande revient aux opérateurs" in home
    assert f'href="/administration/structures/{structure_id}/#request-{request_id}"' in home


def test_the_console_home_lists_the_requests_that_wait_for_operators(app, operator, structure_id, mailbox):
    """Only the requests the operators decide: to a structure whose
    gestionnaire principal is gone (here: his account closed), oldest first;
    none to a structure that has one."""
    assert "Aucune demande n'attend de décision des opérateurs." in shown(operator, "/administration/")
    asker = new_client(app, mailbox, {**PIERRE, "email": "x@exemple.fr", "email_confirm": "x@exemple.fr",
                                      "first_name": "Xavier", "contact_email": ""})  # fmt: skip
    assert asker.submit("/structure/rattachement/demande", ASK).status_code in (200, 204, 303)
    assert "Xavier" not in shown(operator, "/administration/")  # Pierre decides it
    query(app, lambda: User.update(status=User.DISABLED).where(User.email == PIERRE["email"]).execute())
    home = html.unescape(shown(operator, "/administration/"))
    assert "1 demande revient aux opérateurs" in home and "Xavier Durand (x@exemple.fr)" in home
    assert "Votre propre demande" not in home


def test_attack_the_console_s_waiting_requests_are_for_operators_only(app, marie, structure_id):
    """The list names requesters and their addresses: anyone else gets the
    console's 404."""
    query(app, lambda: User.update(status=User.DISABLED).where(User.email == PIERRE["email"]).execute())
    assert marie.submit("/structure/rattachement/demande", ASK).status_code in (200, 204, 303)
    response = marie.get("/administration/")
    assert response.status_code == 404 and EMAIL not in text_of(response)


def test_an_operator_s_request_leaves_her_manager_free_to_close(app, operator, structure_id, mailbox):
    """Pierre manages « Ateliers Curie », an operator's request waits for him:
    closing his account sends it to the operators (it was a 500 and rolled
    the closing back)."""
    asked = operator.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": "73282932000074"}
    )
    assert asked.status_code in (200, 204, 303)
    pierre_id = query(app, lambda: User.by_email(PIERRE["email"]).id)
    response = operator.submit(f"/administration/comptes/{pierre_id}/desactiver")
    assert response.status_code in (200, 204, 303)
    assert query(app, lambda: User.get_by_id(pierre_id).status) != User.ACTIVE


# -- an operator whose role goes while an action is served ------------------------------------


def _structure_url(app, structure_id: int, action: str) -> tuple[str, dict]:
    form = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}
    lucie = query(app, lambda: Membership.get(Membership.user == User.by_email(LUCIE_EMAIL).id).id)
    return {
        "correct": ("modifier", {**form, "company_name": "Prise de contrôle"}),
        "disable": ("desactiver", {}),
        "enable": ("reactiver", {}),
        "designate": ("gestionnaire", {"member": lucie}),
    }[action]


def _state(app, structure_id: int) -> tuple:
    def read():
        structure = Structure.get_by_id(structure_id)
        retried = OutboxMail.select().where(OutboxMail.retried_at.is_null(False)).count()
        epochs = [u.session_epoch for u in User.select().order_by(User.id)]
        return structure.company_name, structure.status, retried, epochs, AuditEvent.select().count()

    return query(app, read)


@pytest.mark.parametrize("action", ["correct", "disable", "enable", "designate", "retry", "sessions"])
def test_attack_an_operator_revoked_as_the_action_is_served_changes_nothing(
    app, operator, structure_id, monkeypatch, action
):
    """The console's gate let Marie in; her role is revoked (another
    operator, the command) before the action's transaction starts. The
    action reads the role again there: nothing is changed nor recorded, and
    the answer is the console's to anyone who is not an operator."""
    import views.admin
    import views.admin.structures
    import views.admin.trail

    grant(app, LUCIE_EMAIL)  # the role may go: she is not the last operator
    if action == "enable":
        query(app, lambda: Structure.update(status=Structure.DISABLED).execute())
    mail_id = failed_mail(app)
    pierre_id = query(app, lambda: User.by_email(PIERRE["email"]).id)
    before = _state(app, structure_id)

    def revoked_meanwhile(_original=views.admin.operator):
        # Another connection (a thread of its own) commits the revocation.
        done = threading.Thread(
            target=query,
            args=(app, lambda: User.update(is_operator=False).where(User.email == EMAIL).execute()),
        )
        done.start()
        done.join()
        return _original()

    for module in (views.admin, views.admin.structures, views.admin.trail):
        monkeypatch.setattr(module, "operator", revoked_meanwhile)
    if action == "retry":
        response = operator.submit(f"/administration/courriels/{mail_id}/reessayer")
    elif action == "sessions":
        response = operator.submit(f"/administration/comptes/{pierre_id}/sessions")
    else:
        path, form = _structure_url(app, structure_id, action)
        response = operator.submit(f"/administration/structures/{structure_id}/{path}", form)
    assert response.status_code == 404, text_of(response)
    assert "Page introuvable" in text_of(response)
    assert _state(app, structure_id) == before and roles(app)[PIERRE["email"]] == Membership.MANAGER


def test_an_action_racing_a_revocation_on_postgresql_waits_for_it_and_is_refused(pg_app):
    """PostgreSQL (READ COMMITTED): the revocation has updated the
    operator's row but not committed; the action reading the role then would
    see it and go on. It waits for the revocation instead (the row held FOR
    SHARE), then reads the role gone."""
    import operations
    from models import db

    def setting_up():
        lucie = user_row(LUCIE_EMAIL, status=User.ACTIVE, is_operator=True)
        structure = Structure.register(lucie, "siret", "73282932000074", **{
            k: STRUCTURE[k] for k in ("company_name", "address", "city", "postal_code", "country")
        })  # fmt: skip
        return lucie, structure

    lucie, structure = query(pg_app, setting_up)
    answered = []

    def disable_meanwhile():
        with pg_app.test_request_context(), db.connection_context():
            try:
                answered.append(operations.disable_structure(lucie, structure))
            except operations.NoLongerOperator:
                answered.append("no longer operator")

    with pg_app.app_context(), db.connection_context(), db.atomic():
        User.update(is_operator=False).where(User.id == lucie.id).execute()
        other = threading.Thread(target=disable_meanwhile)
        other.start()
        other.join(0.5)
        assert answered == []  # held until the revocation commits
    other.join(10)
    assert answered == ["no longer operator"]
    assert query(pg_app, lambda: Structure.get_by_id(structure.id).status) == Structure.ACTIVE
