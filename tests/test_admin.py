"""« Administration »: the operator role and its command, the console's
pages and account actions, each as an operator (full page and htmx
fragment) and as anyone else (404); every action audited with the
operator's account."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from models import AuditEvent, Structure, Token, User, db, utcnow
from tests.support.app import Client, clean_environment, make_app, outbox, query, user_row
from tests.support.constants import EMAIL, PASSWORD
from tests.support.operators import account, account_id, grant
from tests.support.responses import follow, led_to, shown, signs_in_first, text_of
from tests.support.second_factor import enrol_totp, password_step, second_step
from tests.support.signup import PERSON, Signup, link_in
from tests.support.structures import (
    PIERRE,
    create_structure,
    mails_to,
    move_to_idn_domain,
    new_client,
    sign_up,
)

PIERRE_EMAIL = PIERRE["email"]


@pytest.fixture
def pierre(app, mailbox) -> Client:
    """Pierre Durand, an ordinary account with its structure, signed in on his own browser."""
    client = new_client(app, mailbox, PIERRE)
    assert create_structure(client).status_code == 303
    return client


def admin_events(app, name: str) -> list[AuditEvent]:
    return query(app, lambda: list(AuditEvent.select().where(AuditEvent.event == name)))


# -- the command ---------------------------------------------------------------------------


def run(app, *args):
    return app.test_cli_runner().invoke(args=["operator", *args])


def another_operator(app, email: str = "relais@exemple.fr") -> str:
    """Another active account, made an operator by the command; its address."""
    query(app, lambda: user_row(email, status=User.ACTIVE))
    grant(app, email)
    return email


def test_operator_grant_list_revoke(app, account):
    assert "No operator." in run(app, "list").output
    result = run(app, "grant", "Marie.Curie@Exemple.fr")
    assert result.exit_code == 0 and "now an operator" in result.output
    assert "already an operator" in run(app, "grant", EMAIL).output
    assert EMAIL in run(app, "list").output
    other = another_operator(app)
    assert "no longer an operator" in run(app, "revoke", EMAIL).output
    assert run(app, "list").output.splitlines()[0].startswith(other)
    assert [e.outcome for e in admin_events(app, "operator.granted")] == ["success", "success"]
    assert len(admin_events(app, "operator.revoked")) == 1


def test_operator_grant_refuses_an_unknown_or_inactive_account(app, signup):
    result = run(app, "grant", "personne@exemple.fr")
    assert result.exit_code != 0 and "No account" in result.output
    signup.create_account()  # pending, never activated
    result = run(app, "grant", EMAIL)
    assert result.exit_code != 0 and "not active" in result.output
    assert not account(app, EMAIL).is_operator


# -- the gate -----------------------------------------------------------------------------

PAGES = ["/administration/", "/administration/comptes?q=a", "/administration/structures?q=a",
         "/administration/courriels", "/administration/journal"]  # fmt: skip


@pytest.mark.parametrize("url", PAGES)
def test_every_console_page_is_404_for_visitors_and_ordinary_accounts(app, any_client, mailbox, url):
    assert any_client.get(url).status_code == 404
    sign_up(any_client, mailbox)
    response = any_client.get(url)
    assert response.status_code == 404
    assert "Administration" not in text_of(response)


def test_every_console_action_is_404_for_an_ordinary_account_attack_privilege_escalation(
    app, pierre, mailbox
):
    """Pierre, signed in, posts to every action with a valid CSRF token."""
    marie = new_client(app, mailbox, PERSON)
    marie_id = account_id(app, EMAIL)
    structure_id = query(app, lambda: Structure.get().id)
    for url in (
        f"/administration/comptes/{marie_id}/desactiver",
        f"/administration/comptes/{marie_id}/reactiver",
        f"/administration/comptes/{marie_id}/sessions",
        f"/administration/comptes/{marie_id}/activation",
        f"/administration/structures/{structure_id}/desactiver",
        f"/administration/structures/{structure_id}/modifier",
        f"/administration/structures/{structure_id}/gestionnaire",
        "/administration/courriels/reessayer",
    ):
        assert pierre.submit(url).status_code == 404, url
    assert account(app, EMAIL).status == User.ACTIVE
    assert marie.get("/mon-compte/").status_code == 200  # her session lives on
    assert query(app, lambda: AuditEvent.select().where(AuditEvent.event.startswith("admin.")).count()) == 0


def test_a_revoked_operator_meets_404_at_once(app, operator):
    assert operator.get("/administration/").status_code == 200
    another_operator(app)
    assert run(app, "revoke", EMAIL).exit_code == 0
    assert operator.get("/administration/").status_code == 404


def test_the_console_refuses_a_post_without_csrf_token_attack_cross_site_request(app, operator, pierre):
    pierre_id = account_id(app, PIERRE_EMAIL)
    response = operator.post(f"/administration/comptes/{pierre_id}/desactiver", data={})
    assert response.status_code == 400
    assert account(app, PIERRE_EMAIL).status == User.ACTIVE


# -- pages --------------------------------------------------------------------------------


def test_home_page(operator):
    text = shown(operator, "/administration/")
    assert "<h1>Administration</h1>" in text
    assert 'aria-current="page"' in text


def test_the_headers_administration_link_is_marked_current_on_every_console_page_only(operator, pierre):
    current = '<a href="/administration/" aria-current="page">Administration</a>'
    for path in ("/administration/", "/administration/comptes?q=pierre", "/administration/journal"):
        text = shown(operator, path)
        if not operator.htmx or "account-nav" in text:  # under htmx, the nav comes out of band
            assert current in text, path
    assert current not in shown(operator, "/espace/")
    assert '<a href="/administration/">Administration</a>' in shown(operator, "/mon-compte/")


def test_console_pages_are_wider_than_the_flows_for_their_tables(operator, client):
    """At 46rem, the outbox's six columns broke addresses and subjects in
    every cell; the console's pages take 64rem, the flow's keep their measure."""
    operator.htmx = False  # the layout: a page opened from a link
    for path in ("/administration/", "/administration/courriels", "/administration/comptes?q=a"):
        assert '<main id="main" class="container container--wide"' in shown(operator, path), path
    assert '<main id="main" class="container"' in text_of(client.get("/"))


def test_approvals_take_the_consoles_width_for_their_four_columns_and_two_buttons(manager):
    """At 46rem, « Approbations » broke names, addresses and dates and stacked its buttons."""
    assert '<main id="main" class="container container--wide"' in shown(manager, "/approbations/")


def test_accounts_search_by_email_name_and_structure(operator, pierre):
    for query_text in ("pierre.durand", "Durand", "pierre durand", "Ateliers Curie", "73282932000074"):
        text = shown(operator, f"/administration/comptes?q={query_text}")
        assert "Pierre Durand" in text, query_text
    text = shown(operator, "/administration/comptes?q=personne")
    assert "Aucun compte trouvé" in text


def test_accounts_search_finds_a_name_whatever_the_case_of_its_accents_and_its_order(app, operator):
    """« éric » missed « Éric » (SQLite's LIKE ignores the case of ASCII
    letters only), and « Nom Prénom », as names are often said, found nobody."""
    query(app, lambda: user_row("eric.lefevre@exemple.fr", first_name="Éric", last_name="Lefèvre"))
    for text in ("éric", "ÉRIC", "éric lefèvre", "LEFÈVRE", "Lefèvre Éric", "lefèvre éric"):
        assert "Éric Lefèvre" in shown(operator, f"/administration/comptes?q={text}"), text


def test_accounts_search_finds_a_name_typed_without_its_accents(app, operator):
    """An operator's keyboard, or haste, leaves the accents out: « eric lefevre »
    found nobody while « Éric Lefèvre » had an account."""
    query(app, lambda: user_row("eric.lefevre@exemple.fr", first_name="Éric", last_name="Lefèvre"))
    query(app, lambda: user_row("coeur@exemple.fr", first_name="Anaïs", last_name="Sœurdemarie"))
    for text in ("eric", "ERIC LEFEVRE", "lefevre eric", "Lefévre", "ÉRIC LEFÈVRE"):
        assert "Éric Lefèvre" in shown(operator, f"/administration/comptes?q={text}"), text
    for text in ("anais", "soeurdemarie", "SOEUR", "sœur", "Œ"):
        assert "Anaïs Sœurdemarie" in shown(operator, f"/administration/comptes?q={text}"), text
    text = shown(operator, "/administration/comptes?q=erik")
    assert "Aucun compte trouvé" in text


def test_accounts_search_without_accents_still_treats_wildcards_as_text_attack_like_injection(app, operator):
    query(app, lambda: user_row("eric.lefevre@exemple.fr", first_name="Éric", last_name="Lefèvre"))
    for text in ("%25", "_ric", "l_f%25vre"):
        assert "Aucun compte trouvé" in shown(operator, f"/administration/comptes?q={text}"), text


def test_accounts_search_treats_wildcards_as_text_attack_like_injection(operator, pierre):
    assert "Aucun compte trouvé" in shown(operator, "/administration/comptes?q=%25")
    assert "Aucun compte trouvé" in shown(operator, "/administration/comptes?q=_")


def test_accounts_search_too_long_is_an_error_next_to_the_field(operator):
    response = operator.get("/administration/comptes?q=" + "a" * 300)
    assert response.status_code == 422
    assert "200 caractères au plus." in text_of(response)
    assert "a" * 300 in text_of(response)  # nothing typed is lost


def test_account_page(app, operator, pierre):
    text = shown(operator, f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/")
    assert "Pierre Durand" in text and PIERRE_EMAIL in text
    assert "Actif" in text and "Ateliers Curie" in text and "Gestionnaire principal" in text
    assert "Dernière connexion" in text and "structure.created" in text


def test_an_unknown_account_is_404(operator):
    assert operator.get("/administration/comptes/999999/").status_code == 404


# -- account actions ------------------------------------------------------------------------


def test_disable_then_enable_an_account(app, operator, pierre, mailbox):
    pierre_id = account_id(app, PIERRE_EMAIL)
    url = f"/administration/comptes/{pierre_id}/"
    response = operator.submit(f"{url}desactiver")
    text = follow(operator, response, pushed=url)
    assert "Le compte est désactivé" in text and "Désactivé" in text
    # His open session has ended, and he cannot sign in again.
    assert signs_in_first(pierre.get("/mon-compte/"))
    signed = pierre.submit("/connexion", {"email": PIERRE_EMAIL, "password": PASSWORD})
    assert signed.status_code != 303
    assert [m.subject for m in mails_to(mailbox, PIERRE["contact_email"])][-1] == "Votre compte est désactivé"
    assert "Votre compte est désactivé" in [m.subject for m in mailbox(PIERRE_EMAIL)]

    text = follow(operator, operator.submit(f"{url}reactiver"), pushed=url)
    assert "Le compte est réactivé" in text
    assert pierre.submit("/connexion", {"email": PIERRE_EMAIL, "password": PASSWORD}).status_code == 303
    assert mails_to(mailbox, PIERRE["contact_email"])[-1].subject == "Votre compte est réactivé"

    events = admin_events(app, "admin.account_disabled") + admin_events(app, "admin.account_enabled")
    assert [e.account for e in events] == [EMAIL, EMAIL]
    assert all(json.loads(e.details) == {"target": PIERRE_EMAIL} for e in events)


def test_attack_an_operator_closed_meanwhile_reopens_no_account(app, mailbox):
    """A request let in just before its operator's account was closed (as
    a stolen one would be, with the account it had reopened) does nothing;
    closing and deleting already held so."""
    import operations

    query(app, lambda: user_row("relais@exemple.fr", status=User.ACTIVE, is_operator=True))
    query(app, lambda: user_row(PIERRE_EMAIL, status=User.DISABLED))

    def race():
        request_of_relais = User.by_email("relais@exemple.fr")
        User.update(status=User.DISABLED).where(User.email == "relais@exemple.fr").execute()
        return operations.enable(request_of_relais, User.by_email(PIERRE_EMAIL))

    with app.test_request_context(), db.connection_context():
        assert race() is False
    assert account(app, PIERRE_EMAIL).status == User.DISABLED
    assert admin_events(app, "admin.account_enabled") == []


@pytest.mark.parametrize("meanwhile", ["operator_closed", "account_activated"])
def test_attack_a_resend_let_in_before_a_change_sends_no_link(app, mailbox, meanwhile):
    """A « Renvoyer le lien d'activation » let in just before its operator's
    account was closed (a stolen one being shut down), or before the holder
    activated the account, mails no link: the first, as closing and
    reopening refuse it; the second, an activation link for an open account."""
    import operations

    query(app, lambda: user_row("relais@exemple.fr", status=User.ACTIVE, is_operator=True))
    query(app, lambda: user_row(PIERRE_EMAIL, status=User.PENDING))
    before = len(mailbox(PIERRE_EMAIL))

    def race():
        request_of_relais = User.by_email("relais@exemple.fr")
        target = User.by_email(PIERRE_EMAIL)
        if meanwhile == "operator_closed":
            User.update(status=User.DISABLED).where(User.email == "relais@exemple.fr").execute()
        else:
            User.update(status=User.ACTIVE).where(User.email == PIERRE_EMAIL).execute()
        return operations.resend_activation(request_of_relais, target)

    with app.test_request_context(), db.connection_context():
        assert race() is False
    assert len(mailbox(PIERRE_EMAIL)) == before
    assert admin_events(app, "admin.activation_resent") == []


def test_disabling_twice_changes_nothing_more(app, operator, pierre, mailbox):
    url = f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/desactiver"
    operator.submit(url)
    count = len(mailbox())
    text = follow(operator, operator.submit(url))
    assert "ne peut pas être désactivé" in text
    assert len(mailbox()) == count
    assert len(admin_events(app, "admin.account_disabled")) == 1


def test_an_operator_cannot_disable_their_own_account(app, operator):
    text = follow(operator, operator.submit(f"/administration/comptes/{account_id(app, EMAIL)}/desactiver"))
    assert "ne peut pas être désactivé" in text
    assert account(app, EMAIL).status == User.ACTIVE


def test_revoke_all_sessions(app, operator, pierre):
    url = f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/"
    epoch = account(app, PIERRE_EMAIL).session_epoch
    text = follow(operator, operator.submit(f"{url}sessions"), pushed=url)
    assert "Toutes les sessions du compte sont fermées." in text
    assert account(app, PIERRE_EMAIL).session_epoch == epoch + 1
    assert signs_in_first(pierre.get("/mon-compte/"))
    assert admin_events(app, "admin.sessions_revoked")[0].account == EMAIL


def test_an_operator_closing_their_own_sessions_is_led_to_sign_in_not_to_a_404(app, operator):
    """Their session ended with the others: the console's page would now
    answer 404 (with JavaScript off) or stay on screen though signed out (htmx)."""
    response = operator.submit(f"/administration/comptes/{account_id(app, EMAIL)}/sessions")
    assert led_to(operator, response) == "/connexion"
    operator.htmx = False
    text = text_of(operator.get("/connexion"))
    assert "Toutes vos sessions sont fermées, celle-ci comprise : connectez-vous à nouveau." in text
    assert signs_in_first(operator.get("/mon-compte/"))
    assert admin_events(app, "admin.sessions_revoked")[0].details == json.dumps({"target": EMAIL})


def _signed_up_minutes_ago(app, mailbox) -> None:
    """Pierre signed up (pending) a while ago: his link is no longer a fresh one."""
    app.test_client_class = Client
    Signup(app.test_client(), mailbox).create_account(**PIERRE)
    query(app, lambda: Token.update(created_at=utcnow() - timedelta(minutes=5)).execute())


def test_resend_activation_to_a_pending_account(app, operator, mailbox):
    _signed_up_minutes_ago(app, mailbox)
    before = [m for m in mailbox(PIERRE_EMAIL) if m.subject == "Activez votre compte"]
    url = f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/"
    text = follow(operator, operator.submit(f"{url}activation"), pushed=url)
    assert "Un nouveau lien d'activation a été envoyé." in text
    after = [m for m in mailbox(PIERRE_EMAIL) if m.subject == "Activez votre compte"]
    assert len(after) == len(before) + 1
    assert admin_events(app, "admin.activation_resent")[0].account == EMAIL


def test_attack_double_submit_of_resend_activation_sends_one_link_and_keeps_it_valid(app, operator, mailbox):
    """A second click moments later would revoke the link just mailed, which
    the holder may be opening: nothing is sent, and the page says why."""
    _signed_up_minutes_ago(app, mailbox)
    url = f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/"
    operator.submit(f"{url}activation")
    text = follow(operator, operator.submit(f"{url}activation"), pushed=url)
    assert "Un lien d'activation vient d'être envoyé : aucun autre n'est envoyé" in text
    links = [link_in(m) for m in mailbox(PIERRE_EMAIL) if m.subject == "Activez votre compte"]
    assert len(links) == 2  # the sign-up's, and the operator's one
    assert operator.get(links[-1]).status_code == 200  # still valid
    assert len(admin_events(app, "admin.activation_resent")) == 1


def test_attack_two_resends_at_once_on_postgresql_send_one_link(pg_app, pg_mailbox, monkeypatch):
    """Released together, both would read no fresh link before either
    commits: the account's row is locked, so the second waits and finds one."""
    import time

    import operations
    from tests.support.concurrency import at_once

    _signed_up_minutes_ago(pg_app, pg_mailbox)
    read = Token.last_issued_at

    def read_then_dawdle(user, purpose):
        found = read(user, purpose)
        time.sleep(0.2)  # both have read before either writes, unless one waits
        return found

    monkeypatch.setattr(Token, "last_issued_at", read_then_dawdle)
    query(pg_app, lambda: user_row("relais@exemple.fr", status=User.ACTIVE, is_operator=True))

    def resend():
        with pg_app.test_request_context(), db.connection_context():
            try:
                return operations.resend_activation(
                    User.by_email("relais@exemple.fr"), User.by_email(PIERRE_EMAIL)
                )
            except operations.LinkJustSent:
                return "refused"

    assert sorted(at_once([resend, resend]), key=str) == [True, "refused"]
    assert len([m for m in pg_mailbox(PIERRE_EMAIL) if m.subject == "Activez votre compte"]) == 2


