"""Text compared without its accents or case, in Python and in SQL alike.

An operator who types « eric » or « francois » looks for « Éric » and
« François ». The databases cannot do it as they come: SQLite's LIKE
folds the case of ASCII letters only, and PostgreSQL's ``unaccent`` is an
extension that a plain database owner may not create. Both can run
``translate(text, from, to)`` (PostgreSQL's own function; SQLite's is ours,
registered on each connection by ``database``), so a column is folded in
SQL by the same one-for-one table as the searched text is in Python: every
Latin letter with diacritics to its base letter in lower case, every ASCII
capital to its lower case, then « œ » and « æ » to two letters. No ``lower``:
PostgreSQL's follows the database's locale (« Σ » to « σ » in most), and the
stored folded columns (``models.BaseModel.FOLDED``) must hold on either
database what ``fold`` gives in Python.
"""

from __future__ import annotations

import string
import unicodedata
from functools import lru_cache

from peewee import fn


def _latin_letters() -> tuple[str, str]:
    """Each letter of Latin-1, Latin Extended-A and -B and Latin Extended
    Additional (Vietnamese, among others) whose decomposition
    is an ASCII letter and marks, with that letter in lower case; the few
    with a stroke that Unicode does not decompose; the ASCII capitals."""
    source, target = [], []
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)
        marks = base[1:]
        if marks and base[0].isascii() and base[0].isalpha() and all(map(unicodedata.combining, marks)):
            source.append(char)
            target.append(base[0].lower())
    for char, plain in (("Ø", "o"), ("ø", "o"), ("Đ", "d"), ("đ", "d"), ("Ł", "l"), ("ł", "l")):
        source.append(char)
        target.append(plain)
    # Letters of other scripts keep their case (SQLite's ``lower`` did the same).
    source.extend(string.ascii_uppercase)
    target.extend(string.ascii_lowercase)
    # One character for one: the ligatures are brought to lower case here,
    # and spelt out after.
    for char, lower in (("Œ", "œ"), ("Æ", "æ")):
        source.append(char)
        target.append(lower)
    return "".join(source), "".join(target)


SOURCE, TARGET = _latin_letters()
_TABLE = str.maketrans(SOURCE, TARGET)
LIGATURES = (("œ", "oe"), ("æ", "ae"))


def fold(text: str) -> str:
    """``text`` as ``folded`` leaves a column's value: no accents, lower case
    (Latin script; other scripts keep their case)."""
    text = text.translate(_TABLE)
    for ligature, letters in LIGATURES:
        text = text.replace(ligature, letters)
    return text


def folded(column):
    """The SQL expression of ``column`` as ``fold`` leaves it. Searches no
    longer run it (on SQLite, a call into Python for each row): they read
    the folded columns the models store; writes that give an expression
    rather than a value (``models.BaseModel.FOLDED``) do."""
    expression = fn.translate(column, SOURCE, TARGET)
    for ligature, letters in LIGATURES:
        expression = fn.replace(expression, ligature, letters)
    return expression


@lru_cache(maxsize=8)
def _table(source: str, target: str) -> dict[int, int | None]:
    # PostgreSQL's translate drops the characters of ``source`` beyond ``target``'s length.
    return str.maketrans(source[: len(target)], target, source[len(target) :])


def translate(text: str | None, source: str, target: str) -> str | None:
    """PostgreSQL's ``translate``, for SQLite."""
    if text is None or source is None or target is None:
        return None
    return str(text).translate(_table(source, target))
