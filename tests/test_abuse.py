"""Rate limits (Flask-Limiter), the client address behind proxies, the 429 page."""

from __future__ import annotations

import pytest

from tests.support.app import Client, HtmxClient, clean_environment, make_app, outbox
from tests.support.constants import CAPTCHA_ANSWER, EMAIL, PASSWORD
from tests.support.signup import PERSON, Signup, challenge_on


@pytest.fixture(params=["page", "htmx"])
def limited(request, tmp_path, monkeypatch):
    """``limited(**settings)``: a client (full page, then htmx) of an app whose
    limits are on, with the given RATELIMIT_* settings."""
    clean_environment(monkeypatch)

    def build(**settings):
        app = make_app(tmp_path, RATELIMIT_ENABLED=True, **settings)
        app.test_client_class = HtmxClient if request.param == "htmx" else Client
        return app.test_client()

    return build


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def wrong_sign_in(client, email="personne@exemple.fr", **kwargs):
    return client.submit("/connexion", {"email": email, "password": "Pas-le-bon-1234"}, **kwargs)


def assert_429_page(client, response):
    """The page of the error; under htmx, a form sent in place keeps its page
    and what was typed, and the notice goes above it. Only a page asked for
    in place (a link followed) is replaced by the error."""
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert "Patientez" in text
    assert int(response.headers["Retry-After"]) > 0
    if not client.htmx:
        assert "<html" in text and "Trop de tentatives" in text
    elif response.request.method == "GET":
        assert "<html" not in text and "Trop de tentatives" in text
        assert response.headers["HX-Retarget"] == "#main"
    else:
        assert "<h1>" not in text and 'role="alert"' in text
        assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == ("#flashes", "innerHTML")


def test_limits_are_off_in_tests_unless_asked(any_client):
    for _ in range(30):
        assert wrong_sign_in(any_client).status_code == 422


def test_429_after_the_sign_in_limit_by_address(limited):
    client = limited(RATELIMIT_SIGN_IN="3 per minute")
    for index in range(3):
        assert wrong_sign_in(client, f"p{index}@exemple.fr").status_code == 422
    response = wrong_sign_in(client, "autre@exemple.fr")
    assert_429_page(client, response)
    other = wrong_sign_in(client, "autre@exemple.fr", **from_address("198.51.100.7"))
    assert other.status_code == 422  # another address has its own count


def test_429_after_the_sign_in_limit_by_email_whatever_the_address(limited):
    client = limited(RATELIMIT_SIGN_IN_EMAIL="2 per minute")
    assert wrong_sign_in(client, EMAIL, **from_address("198.51.100.1")).status_code == 422
    assert wrong_sign_in(client, "Marie.Curie@Exemple.FR", **from_address("198.51.100.2")).status_code == 422
    assert_429_page(client, wrong_sign_in(client, EMAIL, **from_address("198.51.100.3")))
    assert wrong_sign_in(client, "autre@exemple.fr", **from_address("198.51.100.3")).status_code == 422


def test_opening_the_sign_in_page_is_not_counted(limited):
    client = limited(RATELIMIT_SIGN_IN="2 per minute")
    for _ in range(5):
        assert client.get("/connexion").status_code == 200
    assert wrong_sign_in(client).status_code == 422


def test_forged_x_forwarded_for_does_not_change_the_key(limited):
    client = limited(RATELIMIT_SIGN_IN="2 per minute")
    for index in range(2):
        wrong_sign_in(client, headers={"X-Forwarded-For": f"203.0.113.{index}"})
    response = wrong_sign_in(client, headers={"X-Forwarded-For": "203.0.113.99"})
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_key(limited):
    client = limited(RATELIMIT_SIGN_IN="2 per minute", TRUSTED_PROXIES=1)
    for index in range(4):  # four clients behind the proxy
        response = wrong_sign_in(client, headers={"X-Forwarded-For": f"203.0.113.{index}"})
        assert response.status_code == 422
    # A client forging the header gets only its own address counted: the
    # proxy appends the address it saw, and only that hop is trusted.
    for forged in ("1.1.1.1", "2.2.2.2"):
        wrong_sign_in(client, headers={"X-Forwarded-For": f"{forged}, 203.0.113.50"})
    response = wrong_sign_in(client, headers={"X-Forwarded-For": "3.3.3.3, 203.0.113.50"})
    assert response.status_code == 429


