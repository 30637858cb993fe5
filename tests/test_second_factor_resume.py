"""A form sent while the session owes its second factor loses nothing typed:
a console form sent by an operator whose session has not passed the second
step (signed in on a trusted device, or before enrolling elsewhere), or
whose last factor was removed meanwhile (enrolment first); « Mon compte »
sent by an account that a factor became required of (it just became a
structure's gestionnaire principal under ``managers``). What was sent, but
its secrets, is kept for that account in this browser, and the page it was
sent from takes it back once the second step (or the enrolment) is done.
Attacks are named after what they try."""

from __future__ import annotations

import json

import pytest

from models import Draft, RecoveryCode, SecondFactor, Structure
from tests.support.app import Client, HtmxClient, clean_environment, make_app, outbox, query
from tests.support.constants import EMAIL, PASSWORD
from tests.support.operators import grant
from tests.support.responses import text_of
from tests.support.second_factor import FACTORS, VERIFY, code_at, enrol_totp, second_step
from tests.support.structures import PIERRE, STRUCTURE, create_structure, new_client, sign_up
from tests.test_language_carry import value_of

KEPT = "il vous attend sur la page une fois la vérification en deux étapes faite."
DETAILS = {k: v for k, v in STRUCTURE.items() if k not in ("identifier_type", "identifier")}


def kept_rows(app) -> list[dict]:
    kept = (":carried", ":resume")  # the page's record, and the one waiting for the second factor
    return query(app, lambda: [json.loads(d.data) for d in Draft.select() if d.key.endswith(kept)])


def full_page(client, url: str) -> str:
    mode, client.htmx = client.htmx, False
    page = text_of(client.get(url))
    client.htmx = mode
    return page


def sent_from(client, url: str, fields: dict, to: str | None = None, token: bool = True):
    """The form of page ``url`` sent (to ``to``, or the page's own address), as a browser names its page."""
    where = f"http://localhost{url}"
    headers = {"Referer": where, "HX-Current-URL": where}
    if token:
        return client.submit(to or url, fields, headers=headers)
    return client.post(to or url, data=fields, headers=headers)


def led_to(client, response) -> str:
    """Where an answer leads: its Location, or under htmx its HX-Redirect (a whole page)."""
    assert response.status_code in (200, 204, 303), text_of(response)
    if response.status_code == 303:
        return response.headers["Location"]
    return response.headers["HX-Redirect"]


def forget_the_second_step(client) -> None:
    with client.session_transaction() as session:
        session.pop("second_factor_at")  # e.g. a session signed in on a trusted device


def remove_every_factor(app) -> None:
    """Marie's factors removed meanwhile (from another browser), her recovery codes with the last."""
    query(app, lambda: (SecondFactor.delete().execute(), RecoveryCode.delete().execute()))


def operator_with_a_structure(app, client, mailbox) -> tuple[str, str]:
    """Marie, an operator with an authenticator app, and the console's edit of
    her structure: (the app's secret, the edit's address)."""
    sign_up(client, mailbox)
    grant(app, EMAIL)
    secret, _ = enrol_totp(client)
    mode, client.htmx = client.htmx, False
    assert create_structure(client).status_code == 303
    client.htmx = mode
    return secret, f"/administration/structures/{query(app, Structure.get).id}/modifier"


def test_a_console_form_sent_before_the_second_step_comes_back_filled_after_it(app, any_client, mailbox):
    client = any_client
    secret, url = operator_with_a_structure(app, client, mailbox)
    shown = value_of(full_page(client, url), "seen")
    forget_the_second_step(client)

    response = sent_from(client, url, {**DETAILS, "seen": shown, "label": "Atelier du quai"})

    assert response.status_code == 303 and response.headers["Location"] == VERIFY
    assert KEPT in full_page(client, VERIFY)
    assert query(app, Structure.get).label == DETAILS["label"]  # nothing written before the second step
    assert led_to(client, second_step(client, code_at(secret, +1))) == url
    page = full_page(client, url)
    assert value_of(page, "label") == "Atelier du quai" and value_of(page, "seen") == shown
    assert kept_rows(app) == []  # taken back once
    assert value_of(full_page(client, url), "label") == DETAILS["label"]


def test_a_console_form_sent_after_the_last_factor_was_removed_comes_back_after_enrolment(
    app, any_client, mailbox
):
    client = any_client
    _, url = operator_with_a_structure(app, client, mailbox)
    shown = value_of(full_page(client, url), "seen")
    remove_every_factor(app)

    response = sent_from(client, url, {**DETAILS, "seen": shown, "city": "Lyon", "postal_code": "69002"})

    assert response.status_code == 303 and response.headers["Location"] == FACTORS
    assert KEPT in full_page(client, FACTORS)
    enrol_totp(client)
    response = client.submit(f"{FACTORS}codes-de-secours/conserves")
    assert led_to(client, response) == url
    page = full_page(client, url)
    assert (value_of(page, "city"), value_of(page, "postal_code")) == ("Lyon", "69002")
    assert kept_rows(app) == []


@pytest.fixture(params=[False, True], ids=["page", "htmx"])
def plain_app(request, tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path)
    app.test_client_class = HtmxClient if request.param else Client
    return app


