"""/metrics stays the same size whatever clients send: its labels take only
values the portal chose (a route's name, a known method, a status)."""

from __future__ import annotations

import random
import re
import string

from tests.support.app import clean_environment, make_app

LABELS = re.compile(r'portail_http_requests_total\{endpoint="([^"]*)",method="([^"]*)",status="([^"]*)"\}')


def _series(client) -> set[tuple[str, str, str]]:
    return set(LABELS.findall(client.get("/metrics").get_data(as_text=True)))


def _strange_method(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 20)))


def test_attack_random_methods_do_not_grow_the_metrics(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    client = make_app(tmp_path).test_client()
    rng = random.Random(7)
    methods = [_strange_method(rng) for _ in range(300)]
    for method in methods[:10]:
        assert client.open("/connexion", method=method).status_code == 405
        assert client.open(f"/{method.lower()}", method=method).status_code == 404
    client.get("/metrics")  # its own series, counted after it answers
    before = client.get("/metrics").get_data(as_text=True)
    for method in methods[10:]:
        client.open("/connexion", method=method)
        client.open(f"/{method.lower()}", method=method)
    after = client.get("/metrics").get_data(as_text=True)
    series = _series(client)
    assert not {method for _endpoint, method, _status in series} & set(methods)
    assert ("unmatched", "other", "405") in series
    assert len(after) - len(before) < 200  # the counts' digits, no new series


def test_random_paths_share_one_series_unmatched(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    client = make_app(tmp_path).test_client()
    rng = random.Random(11)
    for _ in range(5):
        assert client.get(f"/{_strange_method(rng).lower()}").status_code == 404
    client.get("/metrics")
    before = _series(client)
    for _ in range(300):
        client.get(f"/{_strange_method(rng).lower()}/{rng.randint(0, 10**9)}")
    assert _series(client) == before
    assert ("unmatched", "GET", "404") in before