def _start_sign_up(client):
    client.submit("/inscription/", PERSON)


def _challenge(client) -> str:
    return challenge_on(client.get("/inscription/captcha").get_data(as_text=True))


def _captcha(client, address="127.0.0.1"):
    return client.submit(
        "/inscription/captcha",
        {"challenge_id": _challenge(client), "answer": "WRONG1"},
        **from_address(address),
    )


ENDPOINTS = {
    # setting: (prepare(client), request(client, n)) — the n-th attempt
    "SIGN_UP": (None, lambda c, n: c.submit("/inscription/", {**PERSON, "terms": ""})),
    "CAPTCHA": (_start_sign_up, lambda c, n: _captcha(c)),
    "CAPTCHA_NEW": (_start_sign_up, lambda c, n: c.get("/inscription/captcha")),
    "CAPTCHA_MEDIA": (None, lambda c, n: c.get("/captcha/inconnu.png")),
    "CAPTCHA_MEDIA audio": (None, lambda c, n: c.get("/captcha/inconnu.wav")),
    "RESET": (None, lambda c, n: c.submit("/mot-de-passe-oublie/", {"email": f"p{n}@exemple.fr"})),
    "RESET_LINK": (None, lambda c, n: c.submit("/mot-de-passe-oublie/jeton-inconnu", {"password": "x"})),
    "ACTIVATION_LINK": (None, lambda c, n: c.submit("/activation/jeton-inconnu", {"password": "x"})),
    "RESEND": (None, lambda c, n: c.submit("/inscription/renvoyer", {"email": f"p{n}@exemple.fr"})),
    # The language switch sent from a page's form (without JavaScript) keeps what it carries.
    "DRAFT carried": (
        None,
        lambda c, n: c.submit("/langue?next=/inscription/", {"lang": "fr", "last_name": f"C{n}"}),
    ),
}


@pytest.mark.parametrize("setting", ENDPOINTS)
def test_429_after_the_limit_on_each_abusable_endpoint(limited, setting):
    limit = 2
    client = limited(**{f"RATELIMIT_{setting.split()[0]}": f"{limit} per minute"})
    prepare, attempt = ENDPOINTS[setting]
    if prepare:
        prepare(client)
    for n in range(limit):
        assert attempt(client, n).status_code != 429, f"attempt {n + 1} of {limit} refused"
    assert_429_page(client, attempt(client, limit))


def test_the_language_switch_alone_is_never_limited(limited):
    """Only a switch that carries a page's fields is counted (a draft kept)."""
    client = limited(RATELIMIT_DRAFT="2 per minute")
    for n in range(5):
        response = client.submit("/langue", {"lang": "en" if n % 2 else "fr", "next": "/"})
        assert response.status_code in (204, 303)


def test_the_captcha_limit_leaves_a_good_answer_possible_under_it(limited):
    client = limited(RATELIMIT_CAPTCHA="3 per minute")
    _start_sign_up(client)
    _captcha(client)
    response = client.submit(
        "/inscription/captcha", {"challenge_id": _challenge(client), "answer": CAPTCHA_ANSWER}
    )
    assert response.status_code in (200, 303)