def test_resend_activation_to_an_active_account_sends_nothing(app, operator, pierre, mailbox):
    count = len(mailbox())
    text = follow(
        operator, operator.submit(f"/administration/comptes/{account_id(app, PIERRE_EMAIL)}/activation")
    )
    assert "n'attend pas d'activation" in text
    assert len(mailbox()) == count


def test_console_actions_are_rate_limited_attack_action_flood(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_ADMIN="2 per minute")
    app.test_client_class = Client
    marie = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    grant(app, EMAIL)
    _secret, recovery_codes = enrol_totp(marie)
    url = f"/administration/comptes/{account_id(app, EMAIL)}/sessions"
    statuses = []
    for code in recovery_codes[:3]:
        statuses.append(marie.submit(url).status_code)
        _signed_in_again(marie, code)
    assert statuses[:2] == [303, 303] and statuses[2] == 429


def _signed_in_again(client, recovery_code: str) -> None:
    """Closing every session also closes the operator's own: sign in again,
    password then second factor (a recovery code: each is good once)."""
    password_step(client)
    second_step(client, recovery_code, method="recovery")


def test_the_console_is_404_before_any_other_check_attack_probing(client, app):
    """A POST without CSRF token answers like a page that does not exist: the
    console's routes cannot be told apart from no route at all."""
    assert client.post("/administration/comptes/1/desactiver").status_code == 404
    assert client.post("/administration/nulle-part").status_code == 404


