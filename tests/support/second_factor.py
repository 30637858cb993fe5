"""Second factors from a test's side: codes computed by pyotp as an
authenticator app would, enrolment through the pages, the sign-in's steps."""

from __future__ import annotations

import re
import time

import pyotp

from tests.support.app import Client
from tests.support.constants import EMAIL, PASSWORD
from tests.support.responses import text_of

FACTORS = "/mon-compte/verification-en-deux-etapes/"
VERIFY = "/connexion/verification/"


BOUNDARY_MARGIN = 5  # seconds a request (or a browser's fill and click) may take


def code_at(secret: str, steps: int = 0) -> str:
    """The app's code ``steps`` periods of 30 s from now. A past period's
    code is only in the server's window (one step of drift) until the next
    boundary: when that boundary is near, it is waited out first, so that a
    slow request does not turn the code two steps old."""
    if steps < 0:
        left = 30 - time.time() % 30
        if left < BOUNDARY_MARGIN:
            time.sleep(left + 0.05)
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def forget_reauthentication(client: Client) -> None:
    """As if the password had been given more than 10 minutes ago."""
    with client.session_transaction() as session:
        session.pop("reauth_at", None)


def reauthenticate(client: Client, password: str = PASSWORD):
    return client.submit(f"{FACTORS}confirmer", {"password": password})


def start_totp(client: Client) -> str:
    """Asks for a new app and reads the secret off the enrolment page."""
    reauthenticate(client)
    client.submit(f"{FACTORS}application")
    page = text_of(client.get(f"{FACTORS}application"))
    match = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>', page)
    assert match, page
    return match.group(1).replace(" ", "")


def recovery_codes_in(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)


RECOVERY_CODES = f"{FACTORS}codes-de-secours"


def codes_page(client: Client, response) -> str:
    """« Vos codes de secours », where a success that made new codes leads:
    the fragment itself under htmx (its address pushed), else the page
    behind the 303."""
    if client.htmx:
        assert response.status_code == 200, text_of(response)
        assert response.headers["HX-Push-Url"] == RECOVERY_CODES
        return text_of(response)
    assert response.status_code == 303, text_of(response)
    assert response.headers["Location"] == RECOVERY_CODES
    return text_of(client.get(RECOVERY_CODES))


def enrol_totp(client: Client) -> tuple[str, list[str]]:
    """A confirmed app: its secret and the recovery codes shown. The code
    used is one period back, so that the test's next code is fresh."""
    secret = start_totp(client)
    response = client.submit(f"{FACTORS}application/valider", {"code": code_at(secret, -1)})
    codes = recovery_codes_in(codes_page(client, response))
    assert len(codes) == 10
    return secret, codes


def password_step(client: Client, email: str = EMAIL, password: str = PASSWORD):
    return client.submit("/connexion", {"email": email, "password": password})


def second_step(client: Client, code: str, method: str = "totp", **extra):
    return client.submit(VERIFY, {"method": method, "code": code, **extra})