def test_a_structure_s_edit_sent_once_a_factor_became_required_comes_back_after_enrolment(plain_app):
    """Marie manages « Ateliers Curie » and has its edit page open when the
    operators require a second factor of every gestionnaire principal: the
    edit she sends leads to enrolment, and comes back filled once it is done.
    (« Mon compte »'s own forms stay open: views.factors.OPEN_TO_UNENROLLED.)"""
    app = plain_app
    client = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    mode, client.htmx = client.htmx, False
    assert create_structure(client).status_code == 303
    client.htmx = mode
    url = f"/structure/{query(app, Structure.get).id}/modifier"
    shown = value_of(full_page(client, url), "seen")
    app.config["TWO_FACTOR_POLICY"] = "managers"

    typed = {**DETAILS, "seen": shown, "city": "Lyon", "postal_code": "69002"}
    response = sent_from(client, url, typed)

    assert led_to(client, response) == FACTORS
    enrol_totp(client)
    response = client.submit(f"{FACTORS}codes-de-secours/conserves")
    assert led_to(client, response) == url
    page = full_page(client, url)
    assert (value_of(page, "city"), value_of(page, "postal_code")) == ("Lyon", "69002")


def test_a_form_with_nothing_typed_keeps_nothing_and_still_comes_back(app, client, mailbox):
    secret, url = operator_with_a_structure(app, client, mailbox)
    forget_the_second_step(client)
    response = sent_from(client, url.replace("/modifier", "/desactiver"), {})
    assert response.headers["Location"] == VERIFY
    assert kept_rows(app) == [] and KEPT not in full_page(client, VERIFY)


@pytest.mark.parametrize("signed_out_first", [True, False], ids=["signed-out", "signed-in-over"])
def test_attack_another_account_signing_in_on_the_browser_gets_nothing(
    app, client, mailbox, signed_out_first
):
    """A shared computer: Marie left at the second step; Pierre signs in on
    the same browser, after « Se déconnecter » or straight over her session."""
    new_client(app, mailbox, PIERRE)
    secret, url = operator_with_a_structure(app, client, mailbox)
    shown = value_of(full_page(client, url), "seen")
    forget_the_second_step(client)
    sent_from(client, url, {**DETAILS, "seen": shown, "label": "Atelier du quai"})
    assert len(kept_rows(app)) == 1

    if signed_out_first:
        client.submit("/deconnexion")
        assert kept_rows(app) == []  # forgotten at the sign-out
    response = client.submit("/connexion", {"email": PIERRE["email"], "password": PASSWORD})
    assert response.status_code == 303
    assert kept_rows(app) == []  # never carried for Pierre
    assert "Atelier du quai" not in full_page(client, url.replace("/administration/structures", "/structure"))


def test_attack_secrets_sent_before_the_second_step_are_never_kept(app, client, mailbox):
    secret, url = operator_with_a_structure(app, client, mailbox)
    shown = value_of(full_page(client, url), "seen")
    forget_the_second_step(client)
    secrets_ = {"password": PASSWORD, "current_password": PASSWORD, "code": "123456"}
    sent_from(client, url, {**DETAILS, "seen": shown, "label": "Atelier du quai", **secrets_})
    [row] = kept_rows(app)
    assert row["label"] == "Atelier du quai"
    assert not set(secrets_) & set(row) and "csrf_token" not in row
    assert PASSWORD not in json.dumps(row)


def test_attack_a_flood_of_fields_sent_before_the_second_step_is_kept_bounded(app, client, mailbox):
    secret, url = operator_with_a_structure(app, client, mailbox)
    forget_the_second_step(client)
    flood = {f"field_{n}": "x" * 1000 for n in range(300)}
    sent_from(client, url, {"label": "y" * 5000, **flood})
    [row] = kept_rows(app)
    assert len(row) <= 62  # at most forms.MAX_TYPED fields, with its page and account
    assert all(len(value) <= 300 for value in row.values() if isinstance(value, str) and value != url)


def test_attack_another_site_cannot_fill_a_console_form(app, client, mailbox):
    """A form sent without this session's token (from another site) is
    kept for nobody: the page would come back filled by a stranger."""
    secret, url = operator_with_a_structure(app, client, mailbox)
    forget_the_second_step(client)
    response = sent_from(client, url, {**DETAILS, "label": "Saisi ailleurs"}, token=False)
    assert response.headers["Location"] == VERIFY
    forged = {**DETAILS, "label": "Saisi ailleurs", "csrf_token": "forged"}
    response = sent_from(client, url, forged, token=False)
    assert kept_rows(app) == []
    sent_from(client, url, {**DETAILS, "label": "Saisi ici"})  # the page's own form, with its token
    assert [row["label"] for row in kept_rows(app)] == ["Saisi ici"]
    second_step(client, code_at(secret, +1))
    page = full_page(client, url)
    assert "Saisi ailleurs" not in page and value_of(page, "label") == "Saisi ici"


def test_a_form_whose_token_went_stale_comes_back_to_its_page_empty(app, client, mailbox):
    """A sign-in in another tab renews the session's token: the form's is no
    longer this session's, so nothing it holds can be told from a stranger's.
    The second step still comes back to the page it was sent from."""
    secret, url = operator_with_a_structure(app, client, mailbox)
    forget_the_second_step(client)
    stale = {**DETAILS, "label": "Atelier du quai", "csrf_token": "stale"}
    response = sent_from(client, url, stale, token=False)
    assert response.headers["Location"] == VERIFY and kept_rows(app) == []
    assert led_to(client, second_step(client, code_at(secret, +1))) == url
    assert value_of(full_page(client, url), "label") == DETAILS["label"]
