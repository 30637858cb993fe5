"""The benchmark must not rot: it runs end to end on a tiny setting (its
figures are judged by ``make bench``, never here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_web_benchmark_runs_on_a_tiny_setting():
    done = subprocess.run(
        [sys.executable, "-m", "bench.web", "--tiny"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "| `/` |" in out and "| `POST /inscription/champ/email` |" in out
    assert "| journeys (errors) | 4 (0) |" in out, out
    for goal in ("P1", "P2", "P3", "P4", "P5"):
        assert f"\n{goal} " in out


def test_bench_runner_finds_the_web_benchmark():
    from bench.__main__ import benchmarks

    assert "web" in benchmarks()
