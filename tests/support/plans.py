"""What the database reads whole: the query plan of each statement a test
recorded (``recorded_statements(params=True)``). A table that grows with the
portal's use (accounts, structures, the journal, the outbox, the SIRENE
directory) must be reached by an index, save for the few reads that cannot
be (see ``whole_reads``).

On SQLite, EXPLAIN QUERY PLAN: a « SCAN » of a table reads it whole. On
PostgreSQL, EXPLAIN with sequential scans made as dear as the planner allows
(``enable_seqscan = off``): its tables here are small, and a « Seq Scan » it
still chooses is one that no index can replace."""

from __future__ import annotations

import re

from peewee import PostgresqlDatabase

from models import MODELS, db

# Tables that do not grow with use: the schema's version.
FIXED = frozenset({"schema_version"})
# The console's searches: a piece of a name, an address or an identifier
# anywhere in it (LIKE '%…%'), which no B-tree index serves. Open to
# operators only (signed in with a second factor), at most a page of rows
# each, and measured in the README (10,000 accounts). An account is also
# found by its structures' names: the search reads the memberships too.
SEARCHED = frozenset({"user", "structure"})
READ_BY_A_SEARCH = SEARCHED | {"membership"}
_MAIN_TABLE = re.compile(r'\bFROM "(\w+)"')
_ALIASES = re.compile(r'"(\w+)" AS "(\w+)"')
_LIKE = re.compile(r"\bI?LIKE\b")
_PG_SCAN = re.compile(r'Seq Scan on "?(\w+)"?')


def partial_indexes() -> frozenset[str]:
    """The models' partial indexes: each holds only the rows it is about
    (the operators), so reading it whole is reading those."""
    return frozenset(
        index._name for model in MODELS for index in model._meta.indexes if getattr(index, "_where", None)
    )


def whole_reads(statements: list[tuple[str, tuple]], tables: frozenset[str] | None = None) -> list[str]:
    """The statements that read a growing table (of ``tables``, or any)
    whole: a step of their plan that scans it, except the tables a console
    search reads, a partial index, and a first page of a table's newest rows
    (no condition, a LIMIT, the order an index's: the walk down it stops
    there). Inside an app context, on the app's database."""
    postgresql = isinstance(db.obj, PostgresqlDatabase)
    partial = partial_indexes()
    found = []
    if postgresql:
        db.execute_sql("SET enable_seqscan = off")
    try:
        for sql, params in list(statements):  # the EXPLAINs below are recorded too
            if not sql.startswith(("SELECT", "UPDATE", "DELETE")):
                continue
            main = _MAIN_TABLE.search(sql)
            search = bool(_LIKE.search(sql)) and main is not None and main.group(1) in SEARCHED
            scans = _pg_scans(sql, params) if postgresql else _sqlite_scans(sql, params, partial)
            for table, step in scans:
                if table in FIXED or (tables is not None and table not in tables):
                    continue
                if search and table in READ_BY_A_SEARCH:
                    continue
                found.append(f"{step}: {sql}")
    finally:
        if postgresql:
            db.execute_sql("RESET enable_seqscan")
    return found


def _sqlite_scans(sql: str, params: tuple, partial: frozenset[str]) -> list[tuple[str, str]]:
    plan = [row[-1] for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    aliases = {alias: table for table, alias in _ALIASES.findall(sql)}
    sorted_apart = any("TEMP B-TREE FOR ORDER BY" in step for step in plan)
    if " WHERE " not in sql and " LIMIT " in sql and not sorted_apart:
        return []  # a first page
    scans = []
    for step in plan:
        words = step.split()
        if words[0] != "SCAN" or words[1] == "CONSTANT":
            continue
        if any(f"INDEX {name}" in step for name in partial):
            continue
        scans.append((aliases.get(words[1], words[1]), step))
    return scans


def _pg_scans(sql: str, params: tuple) -> list[tuple[str, str]]:
    """A partial index or a first page walked down its index is an Index
    Scan there: only the sequential scans are whole reads."""
    plan = [row[0] for row in db.execute_sql(f"EXPLAIN {sql}", params)]
    return [(match.group(1), step.strip()) for step in plan if (match := _PG_SCAN.search(step))]