CONSOLE_ADDRESSES_OFF_ROUTE = [
    ("get", "/administration"),  # its page is at /administration/: a 308 would say so
    ("get", "/administration/comptes/1"),
    ("get", "/administration/comptes/1/desactiver"),  # a POST-only action: a 405 would say so
    ("delete", "/administration/structures/1/desactiver"),
    ("head", "/administration/courriels/reessayer"),
    ("post", "/administration/comptes/1/"),
    ("options", "/administration/structures/1"),
]


@pytest.mark.parametrize(("method", "url"), CONSOLE_ADDRESSES_OFF_ROUTE)
def test_a_visitor_cannot_map_the_console_by_method_or_slash_attack_probing(
    app, any_client, mailbox, method, url
):
    """A wrong method or a missing slash answers 404 to anyone but an
    operator, as on an address that does not exist, not 405 (with the
    methods that would work) or a redirect to the console's page."""
    response = getattr(any_client, method)(url)
    assert (response.status_code, response.headers.get("Allow"), response.headers.get("Location")) == (
        404,
        None,
        None,
    )
    sign_up(any_client, mailbox)
    response = getattr(any_client, method)(url)
    assert response.status_code == 404 and "Allow" not in response.headers


HOSTILE_REQUESTS = {
    "a NUL in the query": lambda client, url: client.get(f"{url}?q=%00"),
    "a NUL in the form": lambda client, url: client.post(url, data={"q": "\x00"}),
    "a body over the size limit": lambda client, url: client.post(url, data={"q": "x" * (2 * 1024 * 1024)}),
}


