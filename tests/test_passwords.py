"""Password hashing: argon2id with OWASP's parameters outside tests."""

from __future__ import annotations

from passwords import hash_password, verify_password
from tests.support.app import clean_environment, make_app


def test_production_hashes_are_argon2id_with_owasp_parameters(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, PASSWORD_HASH_PROFILE="OWASP")
    with app.app_context():
        stored = hash_password("Correct-Cheval-42")
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert verify_password(stored, "Correct-Cheval-42") == (True, None)
        assert verify_password(stored, "Correct-Cheval-43") == (False, None)


def test_a_weaker_hash_is_upgraded_on_the_next_successful_check(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path)  # CHEAPEST under TESTING
    with app.app_context():
        weak = hash_password("Correct-Cheval-42")
        app.config["PASSWORD_HASH_PROFILE"] = "OWASP"
        ok, upgraded = verify_password(weak, "Correct-Cheval-42")
        assert ok and upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_no_stored_hash_never_matches(app):
    with app.app_context():
        assert verify_password(None, "dummy password, never valid") == (False, None)
