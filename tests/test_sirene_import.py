"""The SIRENE importer on small INSEE-shaped files: both stock files, csv and
zip, columns found by name, ``[ND]`` fields, sole traders, foreign and
overseas establishments, closed ones, and refusals that name the problem."""

from __future__ import annotations

import csv
import fcntl
import io
import time
import zipfile

import psycopg2
import pytest

from models import SireneImport, db
from sirene import load, lookup, reader
from tests.support.sirene_files import (
    ESTABLISHMENT_HEADER,
    HAUSSMANN,
    LEGAL_UNIT_HEADER,
    csv_text,
    establishment,
    legal_unit,
    write,
)

HEAD = "73282932000074"  # SIRET with a valid check digit
SOLE = "44306184100047"
OVERSEAS = "35600000000048"
FOREIGN = "55203253400646"
CLOSED = "55203253400562"
MASKED = "80295478400012"


def establishments() -> list[dict]:
    return [
        establishment(
            HEAD,
            **HAUSSMANN,
            indiceRepetitionEtablissement="B",
            enseigne1Etablissement="ATELIER CURIE",
            complementAdresseEtablissement="BATIMENT A",
        ),
        establishment(
            SOLE,
            numeroVoieEtablissement="3",
            typeVoieEtablissement="RUE",
            libelleVoieEtablissement="DES LILAS",
            codePostalEtablissement="69003",
            libelleCommuneEtablissement="LYON 3EME",
            codeCommuneEtablissement="69383",
            codeCedexEtablissement="69441",
            libelleCedexEtablissement="LYON CEDEX 03",
        ),
        establishment(
            OVERSEAS,
            typeVoieEtablissement="AV",
            libelleVoieEtablissement="DU GENERAL DE GAULLE",
            codePostalEtablissement="97110",
            libelleCommuneEtablissement="POINTE-A-PITRE",
            codeCommuneEtablissement="97120",
        ),
        establishment(
            FOREIGN,
            etablissementSiege="false",
            libelleVoieEtablissement="RUE DE LA LOI 16",
            libelleCommuneEtrangerEtablissement="BRUXELLES",
            codePaysEtrangerEtablissement="99131",
            libellePaysEtrangerEtablissement="BELGIQUE",
        ),
        establishment(
            CLOSED,
            etablissementSiege="false",
            etatAdministratifEtablissement="F",
            libelleVoieEtablissement="ANCIENNE ADRESSE",
            codePostalEtablissement="92100",
            libelleCommuneEtablissement="BOULOGNE-BILLANCOURT",
        ),
        establishment(
            MASKED,
            statutDiffusionEtablissement="P",
            numeroVoieEtablissement="[ND]",
            typeVoieEtablissement="[ND]",
            libelleVoieEtablissement="[ND]",
            codePostalEtablissement="33000",
            libelleCommuneEtablissement="BORDEAUX",
        ),
    ]


def legal_units() -> list[dict]:
    return [
        legal_unit(HEAD[:9], denominationUniteLegale="CURIE ET FILLES"),
        legal_unit(
            SOLE[:9],
            prenom1UniteLegale="JEAN",
            prenomUsuelUniteLegale="JEANNOT",
            nomUniteLegale="MARTIN",
            nomUsageUniteLegale="DURAND",
            categorieJuridiqueUniteLegale="1000",
        ),
        legal_unit(FOREIGN[:9], denominationUniteLegale="DANONE"),
        legal_unit(
            MASKED[:9],
            statutDiffusionUniteLegale="P",
            prenom1UniteLegale="[ND]",
            nomUniteLegale="[ND]",
            categorieJuridiqueUniteLegale="1000",
        ),
    ]


def run_import(app, *paths):
    return app.test_cli_runner().invoke(args=["sirene", "import", *map(str, paths)])


def find(app, siret):
    with app.app_context(), db.connection_context():
        return lookup.find(siret)


@pytest.fixture
def files(tmp_path):
    return (
        write(tmp_path / "StockEtablissement_utf8.csv", ESTABLISHMENT_HEADER, establishments()),
        write(tmp_path / "StockUniteLegale_utf8.csv", LEGAL_UNIT_HEADER, legal_units()),
    )


