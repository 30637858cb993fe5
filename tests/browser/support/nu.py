"""The W3C Nu HTML checker over every page the browser tests check.

``check_axe`` saves each page's DOM (JavaScript on and off, error states
included) into the worker's archive; at the end of the session the archive
is validated in ONE Java call (``tests.support.vnu``), and every error is
reported with the page and state it came from."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

from tests.support.vnu import nu_messages


class DomArchive:
    """The DOM of each checked page, one file each, with where it came from."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.origins: dict[str, str] = {}
        folder.mkdir(parents=True, exist_ok=True)

    def save(self, page: Page, state: str = "") -> None:
        number = len(self.origins) + 1
        slug = re.sub(r"[^a-z0-9]+", "-", f"{page.url} {state}".lower()).strip("-")[-80:]
        path = self.folder / f"{number:04d}-{slug}.html"
        path.write_text(page.content(), encoding="utf-8")
        self.origins[path.name] = f"{page.url} {state}".rstrip()

    def validate(self) -> list[str]:
        """The Nu checker's errors, one line each: page, line, message."""
        if not self.origins:
            return []
        files = [str(self.folder / name) for name in sorted(self.origins)]
        errors = []
        for message in nu_messages(files):
            if message["type"] == "info":
                continue  # warnings: allowed (see docs/rgaa)
            name = Path(message.get("url", "")).name
            where = self.origins.get(name, name)
            extract = (message.get("extract") or "").replace("\n", " ")[:160]
            errors.append(
                f"{where} (line {message.get('lastLine', '?')}): {message['message']}  «{extract}»  [{name}]"
            )
        return errors


ARCHIVE: list[DomArchive] = []  # the worker's archive, set by the session fixture


def save_dom(page: Page, state: str = "") -> None:
    if ARCHIVE:
        ARCHIVE[0].save(page, state)
