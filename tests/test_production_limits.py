"""Rate limits shared by several gunicorn workers through a real Redis, the
behaviour when Redis is down, and the start-up warning when several workers
count limits each in its own memory."""

from __future__ import annotations

import logging
import time

import pytest

import metrics
import security
from tests.support.app import Client, clean_environment, make_app
from tests.support.gunicorn_server import Browser, Gunicorn, flask_command, production_environment
from tests.support.redis_server import RedisServer


@pytest.fixture
def redis():
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


def wrong_sign_ins(base: str, count: int) -> list[int]:
    """``count`` failed sign-ins from one client address, each on a new
    connection (so they spread over the workers)."""
    statuses = []
    for index in range(count):
        browser = Browser(base)
        browser.get("/connexion")
        status, _ = browser.post(
            "/connexion", {"email": f"p{index}@exemple.fr", "password": "Pas-le-bon-1234"}
        )
        statuses.append(status)
    return statuses


def serve(tmp_path, workers: int, **settings):
    env = production_environment(tmp_path, FLASK_RATELIMIT_SIGN_IN="10 per hour", **settings)
    flask_command(env, "init-db")
    return Gunicorn(env, workers, tmp_path / "gunicorn.log").start()


def test_ten_per_hour_lets_exactly_ten_through_across_four_workers(tmp_path, redis, record_property):
    server = serve(tmp_path, 4, FLASK_RATELIMIT_STORAGE_URI=redis.url)
    try:
        statuses = wrong_sign_ins(server.base, 26)
        log = server.log_text()
    finally:
        server.stop()
    record_property(
        "figures",
        f"Redis, 4 workers, 10 per hour: {statuses.count(422)} of 26 through, {statuses.count(429)} refused",
    )
    assert statuses.count(422) == 10
    assert statuses.count(429) == 16
    assert statuses[:10] == [422] * 10
    assert "counted in each worker's memory" not in log


def test_several_workers_on_memory_storage_warn_at_start_up(tmp_path, record_property):
    server = serve(tmp_path, 2, FLASK_RATELIMIT_STORAGE_URI="memory://")
    try:
        statuses = wrong_sign_ins(server.base, 26)
        log = server.log_text()
    finally:
        server.stop()
    record_property("figures", f"memory://, 2 workers, 10 per hour: {statuses.count(422)} of 26 let through")
    assert "Rate limits are counted in each worker's memory" in log
    assert "2 workers serve" in log
    assert statuses.count(422) >= 10  # each worker lets 10 through on its own


def test_one_worker_does_not_warn_and_the_access_log_redacts_tokens_attack_log_reader(tmp_path):
    server = serve(tmp_path, 1, FLASK_RATELIMIT_STORAGE_URI="memory://", GUNICORN_ACCESS_LOG="-")
    token = "Zr3kQ9mX7fPp2LwY8vTn4HcB1sJdE6aGuKoVqRyWiMx"
    try:
        browser = Browser(server.base)
        assert browser.get(f"/activation/{token}?source=mail")[0] == 410
        browser.get(f"/mot-de-passe-oublie/{token}", headers={"Referer": f"{server.base}/activation/{token}"})
    finally:
        server.stop()
    log = server.log_text()
    assert "counted in each worker's memory" not in log
    assert token not in log and "source=mail" not in log
    assert '"GET /activation/[redacted] HTTP/1.1" 410' in log  # gunicorn's access log
    assert "GET /activation/[redacted] 410" in log  # the app's request log
    assert f'"{server.base}/activation/[redacted]"' in log  # the Referer


# -- Redis down: per-process memory, logged, counted, and back when Redis is --------------


def sign_in_statuses(client, count: int, first: int = 0) -> list[int]:
    return [
        client.submit(
            "/connexion", {"email": f"q{first + i}@exemple.fr", "password": "Pas-le-bon-1234"}
        ).status_code
        for i in range(count)
    ]


