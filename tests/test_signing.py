"""Signing at the cost of one HMAC (signing.py): the session cookie and the
CSRF token are the stock ones, byte for byte where the stock would write the
same, and each side reads the other's. Attacks are named after what they try."""

from __future__ import annotations

import pytest
from flask import g, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from wtforms import ValidationError

import breach
import signing
from tests.support.app import CSRF_IN_PAGE

STOCK_VALIDATE = breach._validate_csrf  # Flask-WTF's own, before the mask is read


def stock_token_serializer(app) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")


def test_a_token_is_the_stock_one_and_passes_flask_wtf(app):
    with app.test_request_context("/"):
        token = signing.generate_csrf()
        secret = session["csrf_token"]
        assert len(secret) == 40 and int(secret, 16) >= 0  # Flask-WTF's shape: 40 hex digits
        assert stock_token_serializer(app).loads(token) == secret
        STOCK_VALIDATE(token)
        assert signing.generate_csrf() == token == g.csrf_token  # one token per request


def test_a_stock_token_passes_and_the_secret_is_kept_across_requests(app):
    with app.test_request_context("/"):
        session["csrf_token"] = "ab" * 20
        STOCK_VALIDATE(stock_token_serializer(app).dumps("ab" * 20))
        assert stock_token_serializer(app).loads(signing.generate_csrf()) == "ab" * 20


def test_the_token_follows_flask_wtfs_settings(app):
    app.config.update(WTF_CSRF_SECRET_KEY="a-csrf-only-secret", WTF_CSRF_FIELD_NAME="jeton")
    with app.test_request_context("/"):
        token = signing.generate_csrf()
        assert (
            URLSafeTimedSerializer("a-csrf-only-secret", salt="wtf-csrf-token").loads(token)
            == session["jeton"]
        )
        assert "csrf_token" not in session
        STOCK_VALIDATE(token)


def test_a_secret_that_is_not_json_is_replaced(app):
    with app.test_request_context("/"):
        session["csrf_token"] = {1, 2}  # a set: JSON cannot carry it
        token = signing.generate_csrf()
        assert isinstance(session["csrf_token"], str)
        assert stock_token_serializer(app).loads(token) == session["csrf_token"]


def test_session_cookies_read_both_ways_short_and_long(app):
    stock = SecureCookieSessionInterface().get_signing_serializer(app)
    ours = app.session_interface.get_signing_serializer(app)
    short = {"csrf_token": "ab" * 20}  # under COMPRESSED_FROM: not tried with zlib (the stock one shrinks it)
    long = {"csrf_token": "ab" * 20, "note": "x" * 400}  # zlib shrinks it, as the stock does
    for data in (short, long):
        assert stock.loads(ours.dumps(data)) == data
        assert ours.loads(stock.dumps(data)) == data
    fresh = {"csrf_token": signing.secrets.token_hex(20)}  # a new visitor: the stock payload
    assert ours.dumps(fresh).rsplit(".", 2)[0] == stock.dumps(fresh).rsplit(".", 2)[0]
    assert ours.dumps(long).startswith(".")  # compressed: the same payload as the stock one
    assert ours.dumps(long).rsplit(".", 2)[0] == stock.dumps(long).rsplit(".", 2)[0]


def test_a_new_visitors_cookie_and_token_are_read_by_the_stock_serializers(client, app):
    page = client.get("/connexion")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    data = SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie.value)
    found = CSRF_IN_PAGE.search(page.get_data(as_text=True))
    token = breach.unmask(found.group(1) or found.group(2))
    assert stock_token_serializer(app).loads(token) == data["csrf_token"]


# -- attacks ------------------------------------------------------------------------------


def test_attack_a_token_signed_with_another_secret_is_refused(app):
    forged = URLSafeTimedSerializer("another-secret", salt="wtf-csrf-token").dumps("ab" * 20)
    with app.test_request_context("/"):
        session["csrf_token"] = "ab" * 20
        with pytest.raises(ValidationError, match="invalid"):
            STOCK_VALIDATE(forged)


def test_attack_the_session_cookie_replayed_as_a_csrf_token_is_refused(app):
    # The cookie carries the secret, signed too, but for another purpose (salt).
    cookie = app.session_interface.get_signing_serializer(app).dumps("ab" * 20)
    with app.test_request_context("/"):
        session["csrf_token"] = "ab" * 20
        with pytest.raises(ValidationError, match="invalid"):
            STOCK_VALIDATE(cookie)


def test_attack_a_csrf_token_replayed_as_a_session_cookie_is_refused(app):
    with app.test_request_context("/"):
        token = signing.generate_csrf()
    with pytest.raises(BadSignature):
        app.session_interface.get_signing_serializer(app).loads(token)


def test_attack_a_tampered_token_is_refused(app):
    with app.test_request_context("/"):
        token = signing.generate_csrf()
        payload, stamp, signature = token.split(".")
        other = stock_token_serializer(app).dump_payload("cd" * 20).decode()
        # The signature's last whole character changed (its very last one
        # carries bits that decoding drops): never the token itself again.
        changed = signature[:-2] + ("B" if signature[-2] != "B" else "C") + signature[-1]
        for tampered in (f"{other}.{stamp}.{signature}", f"{payload}.{stamp}.{changed}"):
            with pytest.raises(ValidationError, match="invalid"):
                STOCK_VALIDATE(tampered)


def test_a_payload_is_read_up_to_its_largest_size_and_no_further(app):
    """A payload of exactly signing.LARGEST_PAYLOAD bytes of JSON reads, one
    byte more does not, packed by zlib or not."""
    serializer = app.session_interface.get_signing_serializer(app)
    at_most = {"note": "x" * (signing.LARGEST_PAYLOAD - len('{"note":""}'))}
    assert serializer.loads(serializer.dumps(at_most)) == at_most
    one_more = {"note": at_most["note"] + "x"}
    assert serializer.dumps(one_more).startswith(".")  # packed
    with pytest.raises(signing.PayloadTooLarge):
        serializer.loads(serializer.dumps(one_more))
    not_packed = base64_encode(b'{"note":"' + b"x" * signing.LARGEST_PAYLOAD + b'"}')
    with pytest.raises(signing.PayloadTooLarge):
        serializer.load_payload(not_packed)
