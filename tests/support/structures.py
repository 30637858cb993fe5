"""The structure tests' starting points: signed-in people and a structure."""

from __future__ import annotations

from models import Membership, OutboxMail, Structure, User, utcnow
from tests.support.app import Client, HtmxClient, query, user_row
from tests.support.signup import PERSON, Signup, link_in

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
        confirm_contact_email(client, mailbox, person)
    finally:
        client.htmx = mode
    return client


def confirm_contact_email(client: Client, mailbox, person: dict) -> None:
    """Follow the link mailed to a contact e-mail other than the login one,
    as its owner does: notifications go there from then on."""
    contact = person.get("contact_email")
    if not contact or contact.lower() == person["email"].lower():
        return
    [mail] = [m for m in mailbox(contact.lower()) if m.subject == "Confirmez votre adresse de contact"]
    response = client.submit(link_in(mail))
    assert response.status_code == 303, response.get_data(as_text=True)


def new_client(app, mailbox, person: dict, htmx: bool = False) -> Client:
    """Another browser, signed in as ``person``."""
    app.test_client_class = HtmxClient if htmx else Client
    return sign_up(app.test_client(), mailbox, person)


def create_structure(client: Client, **changes):
    return client.submit("/structure/nouvelle", {**STRUCTURE, **changes})


def structure_manager(app, mailbox) -> Client:
    """Marie, gestionnaire principal of « Ateliers Curie », on her own full-page browser."""
    marie = new_client(app, mailbox, PERSON)
    assert create_structure(marie).status_code == 303
    return marie


def ask_to_join(client: Client):
    """``client`` asks to be attached to « Ateliers Curie »."""
    return client.submit(
        "/structure/rattachement/demande", {"identifier_type": "siret", "identifier": SIRET_NORMALISED}
    )


def move_to_idn_domain(app, email: str) -> str:
    """The account of ``email`` moved to « exemple-été.fr », stored as IDNA
    (« xn--exemple-t-i4ab.fr »), as an address typed that way is; returns it."""
    moved = email.split("@")[0] + "@xn--exemple-t-i4ab.fr"
    query(app, lambda: User.update(email=moved).where(User.email == email).execute())
    return moved


def structures(app) -> list[Structure]:
    return query(app, lambda: list(Structure.select()))


def memberships(app) -> list[Membership]:
    return query(app, lambda: list(Membership.select().order_by(Membership.id)))


def user_id(app, email: str) -> int:
    return query(app, lambda: User.by_email(email).id)


def mails_to(mailbox, recipient: str) -> list[OutboxMail]:
    account_mail = ("Activez votre compte", "Confirmez votre adresse de contact")
    return [mail for mail in mailbox(recipient) if mail.subject not in account_mail]


def structure_with_a_member(app, mailbox) -> int:
    """« Ateliers Curie », created by Pierre (its gestionnaire principal);
    Lucie is an active utilisateur of it. Returns its id."""
    pierre = new_client(app, mailbox, PIERRE)
    assert create_structure(pierre).status_code == 303

    def add_lucie() -> int:
        structure = Structure.get()
        lucie = user_row(LUCIE["email"], first_name="Lucie", last_name="Martin", status=User.ACTIVE)
        Membership.create(user=lucie, structure=structure, status=Membership.ACTIVE, decided_at=utcnow())
        return structure.id

    return query(app, add_lucie)
