"""Token-like path segments are redacted in the logs (the app's request log,
gunicorn's access log, a refusal's line): every kind of link token the portal
mails, whatever it draws; the portal's own long path words, lowercase words
joined by hyphens (« verification-en-deux-etapes »), are kept."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
from flask import url_for

import logs
from accounts import LINK_ENDPOINTS
from models import Token
from tests.support.app import make_app, query, user_row

TWO_STEP = "/mon-compte/verification-en-deux-etapes"
# A token as token_urlsafe(32) draws it (activation, reset and contact-address links).
TOKEN = "Zr3kQ9mX7fPp2LwY8vTn4HcB1sJdE6aGuKoVqRyWiMx"
HOUR = timedelta(hours=1)
DRAWS = 200  # per kind: a token made of lowercase words alone comes once in 10^16 draws


def request_paths(text: str) -> list[str]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [entry["path"] for entry in lines if entry["logger"] == "portail.request"]


# -- the portal's own words --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"{TWO_STEP}/",
        TWO_STEP,
        f"{TWO_STEP}/codes-de-secours/conserves",
        f"{TWO_STEP}/cle-d-acces/options",
        "/declaration-accessibilite",
    ],
)
def test_the_two_step_path_word_and_other_long_words_are_kept(path):
    assert logs.redact(path) == path
    assert logs.redact_url(f"https://portail.example.fr{path}?next=/x") == f"https://portail.example.fr{path}"


def test_every_path_of_the_portal_without_a_variable_is_kept(tmp_path):
    """A word the portal adds to its URLs one day is no token for the logs."""
    app = make_app(tmp_path)
    paths = [rule.rule for rule in app.url_map.iter_rules() if not rule.arguments]
    assert f"{TWO_STEP}/" in paths
    assert [path for path in paths if logs.redact(path) != path] == []


def test_the_request_log_keeps_the_two_step_page_path(json_app, capsys):
    json_app.test_client().get(f"{TWO_STEP}/")
    assert request_paths(capsys.readouterr().err) == [f"{TWO_STEP}/"]


# -- every kind of token -------------------------------------------------------------------


def link_paths(app, purposes: list[str], draws: int = 1) -> list[tuple[str, str]]:
    """(token, its link's path): tokens drawn by ``Token.issue``, as the mails' links carry them."""

    def issue() -> list[tuple[str, str]]:
        user = user_row()
        return [(purpose, Token.issue(user, purpose, HOUR)) for purpose in purposes for _ in range(draws)]

    issued = query(app, issue)
    with app.test_request_context():
        return [(token, url_for(LINK_ENDPOINTS[purpose], token=token)) for purpose, token in issued]


@pytest.mark.parametrize("purpose", sorted(LINK_ENDPOINTS))
def test_each_kind_of_link_token_is_redacted_as_the_portal_draws_it(tmp_path, purpose):
    """The tokens of the links the portal mails (activation, reset, contact
    address), drawn by ``Token.issue`` and put in their link's path."""
    for token, path in link_paths(make_app(tmp_path), [purpose], DRAWS):
        redacted = logs.redact(path)
        assert token not in redacted and redacted.endswith("/[redacted]"), path


def test_the_request_log_redacts_each_kind_of_link_token_attack_log_reader(json_app, capsys):
    links = link_paths(json_app, sorted(LINK_ENDPOINTS))
    client = json_app.test_client()
    for _, path in links:
        client.get(path)
    written = capsys.readouterr().err
    assert request_paths(written) == [path.removesuffix(token) + "[redacted]" for token, path in links]
    assert not any(token in written for token, _ in links)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: secrets.token_urlsafe(32),  # link tokens, session keys
        lambda: secrets.token_urlsafe(24),  # drafts' browser keys
        lambda: secrets.token_urlsafe(18),  # captcha challenges and their sessions' keys
        lambda: secrets.token_urlsafe(16),  # trusted devices
        lambda: secrets.token_hex(20),  # CSRF tokens: lowercase hex
        lambda: secrets.token_hex(32),
        lambda: "".join(secrets.choice("0123456789") for _ in range(20)),  # digits alone
    ],
    ids=["urlsafe-32", "urlsafe-24", "urlsafe-18", "urlsafe-16", "hex-20", "hex-32", "digits-20"],
)
def test_every_kind_of_random_string_the_portal_draws_is_redacted_in_a_path(draw):
    """Should one ever be put in a path, each generator's strings (lowercase
    hex, digits alone included) are taken for tokens."""
    for _ in range(DRAWS):
        token = draw()
        assert logs.redact(f"/x/{token}/y") == "/x/[redacted]/y", token
        assert logs.redact(f"/x/{token}") == "/x/[redacted]", token


def test_lowercase_hex_and_digits_alone_are_still_tokens():
    assert logs.redact("/x/" + "1" * 20) == "/x/[redacted]"
    assert logs.redact("/x/0123456789abcdef0123456789abcdef") == "/x/[redacted]"
    assert logs.redact("/x/abcdefabcdefabcdefab1") == "/x/[redacted]"  # one digit is enough


# -- attacks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segment",
    [
        "verification-en-deux-etapes" + TOKEN,  # a token glued to a word
        TOKEN + "-verification-en-deux-etapes",
        "verification-en-deux-etapes-" + TOKEN,
        "verification-en-deux-etapes_x",  # an underscore
        "verification-en-deux-etapes-Q",  # a capital
        "verification-en-deux-etapes-2",  # a digit
        "Verification-en-deux-etapes",
        "-verification-en-deux-etapes",  # hyphens no word is joined by
        "verification-en-deux-etapes-",
        "verification--en-deux-etapes",
    ],
)
def test_attack_a_token_looking_partly_like_a_word_is_still_redacted(segment):
    """The exemption reads the whole segment: a word before or after a token,
    or a single capital, digit, underscore or stray hyphen in a long
    segment, makes it a token again."""
    assert logs.redact(f"/activation/{segment}") == "/activation/[redacted]"
    assert logs.redact(f"{TWO_STEP}/{segment}/suite") == f"{TWO_STEP}/[redacted]/suite"


def test_attack_a_token_after_the_two_step_word_is_redacted_and_the_word_kept():
    assert logs.redact(f"{TWO_STEP}/{TOKEN}") == f"{TWO_STEP}/[redacted]"
    assert logs.redact_url(f"https://h{TWO_STEP}/{TOKEN}?t={TOKEN}") == f"https://h{TWO_STEP}/[redacted]"
