"""The sign-up form as a person fills it, and the ``Signup`` actions: the
form, the captcha, the activation link from the outbox."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from models import Draft, OutboxMail, db, sha256
from tests.support.app import Client
from tests.support.constants import CAPTCHA_ANSWER, EMAIL, PASSWORD

PERSON = {
    "email": "Marie.Curie@Exemple.fr",
    "email_confirm": "marie.curie@exemple.fr",
    "first_name": "Marie",
    "last_name": "Curie",
    "phone": "01 23 45 67 89",
    "contact_email": "",
    "terms": "y",
}


def link_in(mail: OutboxMail) -> str:
    """The path of the first link of this site in a mail's text."""
    match = re.search(r"https?://\S+", mail.body_text)
    assert match, f"no link in {mail.body_text!r}"
    return urlsplit(match.group(0)).path


def challenge_on(page: str) -> str:
    """The captcha challenge of a page."""
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', page)
    assert challenge, "no captcha challenge on the page"
    return challenge.group(1)


def draft_of(app, client: Client, kind: str = "signup") -> dict:
    """The data of the browser's draft of a step, as the server keeps it."""
    with client.session_transaction() as session:
        draft_id = session.get("draft")
    if draft_id is None:
        return {}
    with app.app_context(), db.connection_context():
        draft = Draft.get_or_none(Draft.key == f"s:{sha256(draft_id)}:{kind}")
        return json.loads(draft.data) if draft else {}


def pending_signup(app, client: Client) -> dict:
    """Step 2's validated data, waiting on the server for the captcha."""
    return draft_of(app, client).get("validated") or {}


# The activation mail's subject, in each language an account may read.
ACTIVATION_SUBJECTS = ("Activez votre compte", "Activate your account")


class Signup:
    def __init__(self, client: Client, mailbox):
        self.client = client
        self.mailbox = mailbox

    def personal_info(self, **changes):
        return self.client.submit("/inscription/", {**PERSON, **changes})

    def captcha(self, answer: str = CAPTCHA_ANSWER):
        page = self.client.get("/inscription/captcha").get_data(as_text=True)
        form = {"challenge_id": challenge_on(page), "answer": answer}
        return self.client.submit("/inscription/captcha", form)

    def create_account(self, **changes):
        self.personal_info(**changes)
        return self.captcha()

    def activation_path(self, email: str = EMAIL) -> str:
        mails = [m for m in self.mailbox(email) if m.subject in ACTIVATION_SUBJECTS]
        assert mails, f"no activation mail for {email}"
        return link_in(mails[-1])

    def activate(self, password: str = PASSWORD, email: str = EMAIL):
        path = self.activation_path(email)
        return self.client.submit(path, {"password": password, "password_confirm": password})


def sign_up(client, email="marie.curie@exemple.fr"):
    return Signup(client, mailbox=None).create_account(email=email, email_confirm=email)
