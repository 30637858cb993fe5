"""What the database reads whole: SQLite's query plan (EXPLAIN QUERY PLAN)
of each statement a test recorded (``recorded_statements(params=True)``).
A table that grows with the portal's use (accounts, structures, the
journal, the outbox, the SIRENE directory) must be reached by an index,
save for the few reads that cannot be (see ``whole_reads``)."""

from __future__ import annotations

import re

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


def partial_indexes() -> frozenset[str]:
    """The models' partial indexes: each holds only the rows it is about
    (the operators), so reading it whole is reading those."""
    return frozenset(
        index._name for model in MODELS for index in model._meta.indexes if getattr(index, "_where", None)
    )


def whole_reads(statements: list[tuple[str, tuple]], tables: frozenset[str] | None = None) -> list[str]:
    """The statements that read a growing table (of ``tables``, or any)
    whole: a step of their plan that SCANs it, except the tables a console
    search reads, a partial index, and a first page of a table's newest rows
    (no condition, a LIMIT, the order an index's: the walk down it stops
    there)."""
    partial = partial_indexes()
    found = []
    for sql, params in list(statements):  # the EXPLAINs below are recorded too
        if not sql.startswith(("SELECT", "UPDATE", "DELETE")):
            continue
        plan = [row[-1] for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
        aliases = {alias: table for table, alias in _ALIASES.findall(sql)}
        main = _MAIN_TABLE.search(sql)
        search = " LIKE " in sql and main is not None and main.group(1) in SEARCHED
        sorted_apart = any("TEMP B-TREE FOR ORDER BY" in step for step in plan)
        first_page = " WHERE " not in sql and " LIMIT " in sql and not sorted_apart
        for step in plan:
            words = step.split()
            if words[0] != "SCAN" or words[1] == "CONSTANT":
                continue
            table = aliases.get(words[1], words[1])
            if table in FIXED or (tables is not None and table not in tables):
                continue
            if (search and table in READ_BY_A_SEARCH) or first_page:
                continue
            if any(f"INDEX {name}" in step for name in partial):
                continue
            found.append(f"{step}: {sql}")
    return found
