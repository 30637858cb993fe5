"""Open an INSEE stock file, ``.csv`` or the ``.zip`` INSEE publishes, as a
stream of rows holding only the columns kept, picked by name.

Nothing is read into memory beyond the csv module's buffers: a national file
of several gigabytes streams like a small one.

A file is data from outside: control characters never reach a stored record
(``Cleaned``; the record's own separator among them, which would shift the
fields after it), a zip member is opened only when its sizes are those of a
csv (not a zip bomb's), and a line that is not UTF-8 is refused by its number.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import tee
from operator import itemgetter
from pathlib import Path
from typing import IO

from sirene.schema import SEPARATOR, Kind, kind_of

# INSEE's lines are about a kilobyte; a runaway field or line is refused, not buffered.
MAX_LINE = 1 << 20
csv.field_size_limit(min(sys.maxsize, MAX_LINE))


class SireneFileError(Exception):
    """A file that is not an INSEE stock file the portal can load."""


class LineTooLong(csv.Error):
    """A line of more than MAX_LINE bytes, refused before it is read whole
    (the text layer would buffer a line of gigabytes for the csv module)."""


# What a malformed line raises while rows stream: a short line (IndexError),
# a broken quote or an overlong field (csv.Error), bytes that are not UTF-8.
ROW_ERRORS = (IndexError, csv.Error, UnicodeDecodeError)

# What a damaged file raises while it streams: a zip member whose data fail
# their CRC or cannot be inflated, or that ends early; a read error.
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)

ZIP_SIGNATURE = b"PK\x03\x04"

# A csv deflates about 5 to 10 times; deflate's most is about 1 000 (a zip bomb's).
MAX_ZIP_RATIO = 100
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # INSEE's; bzip2 and lzma inflate far more

# Control characters in UTF-8 bytes: C0 (the line breaks kept for the csv
# module, a tab made a space) and DEL are single bytes, deleted by one
# bytes.translate; C1 and the invisible format characters (bidi overrides,
# line and paragraph separators, zero-width ones) are multi-byte, deleted by
# a pattern on the rare chunks that hold one of their lead bytes.
_C0 = bytes(range(0x20)).replace(b"\t", b"").replace(b"\n", b"").replace(b"\r", b"") + b"\x7f"
_TAB_TO_SPACE = bytes.maketrans(b"\t", b" ")
# Each pattern starts with its lead byte (found by memchr) and runs only on
# the chunks that hold it: French text's é (\xc3) never wakes one.
_WIDE = (
    (b"\xc2", re.compile(rb"\xc2[\x80-\x9f]")),  # C1: U+0080-U+009F
    # U+200B-U+200F, U+2028-U+202E, U+2060-U+2064, U+2066-U+2069
    (b"\xe2", re.compile(rb"\xe2(?:\x80[\x8b-\x8f\xa8-\xae]|\x81[\xa0-\xa4\xa6-\xa9])")),
    (b"\xef", re.compile(rb"\xef\xbb\xbf")),  # U+FEFF (a byte order mark after the first)
)
BOM = b"\xef\xbb\xbf"
CHUNK = 1 << 16


# Bytes of UTF-8's multi-byte characters, never of an ASCII one.
_NOT_ASCII = bytes(range(0x80, 0x100))


class Cleaned(io.BufferedIOBase):
    """The csv's bytes without their control characters, chunk by chunk
    (no Python code runs per row); ``removed`` counts those deleted (a tab,
    made a space, is not counted). Line breaks stay: they end rows; those
    inside a quoted field are the loader's (``sirene.load``)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.removed, self.pending = raw, 0, b""
        self.run = 0  # bytes since the last line break
        self.started = False  # the file's own byte order mark is no control character

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        while True:  # b"" is the end: a chunk of control characters only is not
            data = self.raw.read(CHUNK)  # whatever the text layer asks (8 KiB): fewer, larger chunks
            chunk, self.pending = self.pending + data, b""
            if not chunk:
                return b""
            if not self.started:
                self.started = True
                chunk = chunk.removeprefix(BOM)
            cleaned = chunk.translate(_TAB_TO_SPACE, _C0)
            self.removed += len(chunk) - len(cleaned)
            cleaned = self._without_wide(cleaned)
            if data:
                # The chunk's last run of multi-byte characters waits for the
                # rest: a character cut at the chunk's end, or bytes that a
                # deletion in the next chunk could join into one, are then
                # cleaned whole. An ASCII byte ends any character.
                kept = cleaned.rstrip(_NOT_ASCII)
                if len(cleaned) - len(kept) > MAX_LINE:
                    raise LineTooLong(f"a line of more than {MAX_LINE} bytes")
                cleaned, self.pending = kept, cleaned[len(kept) :]
            if cleaned:
                self._measure(cleaned)
                return cleaned

    def _without_wide(self, cleaned: bytes) -> bytes:
        """Until none is left: a deletion may join bytes around it into
        another such character (a bidi override nested in a bidi override)."""
        found = True
        while found:
            found = False
            for lead, pattern in _WIDE:
                if lead in cleaned:
                    cleaned, count = pattern.subn(b"", cleaned)
                    self.removed += count
                    found = found or bool(count)
        return cleaned

    def _measure(self, cleaned: bytes) -> None:
        """Refuse a line longer than MAX_LINE: only one that began in an
        earlier chunk can be (a chunk is far shorter)."""
        first = cleaned.find(b"\n")
        if self.run + (len(cleaned) if first < 0 else first) > MAX_LINE:
            raise LineTooLong(f"a line of more than {MAX_LINE} bytes")
        self.run = self.run + len(cleaned) if first < 0 else len(cleaned) - cleaned.rfind(b"\n") - 1

    read = read1


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
            _check_member(path, info)
            return stack.enter_context(archive.open(info)), info.file_size, info.filename, stack
        handle = stack.enter_context(path.open("rb"))
        if handle.read(len(ZIP_SIGNATURE)) == ZIP_SIGNATURE:
            raise SireneFileError(f"{path}: a damaged or truncated zip archive.")
        handle.seek(0)
        return handle, path.stat().st_size, None, stack
    except BaseException:
        stack.close()
        raise


