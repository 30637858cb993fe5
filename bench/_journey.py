"""A complete sign-up (steps 1 to 6) as a browser makes it over HTTP: with
JavaScript off (forms, redirects) or on (htmx requests and their swaps)."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import http.cookiejar
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field

from stdnum import luhn

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')
CHALLENGE = re.compile(r'name="challenge_id" value="([^"]+)"')
IMAGE = re.compile(r'src="(/captcha/[^"]+\.png)"')
LINK = re.compile(r"https?://\S+")
PASSWORD = "Velo-Rouge-Matin-2048"
LANE = "1"  # its requests' mark (X-Bench-Counted): bench/_request_cpu.py keeps them by it


class JourneyError(RuntimeError):
    pass


@dataclass
class Browser:
    """One browser: its cookies, and the bytes of what it received (on the
    wire when ``compressed``: it then asks as Chromium does, gzip accepted
    and its requests marked as the portal's own)."""

    base: str
    htmx: bool = False
    compressed: bool = False
    counted: bool = False  # its requests' CPU is kept by kind (bench/_request_cpu.py)
    received: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def request(self, path: str, form: dict | None = None, expect=(200,)) -> str:
        data = None
        headers = {"Accept-Encoding": "identity"}
        if self.compressed:
            headers = {"Accept-Encoding": "gzip, deflate, br, zstd", "Sec-Fetch-Site": "same-origin"}
        if form is not None:
            data = urllib.parse.urlencode({"csrf_token": self.csrf, **form}).encode()
        if self.htmx:
            headers["HX-Request"] = "true"
        if self.counted:
            headers["X-Bench-Counted"] = LANE
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                status, body, answered = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            with error:  # its socket closed now, not whenever the error is collected
                status, body, answered = error.code, error.read(), error.headers
        self.received.append((path, len(body)))
        if answered["Content-Encoding"] == "gzip":
            body = gzip.decompress(body)
        if status not in expect:
            raise JourneyError(f"{'POST' if form is not None else 'GET'} {path}: {status}")
        text = body.decode("utf-8", "replace")
        token = CSRF.search(text)
        if token:
            self.csrf = token.group(1) or token.group(2)
        return text


def captcha_answer(secret_key: str, challenge_id: str) -> str:
    """The answer the server derives from the challenge (see challenges.answer)."""
    from challenges import ALPHABET, LENGTH

    digest = hmac.new(secret_key.encode(), f"captcha:{challenge_id}".encode(), hashlib.sha256).digest()
    return "".join(ALPHABET[byte % len(ALPHABET)] for byte in digest[:LENGTH])


def _last_mail_to(database: str, email: str) -> tuple | None:
    """The text of the newest mail to ``email`` in the outbox of the database
    at ``database`` (a ``sqlite:///`` or ``postgresql://`` URL)."""
    query = "SELECT body_text FROM outbox_mail WHERE recipient = {} ORDER BY id DESC LIMIT 1"
    if database.startswith("sqlite:///"):
        with closing(sqlite3.connect(database.removeprefix("sqlite:///"), timeout=30)) as connection:
            return connection.execute(query.format("?"), (email,)).fetchone()
    import psycopg2

    with closing(psycopg2.connect(database)) as connection, connection.cursor() as cursor:
        cursor.execute(query.format("%s"), (email,))
        return cursor.fetchone()


def activation_path(database: str, email: str) -> str:
    """The activation link the outbox holds for ``email`` (no mail server)."""
    for _ in range(100):
        row = _last_mail_to(database, email)
        if row:
            return urllib.parse.urlsplit(LINK.search(row[0]).group(0)).path
        time.sleep(0.05)
    raise JourneyError(f"no activation mail for {email}")


def siret(number: int) -> str:
    """A valid SIRET of its own for each journey (Luhn on SIREN and SIRET)."""
    siren = f"{(number * 7919) % 10**8:08d}"
    siren += luhn.calc_check_digit(siren)
    body = siren + f"{number % 10**4:04d}"
    return body + luhn.calc_check_digit(body)


def journey(browser: Browser, number: int, secret_key: str, database: str, tag: str = "") -> None:
    """Steps 1 to 6 for person ``number``; raises JourneyError on a wrong answer."""
    email = f"personne{number}{tag}@exemple.fr"
    browser.request("/")
    browser.request("/inscription/")
    person = {
        "email": email, "email_confirm": email, "first_name": "Marie", "last_name": "Curie",
        "phone": "01 23 45 67 89", "contact_email": "", "terms": "y",
    }  # fmt: skip
    page = browser.request("/inscription/", person)
    challenge = CHALLENGE.search(page)
    if not challenge:
        raise JourneyError("no captcha challenge after step 2")
    browser.request(IMAGE.search(page).group(1))
    answer = captcha_answer(secret_key, challenge.group(1))
    page = browser.request("/inscription/captcha", {"challenge_id": challenge.group(1), "answer": answer})
    if "challenge_id" in page:
        raise JourneyError("captcha refused")
    path = activation_path(database, email)
    browser.request(path)
    browser.request(path, {"password": PASSWORD, "password_confirm": PASSWORD})
    browser.request("/structure/nouvelle")
    structure = {
        "identifier_type": "siret", "identifier": siret(number), "company_name": f"Société {number}",
        "label": "", "email": "", "phone": "", "address": "12 rue de la Paix", "address_2": "",
        "address_3": "", "city": "Paris", "postal_code": "75002", "country": "FR",
    }  # fmt: skip
    page = browser.request("/structure/nouvelle", structure)
    if "Mon espace" not in page:
        raise JourneyError("step 6 did not lead to « Mon espace »")
