"""The address a sign-up gave refuses mail (its mailbox does not exist): the
mail-sent page says so, instead of « Vérifiez votre messagerie » for a mail
that will never come, and offers to start again with another address.
Delivery goes to a real SMTP server (aiosmtpd). Attacks are named after what
they try."""

from __future__ import annotations

import time

import pytest

from models import OutboxMail
from tests.support.app import HtmxClient, query
from tests.support.responses import text_of
from tests.support.signup import sign_up

GONE = "parti@exemple.fr"
REFUSED = "a refusé le courriel d'activation : cette adresse n'existe pas ou ne reçoit pas de courriels."


def given_up(app, recipient: str) -> None:
    """Delivery follows the sign-up in a thread: until its mail is given up."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mail = query(app, lambda: OutboxMail.get_or_none(OutboxMail.recipient == recipient))
        if mail is not None and mail.given_up_at is not None:
            return
        time.sleep(0.02)
    raise AssertionError(f"the mail to {recipient} was not given up")


@pytest.mark.parametrize("kind", ["page", "htmx"])
def test_the_mail_sent_page_says_the_mailbox_refused_the_mail(smtp_app, smtp, kind):
    smtp.unknown.add(GONE)
    client = smtp_app.test_client()
    assert sign_up(client, GONE).status_code == 303
    given_up(smtp_app, GONE)
    if kind == "htmx":
        client.__class__ = HtmxClient
    page = text_of(client.get("/inscription/envoye"))
    assert f"<strong>{GONE}</strong> {REFUSED}" in page and "Courriel refusé" in page
    assert 'href="/inscription/">Recommencer l\'inscription avec une autre adresse</a>' in page
    assert "Renvoyer le courriel" not in page and "Vérifiez votre messagerie" not in page


def test_a_mailbox_that_takes_the_mail_is_told_to_check_it(smtp_app, smtp):
    client = smtp_app.test_client()
    sign_up(client, "marie.curie@exemple.fr")
    smtp.wait_for(1)
    page = text_of(client.get("/inscription/envoye"))
    assert "Vérifiez votre messagerie" in page and REFUSED not in page and "Renvoyer le courriel" in page


def test_the_page_is_in_english_on_an_english_sign_up(smtp_app, smtp):
    from tests.support.i18n import speak

    smtp.unknown.add(GONE)
    client = smtp_app.test_client()
    speak(client, "en")
    sign_up(client, GONE)
    given_up(smtp_app, GONE)
    page = text_of(client.get("/inscription/envoye"))
    assert "refused the activation email" in page and "Email refused" in page


def test_attack_the_page_never_tells_of_an_address_typed_to_be_sent_a_new_link(smtp_app, smtp, monkeypatch):
    """« Renvoyer le courriel » writes a mail only when an account awaits
    activation at the address typed: saying that its mailbox refused it
    would tell so. Only the address this browser signed up with is told."""
    smtp.unknown.add(GONE)
    smtp_app.config["RESEND_COOLDOWN_SECONDS"] = 0
    sign_up(smtp_app.test_client(), GONE)  # someone else's pending account, its mailbox gone
    given_up(smtp_app, GONE)

    prober = smtp_app.test_client()
    sign_up(prober, "marie.curie@exemple.fr")
    prober.submit("/inscription/renvoyer", {"email": GONE})
    deadline = time.monotonic() + 10
    while query(smtp_app, lambda: OutboxMail.select().where(OutboxMail.recipient == GONE).count()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    given_up_both = lambda: OutboxMail.select().where(OutboxMail.given_up_at.is_null(False)).count()  # noqa: E731
    while query(smtp_app, given_up_both) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    page = text_of(prober.get("/inscription/envoye"))
    assert REFUSED not in page and "Vérifiez votre messagerie" in page
