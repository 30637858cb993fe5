"""Prepared statements: a hot query's SQL built once, run with new values.

Peewee builds a query's SQL from its nodes every time the query runs: about
0.3 ms for a select of the accounts' 18 columns joined to their sessions,
where SQLite then runs the statement in microseconds. The queries that run on
every signed-in request, or several times in each sign-up, are written once
as a ``Prepared`` query with a ``slot`` where each value goes. Its SQL is
built on first use for each kind of database (SQLite and PostgreSQL quote and
bind differently); each call binds its values, converted by their field as
Peewee converts ``field == value``, and reads the rows through the query's
own cursor wrapper (model instances, joined models included). What runs is
exactly the SQL Peewee builds for the query.

The wrapper's mapping of columns to fields and models (their converters, the
joined models' constructors) is Peewee's work on the statement's columns,
the same for every run of the same SQL: about 0.1 ms for a join, worked out
on the first run and given to each wrapper after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from peewee import Field, Insert, Model, Node, Query, Value


class Slot:
    """Where a value given at run time goes."""

    __slots__ = ("field", "name")

    def __init__(self, name: str, field: Field | None) -> None:
        self.name = name
        self.field = field

    def bind(self, values: dict[str, Any]) -> Any:
        value = values[self.name]
        return self.field.db_value(value) if self.field is not None else value

    def __repr__(self) -> str:
        return f"slot({self.name!r})"


def slot(name: str, field: Field | None = None) -> Value:
    """The value named ``name`` of each run; ``field`` converts it (a date,
    a row for a foreign key) as Peewee would for ``field == value``."""
    return Value(Slot(name, field), converter=False, unpack=False)


def _refuse_frozen_defaults(query: Query) -> None:
    """An INSERT must give every field whose default is a function (a
    timestamp): Peewee would call it once, as the SQL is built, and every run
    would insert that first value."""
    if not isinstance(query, Insert) or not isinstance(query._insert, dict):
        return
    given = {getattr(column, "name", column) for column in query._insert}
    frozen = sorted(
        field.name
        for field, default in query.model._meta.defaults.items()
        if callable(default) and field.name not in given
    )
    if frozen:
        raise TypeError(f"A prepared INSERT gives each of these a slot: {', '.join(frozen)}")


class Prepared:
    """A query built by ``build`` (with slots), its SQL kept per kind of database."""

    def __init__(self, build: Callable[[], Query]) -> None:
        self.build = build
        self._built: dict[type, tuple[Query, str, tuple]] = {}
        self._mappings: dict[int, dict[str, Any]] = {}  # by built query (kept above): what initialize() set
        self._database = None  # the models' database (models.db, a proxy), from the first build

    def _statement(self) -> tuple[Query, str, tuple]:
        query = None
        if self._database is None:
            query = self.build()
            self._database = query.model._meta.database
        kind = type(getattr(self._database, "obj", None) or self._database)  # SQLite or PostgreSQL
        built = self._built.get(kind)
        if built is None:
            if query is None:  # never ``query or ...``: a select's truth runs it
                query = self.build()
            _refuse_frozen_defaults(query)
            sql, params = query.sql()
            # Two threads may both build it: the same SQL, the last one kept.
            built = self._built[kind] = (query, sql, tuple(params))
        return built

    def _run(self, values: dict[str, Any]):
        query, sql, params = self._statement()
        bound = [param.bind(values) if isinstance(param, Slot) else param for param in params]
        return query, self._database.execute_sql(sql, bound)

    def rows(self, **values) -> list:
        """The rows, as the query's model instances (a select)."""
        query, cursor = self._run(values)
        wrapper = query._get_cursor_wrapper(cursor)  # Peewee's own mapping of rows
        mapping = self._mappings.get(id(query))
        if mapping is None:  # the first run: what Peewee's initialize() sets is kept
            fresh = dict(vars(wrapper))
            wrapper.initialize()
            mapping = {
                name: value
                for name, value in vars(wrapper).items()
                if name not in fresh or fresh[name] is not value
            }
            self._mappings[id(query)] = mapping  # whole, in one step (threads)
        else:
            vars(wrapper).update(mapping)
        wrapper.initialized = True
        return list(wrapper)

    def first(self, **values):
        """The first row, or None (a select with ``.limit(1)``)."""
        rows = self.rows(**values)
        return rows[0] if rows else None

    def scalar(self, **values):
        """The first column of the first row (a count, an EXISTS)."""
        _, cursor = self._run(values)
        row = cursor.fetchone()
        cursor.close()
        return row[0] if row else None

    def execute(self, **values) -> int:
        """A write: the number of rows it changed."""
        _, cursor = self._run(values)
        return cursor.rowcount

    def insert(self, **values):
        """A one-row INSERT: the new row's primary key, as Peewee reads it
        (PostgreSQL's RETURNING, which Peewee adds to a model's INSERT there;
        SQLite's last row id)."""
        query, cursor = self._run(values)
        if query._returning:
            row = cursor.fetchone()
            cursor.close()
            return row[0] if row else None
        return cursor.lastrowid


# The INSERTs ``create`` prepared, by model and columns: the callers' few sets
# of columns (fixed in the code, never chosen by a request), and a bound in case.
_CREATES: dict[tuple[type[Model], tuple[str, ...]], Prepared] = {}
CREATES_KEPT = 64


def create(model: type[Model], **values) -> Model:
    """``model.create(**values)``, its INSERT built once per set of columns.

    The instance is made as Peewee makes it (its defaults, a timestamp
    included, taken now) and the row written with the columns Peewee's
    ``save`` would write, then given its new primary key: the instance and
    the row are those ``create`` gives. Only for a model numbered by the
    database. A row given its number, or a value that is SQL (an expression
    Peewee writes into the statement), is written by Peewee's ``save``."""
    instance = model(**values)
    if not model._meta.auto_increment:
        raise TypeError(f"{model.__name__} is not numbered by the database: use {model.__name__}.create")
    data = dict(instance.__data__)
    numbered = data.pop(model._meta.primary_key.name, None) is not None
    prepared = None
    if not numbered and not any(isinstance(value, Node) for value in data.values()):
        instance._populate_unsaved_relations(data)  # as ``save`` does
        prepared = _insert_of(model, tuple(sorted(data)))
    if prepared is None:
        instance.save(force_insert=True)
        return instance
    instance._pk = prepared.insert(**data)
    instance._dirty.clear()
    return instance


def _insert_of(model: type[Model], columns: tuple[str, ...]) -> Prepared | None:
    """The INSERT of these columns of ``model``, kept; None past the bound."""
    prepared = _CREATES.get((model, columns))
    if prepared is None and len(_CREATES) < CREATES_KEPT:
        fields = model._meta.fields
        prepared = _CREATES[model, columns] = Prepared(
            lambda: model.insert({fields[name]: slot(name, fields[name]) for name in columns})
        )
    return prepared