def _check_member(path: Path, info: zipfile.ZipInfo) -> None:
    """A member is inflated only when it is what INSEE publishes: deflated
    or stored, and declaring no more csv than a csv deflates to. Its declared
    size bounds what is read: zipfile reads no further, and a member that
    inflates to more fails its CRC."""
    if info.compress_type not in ZIP_METHODS:
        raise SireneFileError(
            f"{path}: {info.filename} is compressed with method {info.compress_type}; "
            "INSEE's archives are deflated."
        )
    if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        raise SireneFileError(
            f"{path}: {info.filename} declares {info.file_size} bytes from {info.compress_size} compressed, "
            f"more than {MAX_ZIP_RATIO} times: not a csv, maybe a zip bomb; nothing is inflated."
        )


def _text(binary: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def not_utf8(error: UnicodeDecodeError, line: int) -> str:
    """Which line a byte that is not UTF-8 is on (``line``: the csv's last
    line read before the chunk that holds it)."""
    at = line + 1 + error.object.count(b"\n", 0, error.start)
    byte = error.object[error.start : error.start + 1].hex().upper()
    return (
        f"line {at} is not UTF-8 (byte 0x{byte}): INSEE's _utf8 files are expected; "
        "a file in another encoding (Latin-1) is to be converted first"
    )


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
            header = _header(csv.reader(stack.enter_context(_text(Cleaned(binary)))))
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


@dataclass
class Rows:
    """What ``rows`` gives: ``stream`` of (key, record) pairs (see
    ``sirene.schema``); ``position()``, bytes of csv read so far; ``line()``,
    the csv's line being read (for messages); what was taken out of the
    fields (``removed``, ``line_breaks``)."""

    stream: Iterator[tuple[str, str]]
    position: Callable[[], int]
    line: Callable[[], int]
    cleaned: Cleaned = field(repr=False)

    @property
    def removed(self) -> int:
        """Control characters deleted from the fields (a tab: made a space)."""
        return self.cleaned.removed

    def line_breaks(self, count: int) -> int:
        """Line breaks inside the ``count`` rows' quoted fields, and blank
        lines: the lines read beyond the header and one per row."""
        return max(self.line() - 1 - count, 0)


@contextlib.contextmanager
def rows(stock: StockFile) -> Iterator[Rows]:
    """The file's rows (see ``Rows``). Built from C-level iterators only: no
    Python code runs per row. A blank line is skipped; a row shorter than
    the header is refused (IndexError). A line break inside a quoted field
    stays in its record: the loader replaces them once loaded, when
    ``line_breaks`` says there are any (never, in INSEE's files)."""
    binary, _size, _member, stack = _open_binary(stock.path)
    with stack:
        cleaned = Cleaned(binary)
        reader = csv.reader(stack.enter_context(_text(cleaned)))
        header = _header(reader)
        names = stock.kind.insee_columns
        key = itemgetter(header.index(names[0]))
        # The header's last column is taken too (packed last, never unpacked):
        # a row that lacks it is short, its fields not where the header says.
        rest = itemgetter(*(header.index(name) for name in names[1:]), len(header) - 1)
        keys, others = tee(filter(None, reader))
        yield Rows(
            stream=zip(map(key, keys), map(SEPARATOR.join, map(rest, others)), strict=True),
            position=binary.tell,
            line=lambda: reader.line_num,
            cleaned=cleaned,
        )