def test_429_after_the_password_change_limit(limited):
    client = limited(RATELIMIT_PASSWORD_CHANGE_EMAIL="2 per minute")
    signup = Signup(client, lambda recipient=None: outbox(client.application, recipient))
    signup.create_account()
    signup.activate()
    new = "Velo-Rouge-Matin-42"
    data = {"current_password": "Pas-le-bon-1234", "password": new, "password_confirm": new}
    for address in ("198.51.100.1", "198.51.100.2"):
        assert client.submit("/mon-compte/mot-de-passe", data, **from_address(address)).status_code == 422
    data["current_password"] = PASSWORD
    assert_429_page(client, client.submit("/mon-compte/mot-de-passe", data, **from_address("198.51.100.3")))


def test_a_password_change_form_mended_several_times_is_not_counted(limited):
    """Fields left empty, a short password, a confirmation that differs:
    refused before the current password is checked, never counted; the
    change then goes through."""
    client = limited(RATELIMIT_PASSWORD_CHANGE_EMAIL="2 per minute")
    signup = Signup(client, lambda recipient=None: outbox(client.application, recipient))
    signup.create_account()
    signup.activate()
    new = "Velo-Rouge-Matin-42"
    mistakes = [
        {},
        {"current_password": PASSWORD, "password": "court", "password_confirm": "court"},
        {"current_password": PASSWORD, "password": new, "password_confirm": new + "x"},
        {"current_password": "", "password": new, "password_confirm": new},
    ]
    for data in mistakes:
        assert client.submit("/mon-compte/mot-de-passe", data).status_code == 422
    data = {"current_password": PASSWORD, "password": new, "password_confirm": new}
    assert client.submit("/mon-compte/mot-de-passe", data).status_code in (200, 303)


def test_the_storage_is_configurable(tmp_path, monkeypatch):
    from extensions import limiter

    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_RATELIMIT_STORAGE_URI", "memory://")
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert type(limiter.storage).__name__ == "MemoryStorage"
    assert make_app(tmp_path, RATELIMIT_ENABLED=True).config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_attack_a_new_ipv6_address_for_each_attempt_within_one_64(limited):
    """A home line or a rented server gets a whole /64: counted by address,
    each wrong password could come from a fresh one. Counted by /64, the
    neighbour in another /64, and IPv4 clients, keep their own counts."""
    client = limited(RATELIMIT_SIGN_IN="3 per minute")
    for index in range(3):
        response = wrong_sign_in(client, **from_address(f"2001:db8:1:2::{index + 1:x}"))
        assert response.status_code == 422
    assert_429_page(client, wrong_sign_in(client, **from_address("2001:db8:1:2:ffff:abcd:1234:5678")))
    assert wrong_sign_in(client, **from_address("2001:db8:1:3::1")).status_code == 422
    # An IPv4 client seen through an IPv6 socket is counted as itself.
    for _ in range(3):
        assert wrong_sign_in(client, **from_address("::ffff:198.51.100.1")).status_code == 422
    assert_429_page(client, wrong_sign_in(client, **from_address("198.51.100.1")))
    assert wrong_sign_in(client, **from_address("198.51.100.2")).status_code == 422


@pytest.mark.parametrize("target", ["draft-status", "field-email"])
def test_429_on_what_a_part_of_the_page_asks_keeps_the_page(tmp_path, monkeypatch, target):
    """An autosave or a field's check over the limit (under htmx, aimed at a
    part of the page) does not put the error page in place of the form being
    typed: the notice goes above it, the focus and what was typed stay."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_DRAFT="1 per minute")
    app.test_client_class = HtmxClient
    client = app.test_client()
    half = {"first_name": "Marie", "last_name": "Curie"}
    headers = {"HX-Target": target}
    assert client.submit("/inscription/brouillon", half, headers=headers).status_code == 200
    response = client.submit("/inscription/brouillon", half, headers=headers)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == ("#flashes", "innerHTML")
    text = response.get_data(as_text=True)
    assert "<h1>" not in text and 'role="alert"' in text and "Patientez" in text
    # A form sent to replace the page's content keeps its page too.
    assert_429_page(client, client.submit("/inscription/brouillon", half, headers={"HX-Target": "main"}))