@pytest.mark.parametrize("as_zip", [False, True], ids=["csv", "zip"])
def test_import_both_files_and_look_up(app, tmp_path, as_zip):
    suffix = ".zip" if as_zip else ".csv"
    units = write(tmp_path / f"StockUniteLegale_utf8{suffix}", LEGAL_UNIT_HEADER, legal_units(), as_zip)
    sites = write(
        tmp_path / f"StockEtablissement_utf8{suffix}", ESTABLISHMENT_HEADER, establishments(), as_zip
    )
    result = run_import(app, units, sites)
    assert result.exit_code == 0, result.output
    assert "6 établissements (StockEtablissement) loaded" in result.output
    assert "4 unités légales (StockUniteLegale) loaded" in result.output
    assert "Done in" in result.output

    head = find(app, HEAD)
    assert head.company_name == "CURIE ET FILLES"
    assert head.label == "ATELIER CURIE"
    assert head.address == "12 bis Boulevard HAUSSMANN"
    assert head.address_2 == "BATIMENT A"
    assert (head.postal_code, head.city, head.country) == ("75009", "PARIS 9", "FR")
    assert head.active and head.diffusible and head.head_office and head.legal_unit_known


def test_sole_trader_named_by_usual_first_name_and_name_in_use(app, files):
    assert run_import(app, *files).exit_code == 0
    sole = find(app, SOLE)
    assert sole.company_name == "JEANNOT DURAND"
    assert sole.address == "3 Rue DES LILAS"
    assert (sole.postal_code, sole.city) == ("69441", "LYON CEDEX 03")  # the CEDEX wins


def test_overseas_and_foreign_establishments(app, files):
    assert run_import(app, *files).exit_code == 0
    overseas = find(app, OVERSEAS)
    assert (overseas.country, overseas.city, overseas.postal_code) == ("GP", "POINTE-A-PITRE", "97110")
    assert overseas.address == "Avenue DU GENERAL DE GAULLE"
    foreign = find(app, FOREIGN)
    assert (foreign.country, foreign.city) == ("BE", "BRUXELLES")
    assert foreign.company_name == "DANONE" and not foreign.head_office


def test_closed_establishment_is_kept_and_marked_closed(app, files):
    assert run_import(app, *files).exit_code == 0
    closed = find(app, CLOSED)
    assert closed is not None and not closed.active
    assert closed.company_name == "DANONE"  # its legal unit is still there


def test_masked_fields_count_as_absent(app, files):
    assert run_import(app, *files).exit_code == 0
    masked = find(app, MASKED)
    assert not masked.diffusible
    assert masked.address is None and masked.company_name is None
    assert (masked.postal_code, masked.city) == ("33000", "BORDEAUX")


def test_extra_and_reordered_columns_change_nothing(app, tmp_path):
    header = ["colonneAjouteeEn2030", *reversed(ESTABLISHMENT_HEADER)]
    rows = [dict(row, colonneAjouteeEn2030='x,y\n"z"') for row in establishments()]
    path = write(tmp_path / "renamed-by-someone.csv", header, rows)
    assert run_import(app, path).exit_code == 0
    assert find(app, HEAD).address == "12 bis Boulevard HAUSSMANN"


def test_either_file_alone_keeps_establishments_without_legal_unit(app, tmp_path):
    sites = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, establishments())
    assert run_import(app, sites).exit_code == 0
    assert find(app, HEAD).company_name is None
    units = write(tmp_path / "u.csv", LEGAL_UNIT_HEADER, legal_units())
    assert run_import(app, units).exit_code == 0
    assert find(app, HEAD).company_name == "CURIE ET FILLES"


def test_missing_column_refused_with_its_name(app, tmp_path):
    header = [name for name in ESTABLISHMENT_HEADER if name != "etatAdministratifEtablissement"]
    path = write(tmp_path / "StockEtablissement_utf8.csv", header, establishments())
    result = run_import(app, path)
    assert result.exit_code != 0
    assert "etatAdministratifEtablissement" in result.output and "missing" in result.output
    with app.app_context(), db.connection_context():
        assert not lookup.is_loaded()


