"""The directory switches to a new import in one step: lookups during an
import answer from the old data, an import killed half-way leaves the old
data in place, and PostgreSQL loads through COPY."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from models import db
from sirene import load, lookup
from sirene.reader import SireneFileError
from tests.support.sirene_files import (
    ESTABLISHMENT_HEADER,
    LEGAL_UNIT_HEADER,
    establishment,
    legal_unit,
    write,
)

ROOT = Path(__file__).resolve().parent.parent
OLD = "73282932000074"
MASKED = "80295478400012"


def numbered(count: int, start: int = 10_000_000, **values) -> list[dict]:
    return [establishment(f"{start + n:09d}00017", **values) for n in range(count)]


def find(app, siret):
    with app.app_context(), db.connection_context():
        return lookup.find(siret)


def test_lookup_during_import_answers_from_the_old_data(app, tmp_path, monkeypatch):
    old = write(
        tmp_path / "old.csv", ESTABLISHMENT_HEADER, [establishment(OLD, libelleVoieEtablissement="ANCIENNE")]
    )
    new = write(tmp_path / "new.csv", ESTABLISHMENT_HEADER, numbered(10))
    with app.app_context(), db.connection_context():
        load.import_files([old])
    monkeypatch.setattr(load, "BATCH", 3)
    seen = []

    class LookAside(load.Progress):
        def advance(self, rows, position):
            # Another connection (another thread), as a web request would be.
            worker = threading.Thread(
                target=lambda: seen.append((find(app, OLD), find(app, "01000000000017")))
            )
            worker.start()
            worker.join()

    with app.app_context(), db.connection_context():
        load.import_files([new], LookAside())
    assert len(seen) >= 3
    assert all(old is not None and old.address == "ANCIENNE" and fresh is None for old, fresh in seen)
    assert find(app, OLD) is None and find(app, "01000000000017") is not None


KILLABLE = """
import sys, time
from pathlib import Path
from app import create_app
from models import db
from sirene import load

load.BATCH = 50

class SlowDown(load.Progress):
    def advance(self, rows, position):
        Path(sys.argv[2]).write_text(str(rows))
        time.sleep(0.2)

app = create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": sys.argv[1]})
with app.app_context(), db.connection_context():
    load.import_files([sys.argv[3]], SlowDown())
"""


def test_import_killed_half_way_leaves_the_old_data(app, tmp_path):
    old = write(tmp_path / "old.csv", ESTABLISHMENT_HEADER, [establishment(OLD)])
    with app.app_context(), db.connection_context():
        load.import_files([old])
    new = write(tmp_path / "new.csv", ESTABLISHMENT_HEADER, numbered(1000))
    marker = tmp_path / "rows"
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", KILLABLE, app.config["DATABASE_URL"], str(marker), str(new)], cwd=ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 30
        while not (marker.exists() and int(marker.read_text() or 0) >= 200):
            assert process.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert find(app, OLD) is not None and find(app, "01000000000017") is None
    with app.app_context(), db.connection_context():
        assert db.table_exists(load.staging_table(lookup.ESTABLISHMENTS))
        assert lookup.last_load("establishments").rows == 1
        # What step 6 dates its answers with: the same instant, read alone.
        assert lookup.loaded_at("establishments") == lookup.last_load("establishments").finished_at
        assert isinstance(lookup.loaded_at("establishments"), datetime)
    result = app.test_cli_runner().invoke(args=["sirene", "status"])
    assert "interrupted import" in result.output
    # The next import starts afresh and completes.
    with app.app_context(), db.connection_context():
        assert load.import_files([new])[0].rows == 1000
        assert not db.table_exists(load.staging_table(lookup.ESTABLISHMENTS))
    assert find(app, OLD) is None and find(app, "01000000000017") is not None


# -- PostgreSQL: COPY -------------------------------------------------------------------


def test_postgres_copy_loads_switches_and_reloads(pg_app, tmp_path, monkeypatch):
    monkeypatch.setattr(load, "BATCH", 4)
    sites = write(
        tmp_path / "e.zip",
        ESTABLISHMENT_HEADER,
        [
            establishment(OLD, typeVoieEtablissement="BD", libelleVoieEtablissement='HAUSSMANN, "LE" 2'),
            establishment(MASKED, statutDiffusionEtablissement="P", libelleVoieEtablissement="[ND]"),
            *numbered(10),
        ],
        as_zip=True,
    )
    units = write(
        tmp_path / "u.csv", LEGAL_UNIT_HEADER, [legal_unit(OLD[:9], denominationUniteLegale="CURIE")]
    )
    steps = []

    class Count(load.Progress):
        def advance(self, rows, position):
            steps.append(rows)

    with pg_app.app_context(), db.connection_context():
        assert lookup.loaded_at("establishments") is None
        results = load.import_files([sites, units], Count())
    assert [result.rows for result in results] == [12, 1]
    assert steps and steps[-1] == 1
    entry = find(pg_app, OLD)
    assert (entry.company_name, entry.address) == ("CURIE", 'Boulevard HAUSSMANN, "LE" 2')
    assert find(pg_app, MASKED).address is None
    with pg_app.app_context(), db.connection_context():
        load.import_files([write(tmp_path / "e2.csv", ESTABLISHMENT_HEADER, numbered(2))])
        assert lookup.last_load("establishments").rows == 2
        assert lookup.loaded_at("establishments") == lookup.last_load("establishments").finished_at
        assert isinstance(lookup.loaded_at("establishments"), datetime)
    assert find(pg_app, OLD) is None


def test_postgres_duplicate_siret_refused_and_old_data_kept(pg_app, tmp_path):
    with pg_app.app_context(), db.connection_context():
        load.import_files([write(tmp_path / "old.csv", ESTABLISHMENT_HEADER, [establishment(OLD)])])
        twice = write(tmp_path / "twice.csv", ESTABLISHMENT_HEADER, numbered(2) + numbered(1))
        with pytest.raises(SireneFileError, match="refused by PostgreSQL"):
            load.import_files([twice])
    assert find(pg_app, OLD) is not None


def test_postgres_cli_import_and_status(pg_app, tmp_path):
    path = write(tmp_path / "StockEtablissement_utf8.csv", ESTABLISHMENT_HEADER, numbered(5))
    runner = pg_app.test_cli_runner()
    result = runner.invoke(args=["sirene", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "5 établissements" in result.output
    assert "5 rows from" in runner.invoke(args=["sirene", "status"]).output
