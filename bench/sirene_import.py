"""SIRENE import: rows per second, the importer's peak memory, the database's
size, and the p99 of a SIRET lookup while an import runs.

    python -m bench.sirene_import   (``make bench`` runs every bench module)

Sizes: BENCH_SIRENE_ESTABLISHMENTS (1 000 000), BENCH_SIRENE_LEGAL_UNITS
(500 000). Goals on a 2-core machine: >= 100 000 establishment rows/s on
SQLite, < 200 MB, lookup p99 < 2 ms.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sirene_files import generate, sirets  # noqa: E402

ESTABLISHMENTS = int(os.environ.get("BENCH_SIRENE_ESTABLISHMENTS", 1_000_000))
LEGAL_UNITS = int(os.environ.get("BENCH_SIRENE_LEGAL_UNITS", 500_000))
GOALS = {"rows_per_second": 100_000, "peak_rss_mb": 200, "lookup_p99_ms": 2.0}


def _environment(database_url: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    env.update(FLASK_DATABASE_URL=database_url, FLASK_SECRET_KEY="bench", FLASK_TESTING="true")
    return env


def _flask(*args: str, database_url: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "flask", "--app", "app", *args]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and command
        command,
        cwd=ROOT,
        env=_environment(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else None


def run_import(paths: list[Path], database_url: str, lookups: list[str] | None = None) -> dict:
    """Run ``flask sirene import`` in its own process; meanwhile, when given
    SIRETs, look them up from this process as the web app would."""
    clock, cpu = time.monotonic(), _children_cpu()
    process = _flask("sirene", "import", *map(str, paths), database_url=database_url)
    peak, latencies = 0.0, []
    rng = random.Random(1)
    with _finder(database_url) if lookups else contextlib.nullcontext() as finder:
        while process.poll() is None:
            peak = max(peak, _peak_rss_mb(process.pid) or 0.0)
            if finder:
                for _ in range(50):
                    start = time.perf_counter()
                    finder(rng.choice(lookups))
                    latencies.append(time.perf_counter() - start)
                    time.sleep(0.002)
            else:
                time.sleep(0.05)
    output = process.stdout.read()
    if process.returncode:
        raise SystemExit(f"import failed:\n{output}")
    return {
        "seconds": time.monotonic() - clock,
        "cpu_seconds": _children_cpu() - cpu,
        "peak_rss_mb": peak,
        "latencies": latencies,
        "output": output,
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def _finder(database_url: str):
    """``lookup.find`` on an app of its own, made with the settings the
    importer gets; the process's environment is left as it was, and the app
    goes with its context: bench.web runs after in this process, and its
    servers start from that environment (a FLASK_TESTING left in it made
    them hash passwords with the tests' cheapest profile)."""
    from app import create_app
    from models import db
    from sirene import lookup

    with mock.patch.dict(os.environ, _environment(database_url), clear=True):
        app = create_app()
    with app.app_context(), db.connection_context():
        yield lookup.find


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def _rows_per_second(output: str, label: str) -> tuple[float, float]:
    """(wall-clock rate, rate per CPU second of the importer)."""
    match = re.search(rf"(\d+) {label}.* \((\d+) rows/s; (\d+) rows per CPU second\)", output)
    return (float(match.group(2)), float(match.group(3))) if match else (float("nan"), float("nan"))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-sirene-") as tmp:
        directory = Path(tmp)
        clock = time.monotonic()
        units, sites = generate(directory / "files", ESTABLISHMENTS, LEGAL_UNITS)
        sizes = sites.stat().st_size / 1e6, units.stat().st_size / 1e6
        print(
            f"SIRENE: generated {ESTABLISHMENTS} establishments ({sizes[0]:.0f} MB) and "
            f"{LEGAL_UNITS} legal units ({sizes[1]:.0f} MB) in {time.monotonic() - clock:.1f} s"
        )
        database = directory / "bench.db"
        url = f"sqlite:///{database}"
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "flask", "--app", "app", "init-db"],
            cwd=ROOT,
            env=_environment(url),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        first = run_import([units, sites], url)
        establishments_rate, establishments_cpu = _rows_per_second(first["output"], "établissements")
        units_rate, units_cpu = _rows_per_second(first["output"], "unités légales")
        size_mb = sum(path.stat().st_size for path in directory.glob("bench.db*")) / 1e6
        sample = random.Random(2).sample(sirets(ESTABLISHMENTS, LEGAL_UNITS), min(20_000, ESTABLISHMENTS))
        second = run_import([sites], url, lookups=sample)
        rerun_rate, _ = _rows_per_second(second["output"], "établissements")
        p50 = _percentile(second["latencies"], 0.50) * 1000
        p99 = _percentile(second["latencies"], 0.99) * 1000
        peak = max(first["peak_rss_mb"], second["peak_rss_mb"])
        print(
            f"SIRENE import (SQLite): establishments {establishments_rate:,.0f} rows/s, legal units "
            f"{units_rate:,.0f} rows/s, both files in {first['seconds']:.1f} s end to end"
        )
        print(
            f"SIRENE import per CPU second of the importer (what an idle core would give): establishments "
            f"{establishments_cpu:,.0f} rows/s, legal units {units_cpu:,.0f} rows/s; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        print(f"SIRENE re-import during lookups: establishments {rerun_rate:,.0f} rows/s")
        print(f"SIRENE importer peak memory (RSS): {peak:.0f} MB")
        print(f"SIRENE database size: {size_mb:.0f} MB")
        print(
            f"SIRENE lookup during import: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(second['latencies'])}"
        )
        verdicts = {
            "rows_per_second": establishments_rate >= GOALS["rows_per_second"],
            "peak_rss_mb": peak < GOALS["peak_rss_mb"],
            "lookup_p99_ms": p99 < GOALS["lookup_p99_ms"],
        }
        for name, ok in verdicts.items():
            print(f"  goal {name} {GOALS[name]}: {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
