"""``flask --app app sirene import PATH…`` and ``flask --app app sirene status``."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import AppGroup

from cli_support import needs_schema
from models import db
from sirene import load, lookup
from sirene.reader import SireneFileError, StockFile
from sirene.schema import KINDS

sirene = AppGroup("sirene", help="INSEE's SIRENE directory: import the stock files, see what is loaded.")

PLAIN_EVERY_SECONDS = 10.0


def _name(stock: StockFile) -> str:
    return stock.path.name + (f" ({stock.member})" if stock.member else "")


class BarProgress(load.Progress):
    """click's progress bar, on a terminal: bytes read drive the bar and the
    time left; rows and rows/s are shown beside it."""

    def start(self, stock: StockFile) -> None:
        self.clock, self.rows, self.position = time.monotonic(), 0, 0
        self.bar = click.progressbar(
            length=max(stock.size, 1),
            label=f"{_name(stock)}: {stock.kind.label}",
            item_show_func=self._show,
            show_eta=True,
            show_percent=True,
            file=sys.stderr,
        )
        self.bar.__enter__()

    def _show(self, _item) -> str:
        elapsed = max(time.monotonic() - self.clock, 1e-9)
        return f"{self.rows:,} rows, {self.rows / elapsed:,.0f} rows/s".replace(",", " ")

    def advance(self, rows: int, position: int) -> None:
        self.rows = rows
        self.bar.update(max(position - self.position, 0), rows)
        self.position = max(position, self.position)

    def done(self, result: load.Result) -> None:
        self.bar.update(max(self.bar.length - self.position, 0))
        self.bar.__exit__(None, None, None)


class PlainProgress(load.Progress):
    """Off a terminal (a log, cron): a plain line now and then."""

    def start(self, stock: StockFile) -> None:
        self.stock, self.clock, self.last = stock, time.monotonic(), time.monotonic()
        size = f"{stock.size:,}".replace(",", " ")
        click.echo(f"{_name(self.stock)}: loading {stock.kind.label}, {size} bytes of csv")

    def advance(self, rows: int, position: int) -> None:
        now = time.monotonic()
        if now - self.last < PLAIN_EVERY_SECONDS:
            return
        self.last = now
        percent = 100 * position / self.stock.size if self.stock.size else 0
        rate = rows / max(now - self.clock, 1e-9)
        click.echo(f"{_name(self.stock)}: {rows} rows, {percent:.0f} %, {rate:.0f} rows/s")


def _taken_out(result: load.Result) -> str:
    """What the load took out of the file's fields, said on its line."""
    parts = []
    if result.removed:
        parts.append(f"{result.removed} control characters removed from fields")
    if result.line_breaks:
        parts.append(f"{result.line_breaks} line breaks inside fields made spaces or blank lines skipped")
    return f"; {', '.join(parts)}" if parts else ""


@sirene.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@needs_schema
def import_command(paths: tuple[str, ...]) -> None:
    """Load INSEE stock files (StockEtablissement_utf8, StockUniteLegale_utf8;
    .csv or .zip, recognised by their header). The directory switches to each
    file's data at once when it is loaded; until then the previous data stay."""
    progress = BarProgress() if sys.stderr.isatty() else PlainProgress()
    clock = time.monotonic()
    try:
        with db.connection_context():
            results = load.import_files(paths, progress)
    except SireneFileError as error:
        raise click.ClickException(str(error)) from error
    for result in results:
        click.echo(
            f"{_name(result.stock)}: {result.rows} {result.stock.kind.label} loaded "
            f"in {result.seconds:.1f} s ({result.rate:.0f} rows/s; "
            f"{result.rows / max(result.cpu_seconds, 1e-9):.0f} rows per CPU second){_taken_out(result)}."
        )
    click.echo(f"Done in {time.monotonic() - clock:.1f} s.")


@sirene.command("status")
@needs_schema
def status_command() -> None:
    """Say what is loaded, from which files, when."""
    with db.connection_context():
        for kind in KINDS:
            entry = lookup.last_load(kind.name)
            if entry is None:
                click.echo(f"{kind.label}: none loaded.")
                continue
            member = entry.files.get("member")
            source = entry.files.get("file", "?") + (f" ({member})" if member else "")
            click.echo(
                f"{kind.label}: {entry.rows} rows from {source}, loaded "
                f"{entry.finished_at:%Y-%m-%d %H:%M:%S} UTC "
                f"(in {(entry.finished_at - entry.started_at).total_seconds():.0f} s)."
            )
            leftover = load.staging_table(kind)
            if db.table_exists(leftover):
                click.echo(f"  An interrupted import left {leftover}; the next import removes it.")