def test_a_refused_file_loads_nothing_of_the_others(app, tmp_path, files):
    junk = tmp_path / "notes.csv"
    junk.write_text("nom,prenom\nCurie,Marie\n")
    result = run_import(app, *files, junk)
    assert result.exit_code != 0 and "not an INSEE stock file" in result.output
    assert find(app, HEAD) is None


def test_unreadable_files_refused_attack_binary_and_bad_zip(app, tmp_path):
    garbage = tmp_path / "StockEtablissement_utf8.csv"
    garbage.write_bytes(b"\xff\xfe\x00\x01" * 100)
    result = run_import(app, garbage)
    assert result.exit_code != 0 and "Traceback" not in result.output
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.csv", "siret\n")
        archive.writestr("b.csv", "siret\n")
    result = run_import(app, two)
    assert result.exit_code != 0 and "one .csv" in result.output
    assert run_import(app, tmp_path / "absent.csv").exit_code != 0


def test_non_numeric_siret_refused_attack_sql_in_key(app, tmp_path):
    rows = [establishment(HEAD), establishment("1; DROP TABLE user; --")]
    path = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, rows)
    result = run_import(app, path)
    assert result.exit_code != 0 and "not a number of 14 digits at most" in result.output
    assert find(app, HEAD) is None  # the live directory is untouched


def test_malformed_lines_refused_attack_short_line_and_bad_bytes(app, tmp_path):
    good = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, [establishment(HEAD)])
    short = tmp_path / "short.csv"
    short.write_text(good.read_text() + "552032534,00646,55203253400646\n")
    result = run_import(app, short)
    assert result.exit_code != 0 and "malformed line" in result.output
    many = [establishment(f"{10_000_000 + n:09d}00017") for n in range(2000)]  # past the first read
    broken = write(tmp_path / "broken.csv", ESTABLISHMENT_HEADER, many)
    broken.write_bytes(broken.read_bytes() + b"\xff\xfe" * 10 + b"\n")
    result = run_import(app, broken)
    assert result.exit_code != 0 and "line 2002 is not UTF-8 (byte 0xFF)" in result.output
    assert find(app, HEAD) is None


def test_two_files_of_one_kind_refused(app, tmp_path, files):
    other = write(tmp_path / "other.csv", ESTABLISHMENT_HEADER, establishments())
    result = run_import(app, files[0], other)
    assert result.exit_code != 0 and "both" in result.output


def test_reimport_replaces_the_previous_load(app, tmp_path, files):
    assert run_import(app, *files).exit_code == 0
    smaller = write(tmp_path / "e2.csv", ESTABLISHMENT_HEADER, [establishment(SOLE)])
    assert run_import(app, smaller).exit_code == 0
    assert find(app, HEAD) is None and find(app, SOLE) is not None
    with app.app_context(), db.connection_context():
        assert SireneImport.select().count() == 3
        assert lookup.last_load("establishments").rows == 1
        assert not db.table_exists(load.staging_table(lookup.ESTABLISHMENTS))


def test_status_says_what_is_loaded(app, files):
    result = app.test_cli_runner().invoke(args=["sirene", "status"])
    assert "none loaded" in result.output
    assert run_import(app, *files).exit_code == 0
    result = app.test_cli_runner().invoke(args=["sirene", "status"])
    assert result.exit_code == 0
    assert "6 rows from" in result.output and "StockEtablissement_utf8.csv" in result.output
    assert "4 rows from" in result.output and "UTC" in result.output


def test_plain_progress_lines_off_a_terminal(app, tmp_path, monkeypatch):
    monkeypatch.setattr(load, "BATCH", 2)
    monkeypatch.setattr("sirene.cli.PLAIN_EVERY_SECONDS", 0)
    path = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, establishments())
    output = run_import(app, path).output
    assert "loading établissements" in output
    assert "4 rows," in output and "rows/s" in output


def test_of_siren_lists_establishments_head_office_first(app, tmp_path):
    rows = [establishment("55203253400562", etablissementSiege="false"), establishment("55203253400646")]
    assert run_import(app, write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, rows)).exit_code == 0
    with app.app_context(), db.connection_context():
        found = lookup.of_siren("552032534")
        assert [entry.siret for entry in found] == ["55203253400646", "55203253400562"]
        assert lookup.of_siren("55203253") == [] and lookup.of_siren("abcdefghi") == []


