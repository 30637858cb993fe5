"""Shared helpers of the structure tests: signed-in users and a structure."""

from __future__ import annotations

import re

from conftest import PERSON, Client, HtmxClient, Signup

from models import Membership, OutboxMail, Structure, User, db

SIRET = "732 829 320 00074"
SIRET_NORMALISED = "73282932000074"

STRUCTURE = {
    "identifier_type": "siret",
    "identifier": SIRET,
    "company_name": "Ateliers Curie",
    "label": "Les Ateliers",
    "email": "contact@ateliers-curie.fr",
    "phone": "01 23 45 67 89",
    "address": "12 rue de la Paix",
    "address_2": "Bâtiment B",
    "address_3": "",
    "city": "Paris",
    "postal_code": "75002",
    "country": "FR",
}

PIERRE = {
    **PERSON,
    "email": "pierre.durand@exemple.fr",
    "email_confirm": "pierre.durand@exemple.fr",
    "first_name": "Pierre",
    "last_name": "Durand",
    "contact_email": "pierre.contact@exemple.fr",
}
LUCIE = {
    **PERSON,
    "email": "lucie.martin@exemple.fr",
    "email_confirm": "lucie.martin@exemple.fr",
    "first_name": "Lucie",
    "last_name": "Martin",
}


def sign_up(client: Client, mailbox, person: dict = PERSON) -> Client:
    """Create, activate and sign in an account on ``client`` (the sign-up
    runs without htmx whatever the client's mode)."""
    mode = client.htmx
    client.htmx = False
    try:
        signup = Signup(client, mailbox)
        signup.create_account(**person)
        response = signup.activate(email=person["email"].lower())
        assert response.status_code == 303, response.get_data(as_text=True)
    finally:
        client.htmx = mode
    return client


def new_client(app, mailbox, person: dict, htmx: bool = False) -> Client:
    """Another browser, signed in as ``person``."""
    app.test_client_class = HtmxClient if htmx else Client
    return sign_up(app.test_client(), mailbox, person)


def create_structure(client: Client, **changes):
    return client.submit("/structure/nouvelle", {**STRUCTURE, **changes})


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def is_fragment(response) -> bool:
    return "<html" not in response.get_data(as_text=True)


def follow(client: Client, response) -> str:
    """The page a success leads to: the htmx fragment itself, or the page
    behind the 303."""
    if client.htmx:
        assert response.status_code == 200, response.get_data(as_text=True)
        return text_of(response)
    assert response.status_code == 303, response.get_data(as_text=True)
    return text_of(client.get(response.headers["Location"]))


def error_of(response, field: str) -> str:
    match = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', text_of(response), re.S)
    assert match, f"no error next to {field}"
    return match.group(1)


def query(app, fn):
    with app.app_context(), db.connection_context():
        return fn()


def structures(app) -> list[Structure]:
    return query(app, lambda: list(Structure.select()))


def memberships(app) -> list[Membership]:
    return query(app, lambda: list(Membership.select().order_by(Membership.id)))


def user_id(app, email: str) -> int:
    return query(app, lambda: User.by_email(email).id)


def mails_to(mailbox, recipient: str) -> list[OutboxMail]:
    return [mail for mail in mailbox(recipient) if mail.subject != "Activez votre compte"]