def test_redis_down_falls_back_to_memory_logged_counted_and_recovers(tmp_path, monkeypatch, redis, caplog):
    clean_environment(monkeypatch)
    app = make_app(
        tmp_path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis.url,
        RATELIMIT_SIGN_IN="5 per hour",
    )
    app.test_client_class = Client
    client = app.test_client()
    failures = metrics.RATE_LIMIT_STORAGE_FAILURES._value.get()
    recoveries = metrics.RATE_LIMIT_STORAGE_RECOVERIES._value.get()
    assert sign_in_statuses(client, 2) == [422, 422]  # counted in Redis

    redis.stop()
    caplog.set_level(logging.INFO)
    assert client.get("/readyz").status_code == 503
    assert client.get("/readyz").get_json()["failing"] == ["rate_limit_storage"]
    # The limit still holds, counted in this process's memory (a fresh count):
    # never a 500, never an open door.
    assert sign_in_statuses(client, 6, first=2) == [422] * 5 + [429]
    assert metrics.RATE_LIMIT_STORAGE_FAILURES._value.get() == failures + 1
    assert "Rate-limit storage unreachable" in caplog.text
    exposition = client.get("/metrics").get_data(as_text=True)
    assert "portail_rate_limit_storage_failures_total" in exposition
    assert "portail_rate_limit_storage_fallback_workers 1.0" in exposition

    redis.start()
    assert client.get("/readyz").status_code == 200
    # Flask-Limiter tries Redis again after 1, 2, 4… seconds: a slow machine's
    # outage lasts longer, and so does its wait.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        client.get("/connexion")
        sign_in_statuses(client, 1, first=100)
        if metrics.RATE_LIMIT_STORAGE_RECOVERIES._value.get() > recoveries:
            break
        time.sleep(0.25)
    assert metrics.RATE_LIMIT_STORAGE_RECOVERIES._value.get() == recoveries + 1
    assert "Rate-limit storage back" in caplog.text
    assert "portail_rate_limit_storage_fallback_workers 0.0" in client.get("/metrics").get_data(as_text=True)


def test_mail_limit_counts_in_memory_when_redis_goes_away_mid_request_attack_race(
    tmp_path, monkeypatch, redis
):
    """Redis stops between the route's own limit check and the per-address
    mail limit of the same request (a restart during a burst): the mail
    limit is counted in the worker's memory, never a 500, and still holds."""
    clean_environment(monkeypatch)
    app = make_app(
        tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis.url, RATELIMIT_RESET_EMAIL="2 per hour"
    )
    with app.test_request_context():
        assert security.mail_allowed("RESET_EMAIL", "marie.curie@exemple.fr")
    redis.stop()
    answers = []
    try:
        for _ in range(3):  # three requests: one request counts a mail once (security._counted)
            with app.test_request_context():
                answers.append(security.mail_allowed("RESET_EMAIL", "marie.curie@exemple.fr"))
    finally:
        redis.start()
    assert answers == [True, True, False]  # a fresh count in memory, still a limit


def test_attack_watching_readyz_for_redis_to_fail(tmp_path, monkeypatch, redis):
    """While Redis is down each worker counts the limits in its own memory:
    a stranger reading /readyz would know when to try harder. Outside the
    networks that may read /metrics (and without its token) /readyz says
    only ok or not, which is all a load balancer needs."""
    clean_environment(monkeypatch)
    app = make_app(
        tmp_path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis.url,
        METRICS_TOKEN="jeton-de-supervision",
    )
    client = app.test_client()
    stranger = {"environ_base": {"REMOTE_ADDR": "203.0.113.5"}}
    assert client.get("/readyz", **stranger).get_json() == {"status": "ok"}
    redis.stop()
    response = client.get("/readyz", **stranger)
    assert response.status_code == 503 and response.get_json() == {"status": "unavailable"}
    assert client.get("/metrics", **stranger).status_code == 404
    local = client.get("/readyz")
    assert local.status_code == 503 and local.get_json()["failing"] == ["rate_limit_storage"]
    token = {"Authorization": "Bearer jeton-de-supervision"}
    monitored = client.get("/readyz", headers=token, **stranger)
    assert monitored.get_json()["failing"] == ["rate_limit_storage"]