@pytest.mark.parametrize("hostile", HOSTILE_REQUESTS)
def test_a_visitor_cannot_tell_the_console_by_hostile_requests_attack_probing(
    app, any_client, mailbox, hostile
):
    """Such a request is refused (400, 413) on an address that does not exist:
    under /administration it must be refused alike, not answer 404 instead."""
    send = HOSTILE_REQUESTS[hostile]
    for signed_in in (False, True):
        if signed_in:
            sign_up(any_client, mailbox)
        missing = send(any_client, "/nulle-part").status_code
        assert missing in (400, 413)
        for url in ("/administration/", "/administration/comptes/1/desactiver", "/administration/nulle-part"):
            assert send(any_client, url).status_code == missing, (url, signed_in)


def test_an_operator_still_meets_the_redirect_and_the_405_off_route(operator):
    response = operator.get("/administration")
    assert response.status_code == 308 and response.headers["Location"].endswith("/administration/")
    assert operator.get("/administration/comptes/1/desactiver").status_code == 405


def test_accounts_search_finds_an_internationalised_domain_as_it_is_shown(app, operator, pierre):
    """The console shows « exemple-été.fr »; the operator types what they read."""
    move_to_idn_domain(app, "pierre.durand@exemple.fr")
    assert "pierre.durand@exemple-été.fr" in shown(operator, "/administration/comptes?q=pierre.durand")
    for query_text in ("pierre.durand@exemple-été.fr", "exemple-été.fr", "EXEMPLE-ÉTÉ", "xn--exemple-t-i4ab"):
        text = shown(operator, f"/administration/comptes?q={query_text}")
        assert "Pierre Durand" in text, query_text


def test_a_search_with_more_matches_than_shown_says_so_not_a_false_count(app, operator):
    """50 rows are shown at most: with 51 matches the heading must not read
    « 50 comptes trouvés »; with exactly 50 it does."""
    from tests.support.app import user_row
    from tests.support.i18n import speak

    def many(count: int) -> None:
        for n in range(count):
            user_row(f"homonyme{n:02d}@exemple.fr", first_name="Jean", last_name="Homonyme")

    query(app, lambda: many(50))
    text = shown(operator, "/administration/comptes?q=homonyme")
    assert "50 comptes trouvés" in text and "Plus de" not in text
    query(app, lambda: user_row("homonyme50@exemple.fr", first_name="Jean", last_name="Homonyme"))
    text = shown(operator, "/administration/comptes?q=homonyme")
    assert "Plus de 50 comptes trouvés" in text
    assert "Seuls les 50 premiers sont affichés : précisez la recherche." in text
    assert text.count('href="/administration/comptes/') == 50
    speak(operator, "en")
    text = shown(operator, "/administration/comptes?q=homonyme")
    assert "More than 50 accounts found" in text and "Only the first 50 are shown: narrow the search." in text
