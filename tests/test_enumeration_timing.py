"""Answer times must not tell whether an address has an account: the median
of 30 tries for a known address and for an unknown one, interleaved, differ
by less than 2 ms or less than 10 %.

Marked ``serial``: ``make test`` runs these alone, after the parallel run, so
that other workers' load does not blur the figures."""

from __future__ import annotations

import itertools
import sqlite3
import statistics
import threading
import time

import pytest

from models import User, db
from tests.support.app import Client, clean_environment, make_app, user_row
from tests.support.constants import CAPTCHA_ANSWER
from tests.support.signup import Signup, challenge_on
from tests.support.smtp import Mailbox, smtp_server

TRIES = 30
WARM_UP = 5
BASELINE_THREADS = 1

pytestmark = [pytest.mark.serial, pytest.mark.xdist_group("serial")]


@pytest.fixture
def smtp_port():
    with smtp_server(Mailbox()) as server:
        yield server.port


@pytest.fixture
def app(tmp_path, monkeypatch, smtp_port):
    """As in production: a mail server, so mail leaves in the background. No
    resend cooldown: every try for the known address does the full work."""
    clean_environment(monkeypatch)
    app = make_app(
        tmp_path,
        RESEND_COOLDOWN_SECONDS=0,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        MAIL_SUPPRESS_SEND=False,
        MAIL_DEFAULT_SENDER="Portail <portail@exemple.fr>",
        EXTERNAL_BASE_URL="http://portail.test",
    )
    with app.app_context(), db.connection_context():
        user_row("pending@exemple.fr")
        user_row("active@exemple.fr", status=User.ACTIVE, password_hash="x")
    app.test_client_class = Client
    # A server keeps its SQLite database open (other workers, the delivery
    # thread). Without this, each write request of this lone process would
    # pay the checkpoint SQLite runs when the last connection closes, and
    # whether a background delivery still holds one would decide it.
    keeper = sqlite3.connect(tmp_path / "test.db")
    keeper.execute("SELECT count(*) FROM user").fetchall()
    yield app
    keeper.close()


def medians(client: Client, url: str, known: str, unknown: str) -> tuple[float, float]:
    """Median answer times (ms) of POSTs of each address, interleaved, the
    order swapped on every round."""
    global BASELINE_THREADS
    BASELINE_THREADS = threading.active_count()
    token = client.csrf_token()
    times: dict[str, list[float]] = {known: [], unknown: []}

    def post(email: str) -> float:
        start = time.perf_counter()
        response = client.post(url, data={"csrf_token": token, "email": email})
        elapsed = time.perf_counter() - start
        assert response.status_code == 303, response.get_data(as_text=True)
        settle()
        return elapsed * 1000

    for _ in range(WARM_UP):
        post(known), post(unknown)
    for round_ in range(TRIES):
        for email in (known, unknown) if round_ % 2 == 0 else (unknown, known):
            times[email].append(post(email))
    return statistics.median(times[known]), statistics.median(times[unknown])


def settle() -> None:
    """Wait for the background delivery a request started: the next try is
    timed on its own, as tries spaced out in time are."""
    deadline = time.monotonic() + 5
    while threading.active_count() > BASELINE_THREADS and time.monotonic() < deadline:
        time.sleep(0.002)


def assert_indistinguishable(known_ms: float, unknown_ms: float) -> None:
    difference = abs(known_ms - unknown_ms)
    print(f"known {known_ms:.2f} ms, unknown {unknown_ms:.2f} ms")
    assert difference < 2 or difference < 0.1 * max(known_ms, unknown_ms), (
        f"known {known_ms:.2f} ms vs unknown {unknown_ms:.2f} ms"
    )


def test_resend_time_does_not_tell_a_pending_account_from_none_enumeration_attack(app):
    known, unknown = medians(
        app.test_client(), "/inscription/renvoyer", "pending@exemple.fr", "nobody@exemple.fr"
    )
    assert_indistinguishable(known, unknown)


def test_reset_time_does_not_tell_an_account_from_none_enumeration_attack(app):
    known, unknown = medians(
        app.test_client(), "/mot-de-passe-oublie/", "active@exemple.fr", "nobody@exemple.fr"
    )
    assert_indistinguishable(known, unknown)


def captcha_medians(client: Client, known: str) -> tuple[float, float]:
    """Median times (ms) of the captcha step's successful answer, which
    creates the account: for ``known``, an address that has one, and for a
    new address each time; interleaved, the order swapped on every round."""
    global BASELINE_THREADS
    BASELINE_THREADS = threading.active_count()
    signup = Signup(client, mailbox=None)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    fresh = itertools.count()

    def post(kind: str) -> float:
        email = known if kind == "known" else f"nouveau{next(fresh)}@exemple.fr"
        signup.personal_info(email=email, email_confirm=email)
        page = client.get("/inscription/captcha").get_data(as_text=True)
        form = {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER}
        form["csrf_token"] = client.csrf_token()
        start = time.perf_counter()
        response = client.post("/inscription/captcha", data=form)
        elapsed = time.perf_counter() - start
        assert response.status_code == 303, response.get_data(as_text=True)
        settle()
        return elapsed * 1000

    for _ in range(WARM_UP):
        post("known"), post("unknown")
    for round_ in range(TRIES):
        for kind in ("known", "unknown") if round_ % 2 == 0 else ("unknown", "known"):
            times[kind].append(post(kind))
    return statistics.median(times["known"]), statistics.median(times["unknown"])


@pytest.mark.parametrize("known", ["active@exemple.fr", "pending@exemple.fr"])
def test_sign_up_time_does_not_tell_an_account_from_none_enumeration_attack(app, known):
    assert_indistinguishable(*captcha_medians(app.test_client(), known))