def test_find_refuses_what_is_not_a_siret(app, files):
    assert run_import(app, *files).exit_code == 0
    for value in ("", "7328293200007", "7328293200007X", "1 OR 1=1", HEAD + "0"):
        assert find(app, value) is None


def test_generated_csv_is_read_like_insee_writes_it(tmp_path):
    """The test files are INSEE's shape: comma-separated, a header line, quotes only where needed."""
    path = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, establishments())
    with path.open(newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:3] == ["siren", "nic", "siret"] and len(header) == 53


def test_concurrent_import_of_one_kind_refused_attack_shared_staging_table(app, files):
    """A second import of the same kind of file, started while the first
    runs (another terminal, a cron job), would drop the first one's
    ``…_next`` table under it: it is refused, and nothing is loaded."""
    with app.app_context():
        database = db.obj.database
    with open(f"{database}.sirene-establishments.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the first import, still running
        result = run_import(app, files[0])
        assert result.exit_code != 0
        assert "Another import of" in result.output and "is running" in result.output
        assert find(app, HEAD) is None
        # The other kind is not held by it.
        assert run_import(app, files[1]).exit_code == 0
    assert run_import(app, files[0]).exit_code == 0  # once the first has finished
    assert find(app, HEAD) is not None


HELD = (  # a bigint advisory key is shown in two halves
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
    " AND ((classid::bigint << 32) | objid::bigint) = %s"
)


def test_concurrent_import_refused_on_postgresql_attack_shared_staging_table(
    pg_app, files, postgres, database_url
):
    connection = psycopg2.connect(database_url.replace("postgresql+pool://", "postgresql://"))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", (load.IMPORT_LOCK_KEYS["establishments"],))
        result = run_import(pg_app, files[0])
        assert result.exit_code != 0 and "is running" in result.output
    finally:
        connection.close()  # the session's lock goes with it
    # The server ends the closed session a moment later: wait for its lock to go.
    key = load.IMPORT_LOCK_KEYS["establishments"]
    watcher = psycopg2.connect(database_url.replace("postgresql+pool://", "postgresql://"))
    try:
        deadline = time.monotonic() + 30
        with watcher.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(HELD, (key,))
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
    finally:
        watcher.close()
    assert run_import(pg_app, files[0]).exit_code == 0
    assert find(pg_app, HEAD) is not None


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_app(request):
    """The app on SQLite, then on PostgreSQL: each has its own loader."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


@pytest.mark.parametrize("key", ["-5", "0073282932000074", "999999999999999999"])
def test_attack_a_key_that_is_a_number_but_no_siret_is_refused(any_database_app, tmp_path, key):
    """Both databases take « -5 » or 16 digits as a number: loaded, a number
    that is no SIRET (nor SIREN) would sit in the directory. Each is refused,
    naming its line, and the directory loaded before stays."""
    app = any_database_app
    loaded = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, [establishment(SOLE)])
    assert run_import(app, loaded).exit_code == 0
    rows = [establishment(HEAD), establishment(key)]
    result = run_import(app, write(tmp_path / "bad.csv", ESTABLISHMENT_HEADER, rows))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "line 3" in result.output or "PostgreSQL" in result.output, result.output
    assert find(app, SOLE) is not None and find(app, HEAD) is None
    units = [legal_unit("732829320"), legal_unit(key)]
    result = run_import(app, write(tmp_path / "u.csv", LEGAL_UNIT_HEADER, units))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output


def damaged_zips(tmp_path, good):
    """A zip whose data fail their CRC, one whose deflated data stop short,
    and one cut in half (no central directory left)."""
    text = good.read_bytes()
    flipped = tmp_path / "crc.zip"
    with zipfile.ZipFile(flipped, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("StockEtablissement_utf8.csv", text)
    data = bytearray(flipped.read_bytes())
    at = data.index(b",A,", len(data) // 2)
    data[at + 1] = ord("F")  # still a well-formed csv: only the CRC tells
    flipped.write_bytes(bytes(data))
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("StockEtablissement_utf8.csv", text)
    short = tmp_path / "short.zip"
    with zipfile.ZipFile(short, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("StockEtablissement_utf8.csv")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as member:
            member.write(text)
    data = short.read_bytes()
    start = data.index(b"StockEtablissement_utf8.csv") + len("StockEtablissement_utf8.csv")
    end = data.index(b"PK\x01\x02")  # the central directory, which stays
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: start + (end - start) // 2] + data[end:])
    half = tmp_path / "half.zip"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return flipped, cut, half


def test_damaged_zip_refused_in_one_line_attack_bad_crc_and_truncated_archive(any_database_app, tmp_path):
    app = any_database_app
    many = [establishment(HEAD)] + [establishment(f"{10_000_000 + n:09d}00017") for n in range(3000)]
    good = write(tmp_path / "StockEtablissement_utf8.csv", ESTABLISHMENT_HEADER, many)
    assert (
        run_import(app, write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, [establishment(SOLE)])).exit_code == 0
    )
    for damaged in damaged_zips(tmp_path, good):
        result = run_import(app, damaged)
        assert result.exit_code == 1 and "Traceback" not in result.output, (damaged.name, result.output)
        assert result.output.splitlines()[-1].startswith(f"Error: {damaged}: "), result.output
        assert any(word in result.output for word in ("damaged or truncated", "malformed line", "unreadable"))
        assert find(app, SOLE) is not None and find(app, HEAD) is None  # the previous load stays
    with app.app_context(), db.connection_context():
        assert not db.table_exists(load.staging_table(lookup.ESTABLISHMENTS))


def test_a_file_of_no_rows_leaves_the_directory_as_it_was(any_database_app, tmp_path, files):
    app = any_database_app
    assert run_import(app, *files).exit_code == 0
    empty = write(tmp_path / "StockEtablissement_utf8.csv", ESTABLISHMENT_HEADER, [])
    result = run_import(app, empty)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no établissements (StockEtablissement) in this file" in result.output
    assert find(app, HEAD) is not None
    with app.app_context(), db.connection_context():
        assert lookup.last_load("establishments").rows == len(establishments())
        assert not db.table_exists(load.staging_table(lookup.ESTABLISHMENTS))


def test_a_full_disk_stops_the_import_in_one_line_and_keeps_the_directory(app, tmp_path, files, monkeypatch):
    assert run_import(app, *files).exit_code == 0
    with app.app_context(), db.connection_context():
        pages = db.execute_sql("PRAGMA page_count").fetchone()[0]
    # SQLite's own « database or disk is full », a few pages into the load.
    monkeypatch.setattr(
        load, "SQLITE_LOAD_PRAGMAS", {**load.SQLITE_LOAD_PRAGMAS, "max_page_count": pages + 20}
    )
    monkeypatch.setattr(load, "BATCH", 500)
    many = [establishment(f"{10_000_000 + n:09d}00017") for n in range(5000)]
    big = write(tmp_path / "big.csv", ESTABLISHMENT_HEADER, many)
    result = run_import(app, big)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.splitlines()[-1].startswith(f"Error: {big}: the database stopped the load near row ")
    assert "full" in result.output and "the directory is left as it was" in result.output
    assert find(app, HEAD) is not None and find(app, "01000000000017") is None
    with app.app_context(), db.connection_context():
        assert lookup.last_load("establishments").rows == len(establishments())
        assert not db.table_exists(load.staging_table(lookup.ESTABLISHMENTS))


# -- a hostile or damaged file -------------------------------------------------------------

CONTROLS = "\x00\x01\x1e\x1f\x7f\u0085\u200b\u202e\u2028\u2066\ufeff"  # C0, DEL, C1, invisible format


def stored_records(app) -> list[str]:
    with app.app_context(), db.connection_context():
        return [
            record
            for kind in (lookup.ESTABLISHMENTS, lookup.LEGAL_UNITS)
            if db.table_exists(kind.table)
            for (record,) in db.execute_sql(f"SELECT record FROM {kind.table}").fetchall()  # noqa: S608
        ]


def test_attack_unit_separator_in_a_field_shifts_nothing(any_database_app, tmp_path):
    """The record's own separator inside a field would have cut it in two,
    every field after it one place late (the city read as the postal code)."""
    app = any_database_app
    site = establishment(HEAD, **HAUSSMANN, enseigne1Etablissement="ATELIER\x1f\x1f CURIE")
    site["libelleVoieEtablissement"] = "HAUSS\x1fMANN"
    sites = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, [site])
    units = write(
        tmp_path / "u.csv", LEGAL_UNIT_HEADER, [legal_unit(HEAD[:9], denominationUniteLegale="\x1fCURIE")]
    )
    result = run_import(app, sites, units)
    assert result.exit_code == 0, result.output
    assert "loaded in" in result.output and "; 3 control characters removed from fields." in result.output
    assert "; 1 control characters removed from fields." in result.output  # the legal units' line
    head = find(app, HEAD)
    assert (head.label, head.address, head.company_name) == (
        "ATELIER CURIE",
        "12 Boulevard HAUSSMANN",
        "CURIE",
    )
    assert (head.postal_code, head.city, head.country) == ("75009", "PARIS 9", "FR")
    assert head.active and head.head_office


def test_attack_control_characters_never_reach_the_record(any_database_app, tmp_path):
    """NUL (which stopped the csv module: the whole file refused), the
    record separator, DEL, C1 and invisible format characters (a bidi
    override spoofing a name): deleted, counted, every field in its place."""
    app = any_database_app
    site = establishment(HEAD, **HAUSSMANN, enseigne1Etablissement=f"ATELIER{CONTROLS}\tCURIE")
    site["libelleCommuneEtablissement"] = f"PARIS{CONTROLS} 9"
    unit = legal_unit(HEAD[:9], denominationUniteLegale=f"{CONTROLS}CURIE ET FILLES{CONTROLS}")
    sites = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, [site, establishment(SOLE)])
    units = write(tmp_path / "u.csv", LEGAL_UNIT_HEADER, [unit])
    result = run_import(app, sites, units)
    assert result.exit_code == 0, result.output
    assert f"; {2 * len(CONTROLS)} control characters removed from fields." in result.output
    head = find(app, HEAD)
    assert (head.label, head.city, head.company_name) == ("ATELIER CURIE", "PARIS 9", "CURIE ET FILLES")
    assert head.address == "12 Boulevard HAUSSMANN" and find(app, SOLE) is not None
    records = stored_records(app)
    assert len(records) == 3
    assert not any(set(record) & set(CONTROLS + "\t\r\n") - {"\x1f"} for record in records)


def test_attack_control_characters_cut_between_two_reads(app, tmp_path, monkeypatch):
    """A multi-byte control character split across two reads of the file is
    still found whole."""
    monkeypatch.setattr("sirene.reader.CHUNK", 7)
    site = establishment(HEAD, **HAUSSMANN, enseigne1Etablissement="A\u202eB\u0085C\ufeffD\u2028E é’°€")
    result = run_import(app, write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, [site]))
    assert result.exit_code == 0 and "4 control characters removed" in result.output, result.output
    assert find(app, HEAD).label == "ABCDE é’°€"


# Bytes that are not UTF-8 as they stand, but become a bidi override, a C1
# or a byte order mark once what sits inside them is deleted.
NESTED = {
    "override-in-override": b"\xe2\x80\xe2\x80\xae\xae",
    "c0-inside": b"\xe2\x01\x80\xae",
    "c1-in-c1": b"\xc2\xc2\x85\x85",
    "zero-width-in-bom": b"\xef\xbb\xe2\x80\x8b\xbf",
}


class Trickle(io.RawIOBase):
    """A file read ``step`` bytes at a time, whatever the size asked."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step = io.BytesIO(data), step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.data.read(self.step)


@pytest.mark.parametrize("name", sorted(NESTED))
def test_attack_invisible_character_rebuilt_by_a_deletion_whatever_the_reads(name):
    """Deleting a control character must not join the bytes around it into
    another one that stays: whole in one read, or cut anywhere between two
    (a bidi override would then spoof the name in the stored record)."""
    data = b"ATELIER " + NESTED[name] + b"CURIE\n"
    for step in range(1, len(data) + 1):
        cleaned = reader.Cleaned(Trickle(data, step))
        out = b"".join(iter(cleaned.read1, b""))
        assert out == b"ATELIER CURIE\n", (step, out)


def test_characters_cut_between_two_reads_come_out_whole():
    """é, ’, € and a CRLF cut anywhere between two reads: decoded as written."""
    text = "siret;nom\r\n1;Élodie’s café €\r\n2;Ça\r\n"
    data = text.encode()
    for step in range(1, len(data) + 1):
        cleaned = reader.Cleaned(Trickle(data, step))
        rows = list(csv.reader(io.TextIOWrapper(cleaned, encoding="utf-8-sig", newline="")))
        assert rows == [["siret;nom"], ["1;Élodie’s café €"], ["2;Ça"]], step
        assert cleaned.removed == 0, step


def test_attack_line_breaks_inside_quoted_fields_become_spaces(any_database_app, tmp_path):
    app = any_database_app
    site = establishment(HEAD, **HAUSSMANN, enseigne1Etablissement="ATELIER\r\nCURIE")
    site["complementAdresseEtablissement"] = "BATIMENT\nA\rCOUR"
    unit = legal_unit(HEAD[:9], denominationUniteLegale="CURIE\nET FILLES")
    sites = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, [site, establishment(SOLE)])
    units = write(tmp_path / "u.csv", LEGAL_UNIT_HEADER, [unit])
    result = run_import(app, sites, units)
    assert result.exit_code == 0, result.output
    assert "; 3 line breaks inside fields made spaces or blank lines skipped." in result.output
    head = find(app, HEAD)
    assert (head.label, head.address_2, head.company_name) == (
        "ATELIER CURIE",
        "BATIMENT A COUR",
        "CURIE ET FILLES",
    )
    assert head.address == "12 Boulevard HAUSSMANN" and find(app, SOLE).siret == SOLE
    assert not any("\r" in record or "\n" in record for record in stored_records(app))


