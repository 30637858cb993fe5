"""The benchmark must not rot: it runs end to end on a tiny setting (its
figures are judged by ``make bench``, never here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Settings of the caller's that must not reach what is measured: the tests'
# mode (its cheapest password hashing, its fixed captcha answer) and another
# database. ``make bench`` once left FLASK_TESTING behind (bench.sirene_import
# runs first in its process), and the web benchmark's servers hashed with it.
CALLERS_SETTINGS = {
    "FLASK_TESTING": "true",
    "FLASK_CAPTCHA_FIXED_ANSWER": "ZZZZZ",
    "FLASK_DATABASE_URL": "sqlite:////nonexistent/portail.db",
}


def test_web_benchmark_runs_on_a_tiny_setting():
    """With the caller's FLASK_* settings in its environment: none of them
    reaches the servers or the inline measure (the captcha's fixed answer
    would fail every journey, the database every inline check)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.web", "--tiny"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, **CALLERS_SETTINGS},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "| `/` |" in out and "| `POST /inscription/champ/email` |" in out
    assert "| journeys (errors) | 4 (0) |" in out, out
    assert "| the hash under the journeys' load | " in out, out
    # P2's yardstick: hashes measured alone between the sign-ups' rounds, in the same minutes.
    yardstick = r"argon2id hash \(production parameters, alone between the rounds\): \d+\.\d ms CPU"
    assert re.search(yardstick, out), out
    # Each request of the journeys, measured in its worker (bench/_request_cpu.py).
    assert "| `POST /activation/…` | " in out and "| `POST /structure/nouvelle` | " in out, out
    assert "| the workers outside them | " in out, out
    # Sign-ups with JavaScript on, in Chromium: the page's own scripts sent
    # each field's live check and autosave, which no JavaScript-off journey makes.
    assert "| journeys with JavaScript on, in Chromium (errors) | 2 (0) |" in out, out
    assert re.search(r"\| server CPU per journey, JavaScript on \| \d+ ms = \d+\.\d hashes \|", out), out
    assert "| the hash under the browsers' load | " in out, out
    js = out.split("A journey's requests, JavaScript on (in Chromium)")[1]
    for kind in (
        "POST /inscription/champ/email",
        "POST /inscription/brouillon",
        "POST /structure/nouvelle/sirene",
    ):
        assert re.search(rf"\| `{re.escape(kind)}` \| \d+\.\d \| ", js), js
    off, on = map(
        float,
        re.search(r"\| requests per journey, JavaScript off / on \| ([\d.]+) / ([\d.]+) \|", out).groups(),
    )
    assert off == 13.0 and on > off, out
    # Inline checks: the app's own time, the test client's work around it beside it.
    inline = re.findall(
        r"\| inline `(\w+)` p50 / p95 \(with the test client\) \| ([\d.]+) / ([\d.]+) ms \(([\d.]+)\) \|", out
    )
    assert {name for name, *_ in inline} >= {"email", "password", "siret"}, out
    assert all(0 < float(p50) <= float(p95) <= float(client) for _, p50, p95, client in inline), inline
    for goal in ("P1", "P2", "P3", "P4", "P5"):
        assert f"\n{goal} " in out


def test_web_benchmark_runs_on_postgresql_on_a_tiny_setting():
    """BENCH_DATABASE=postgresql: the servers each get a database on a
    PostgreSQL server the benchmark starts, and the journeys read their
    activation links from its outbox."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.web", "--tiny"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, **CALLERS_SETTINGS, "BENCH_DATABASE": "postgresql"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "gunicorn 2 sync workers, PostgreSQL on 127.0.0.1" in out, out
    assert "| journeys (errors) | 4 (0) |" in out, out
    assert "| `POST /structure/nouvelle` | " in out, out
    assert "| journeys with JavaScript on, in Chromium (errors) | 2 (0) |" in out, out


def test_bench_runner_finds_the_web_benchmark():
    from bench.__main__ import benchmarks

    assert "web" in benchmarks()


def test_the_sirene_benchmark_leaves_the_environment_and_no_app_behind(tmp_path):
    """bench.web runs after it in ``make bench``'s process: what its lookups'
    app was made with must not stay in the environment the servers start from."""
    from flask import has_app_context

    from bench.sirene_import import _finder

    before = dict(os.environ)
    with _finder(f"sqlite:///{tmp_path}/sirene.db") as find:
        assert callable(find) and has_app_context()
        assert os.environ == before
    assert dict(os.environ) == before and "FLASK_TESTING" not in os.environ
    assert not has_app_context()


def test_before_and_after_take_turns_in_the_journeys():
    """The machine drifts over a run: run one after the other, the second
    target's journeys would measure that drift as well as the code. In
    turns (A B, B A, ...), each target runs every journey exactly once, and
    as many of its rounds go first as go second."""
    from bench.web import schedule

    plan = schedule(["before", "after"], 200, 20)
    assert [name for _, name, _ in plan[:6]] == ["before", "after", "after", "before", "before", "after"]
    assert len(plan) == 20
    for name in ("before", "after"):
        numbers = [n for _, who, turn in plan for n in turn if who == name]
        assert sorted(numbers) == list(range(1, 201))
        firsts = sum(1 for index in range(0, len(plan), 2) if plan[index][1] == name)
        assert firsts == 5
    # The tiny run: two rounds, so that the workers' memory is read halfway.
    assert schedule(["before", "after"], 4, 2) == [
        (0, "before", range(1, 3)), (0, "after", range(1, 3)),
        (1, "after", range(3, 5)), (1, "before", range(3, 5)),
    ]  # fmt: skip
    # An odd number of rounds would give one target a turn more in first place.
    assert {round_ for round_, _, _ in schedule(["before", "after"], 60, 20)} == {0, 1}
    # One target, fewer journeys than clients: one round of them all.
    assert schedule(["after"], 4, 20) == [(0, "after", range(1, 5))]
