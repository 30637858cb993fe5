"""Open an INSEE stock file, ``.csv`` or the ``.zip`` INSEE publishes, as a
stream of rows holding only the columns kept, picked by name.

Nothing is read into memory beyond the csv module's buffers: a national file
of several gigabytes streams like a small one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import tee
from operator import itemgetter
from pathlib import Path
from typing import IO

from sirene.schema import SEPARATOR, Kind, kind_of

# INSEE's longest fields are far below this; a runaway line is refused, not buffered.
csv.field_size_limit(min(sys.maxsize, 1 << 20))


class SireneFileError(Exception):
    """A file that is not an INSEE stock file the portal can load."""


# What a malformed line raises while rows stream: a short line (IndexError),
# a broken quote or an overlong field (csv.Error), bytes that are not UTF-8.
ROW_ERRORS = (IndexError, csv.Error, UnicodeDecodeError)

# What a damaged file raises while it streams: a zip member whose data fail
# their CRC or cannot be inflated, or that ends early; a read error.
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)

ZIP_SIGNATURE = b"PK\x03\x04"


@dataclass
class StockFile:
    path: Path
    kind: Kind
    size: int  # bytes of csv text (uncompressed), for the progress bar
    member: str | None = None  # the csv inside a zip


def _open_binary(path: Path) -> tuple[IO[bytes], int, str | None, contextlib.ExitStack]:
    stack = contextlib.ExitStack()
    try:
        if zipfile.is_zipfile(path):
            archive = stack.enter_context(zipfile.ZipFile(path))
            members = [info for info in archive.infolist() if info.filename.lower().endswith(".csv")]
            if len(members) != 1:
                count = len(members)
                raise SireneFileError(f"{path}: the archive should hold one .csv file, it holds {count}.")
            info = members[0]
            return stack.enter_context(archive.open(info)), info.file_size, info.filename, stack
        handle = stack.enter_context(path.open("rb"))
        if handle.read(len(ZIP_SIGNATURE)) == ZIP_SIGNATURE:
            raise SireneFileError(f"{path}: a damaged or truncated zip archive.")
        handle.seek(0)
        return handle, path.stat().st_size, None, stack
    except BaseException:
        stack.close()
        raise


def _text(binary: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def _header(reader) -> list[str]:
    try:
        return [name.strip() for name in next(reader)]
    except StopIteration:
        return []


def inspect(path: str | Path) -> StockFile:
    """Recognise the file by its header line; refuse it, naming what is
    wrong, when it cannot be loaded."""
    path = Path(path)
    if not path.is_file():
        raise SireneFileError(f"{path}: no such file.")
    try:
        binary, size, member, stack = _open_binary(path)
        with stack:
            header = _header(csv.reader(stack.enter_context(_text(binary))))
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, csv.Error) as error:
        raise SireneFileError(f"{path}: unreadable ({error}).") from error
    kind = kind_of(header)
    if kind is None:
        raise SireneFileError(
            f"{path}: not an INSEE stock file (StockUniteLegale or StockEtablissement): "
            "its header has neither a siret nor a siren column."
        )
    for name in kind.insee_columns:
        if name not in header:
            raise SireneFileError(f"{path}: the column {name} is missing from this {kind.label} file.")
    return StockFile(path=path, kind=kind, size=size, member=member)


@contextlib.contextmanager
def rows(stock: StockFile) -> Iterator[tuple[Iterator[tuple[str, ...]], callable]]:
    """(rows, position): the rows as (key, record) pairs (see
    ``sirene.schema``), and a function giving how many bytes of csv were read
    so far. Built from C-level iterators only: no Python code runs per row."""
    binary, _size, _member, stack = _open_binary(stock.path)
    with stack:
        reader = csv.reader(stack.enter_context(_text(binary)))
        header = _header(reader)
        names = stock.kind.insee_columns
        key = itemgetter(header.index(names[0]))
        rest = itemgetter(*(header.index(name) for name in names[1:]))
        keys, others = tee(reader)
        yield zip(map(key, keys), map(SEPARATOR.join, map(rest, others)), strict=True), binary.tell