def test_attack_blank_lines_are_skipped_not_the_whole_file(app, tmp_path):
    """A blank line (a file edited by hand, a trailing one) refused the
    whole file as a malformed line."""
    path = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, [establishment(HEAD, **HAUSSMANN)])
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "\n" + lines[1] + "\n\x00\x1e\n\n")
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    assert "1 établissements (StockEtablissement) loaded" in result.output
    assert "4 line breaks inside fields made spaces or blank lines skipped" in result.output
    assert find(app, HEAD).address == "12 Boulevard HAUSSMANN"


def test_attack_a_file_of_control_characters_only_loads_nothing(app, tmp_path, files):
    assert run_import(app, *files).exit_code == 0
    path = tmp_path / "StockEtablissement_utf8.csv"
    path.write_bytes(",".join(ESTABLISHMENT_HEADER).encode() + b"\n" + b"\x00\x1f\x1e\n" * 5000)
    result = run_import(app, path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no établissements (StockEtablissement) in this file" in result.output
    assert find(app, HEAD) is not None


def test_attack_a_row_missing_a_column_is_refused_not_shifted(any_database_app, tmp_path, files):
    """A row one column short, the kept columns all still within it, was
    loaded with every field after the gap one place early."""
    app = any_database_app
    assert run_import(app, *files).exit_code == 0
    header = ESTABLISHMENT_HEADER
    path = write(tmp_path / "e.csv", header, [establishment(SOLE), establishment(HEAD, **HAUSSMANN)])
    lines = path.read_text().splitlines(keepends=True)
    fields = next(csv.reader([lines[2]]))
    del fields[header.index("dateCreationEtablissement")]
    path.write_text(lines[0] + lines[1] + ",".join(fields) + "\n")
    result = run_import(app, path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.splitlines()[-1] == (
        f"Error: {path}: malformed line 3 (fewer columns than the header)."
    ), result.output
    assert find(app, SOLE).address == "3 Rue DES LILAS"  # the previous load stays


def test_attack_duplicate_siret_refused_on_either_database(any_database_app, tmp_path, files):
    """SQLite kept the last of two rows of one SIRET (INSERT OR REPLACE),
    PostgreSQL refused the file: a file that lists one establishment twice
    is damaged, and it is refused on both, naming the SIRET's line."""
    app = any_database_app
    assert run_import(app, *files).exit_code == 0
    rows = [establishment(SOLE), establishment(HEAD, libelleVoieEtablissement="A"), establishment(HEAD)]
    path = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, rows)
    result = run_import(app, path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    last = result.output.splitlines()[-1]
    assert last.startswith(f"Error: {path}: ")
    assert "on line 4 is on an earlier line too" in last or f"Key (siret)=({int(HEAD)}) is duplicated" in last
    assert find(app, HEAD).address == "12 bis Boulevard HAUSSMANN"  # the previous load stays
    units = [legal_unit(HEAD[:9]), legal_unit(HEAD[:9])]
    result = run_import(app, write(tmp_path / "u.csv", LEGAL_UNIT_HEADER, units))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert find(app, HEAD).company_name == "CURIE ET FILLES"


def test_attack_latin1_bytes_refused_naming_their_line(app, tmp_path, files):
    """A Latin-1 byte in a UTF-8 file was « malformed line near row 1 »,
    whichever of a million lines held it."""
    assert run_import(app, *files).exit_code == 0
    many = [establishment(f"{10_000_000 + n:09d}00017") for n in range(3000)]
    path = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, many)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2500] = lines[2500].replace(b",A,", ",SOCIÉTÉ,".encode("latin-1"), 1)
    path.write_bytes(b"".join(lines))
    result = run_import(app, path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.splitlines()[-1].startswith(
        f"Error: {path}: line 2501 is not UTF-8 (byte 0xC9): INSEE's _utf8 files are expected"
    ), result.output
    assert find(app, HEAD) is not None and find(app, "10000000000017") is None


def test_attack_zip_bomb_refused_before_it_is_inflated(app, tmp_path, files):
    """A member that inflates a thousand times (a few kilobytes for tens of
    megabytes of csv; gigabytes at scale) is refused from its declared
    sizes, before any of it is read."""
    assert run_import(app, *files).exit_code == 0
    row = csv_text(ESTABLISHMENT_HEADER, [establishment(HEAD)]).splitlines(keepends=True)[1]
    bomb = tmp_path / "StockEtablissement_utf8.zip"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("StockEtablissement_utf8.csv", "w") as member,
    ):
        member.write((",".join(ESTABLISHMENT_HEADER) + "\n").encode())
        for _ in range(40):
            member.write(row.encode() * 5000)  # 22 MB of csv
    assert bomb.stat().st_size < 150_000
    result = run_import(app, bomb)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "more than 100 times: not a csv, maybe a zip bomb; nothing is inflated" in result.output
    assert find(app, SOLE) is not None  # the previous load stays


def test_attack_zip_compressed_otherwise_than_insee_s_is_refused(app, tmp_path):
    """bzip2 and lzma inflate far more than deflate: a bomb's methods."""
    text = csv_text(ESTABLISHMENT_HEADER, [establishment(HEAD)])
    path = tmp_path / "StockEtablissement_utf8.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("StockEtablissement_utf8.csv", text)
    result = run_import(app, path)
    assert result.exit_code == 1 and "compressed with method 12" in result.output
    assert find(app, HEAD) is None


def test_attack_runaway_line_refused_before_it_is_read_whole(any_database_app, tmp_path, files):
    """A line of megabytes (here a row followed by millions of empty fields,
    none over the csv module's field limit) was read whole into memory, and
    loaded; a line of gigabytes would have been too. It is refused once
    longer than any INSEE line could be."""
    app = any_database_app
    assert run_import(app, *files).exit_code == 0
    path = write(tmp_path / "e.csv", ESTABLISHMENT_HEADER, [establishment(SOLE), establishment(HEAD)])
    lines = path.read_text().splitlines()
    path.write_text(f"{lines[0]}\n{lines[1]}\n{lines[2]}{',' * 3_000_000}\n")
    result = run_import(app, path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.splitlines()[-1] == (
        f"Error: {path}: malformed line 3 (a line of more than 1048576 bytes)."
    ), result.output
    assert find(app, SOLE).address == "3 Rue DES LILAS"  # the previous load stays
