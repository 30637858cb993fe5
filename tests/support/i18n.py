"""Pages in English: switching language as a person does, and finding any
French left on a page that should be all English."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

from tests.support.app import Client

CATALOGUE = Path(__file__).resolve().parents[2] / "translations" / "en" / "LC_MESSAGES" / "messages.po"

# Words that are French and not English: one of them in an English page's
# text is a string left untranslated.
FRENCH_WORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "des",
        "du",
        "une",
        "et",
        "est",
        "sont",
        "vous",
        "votre",
        "vos",
        "nous",
        "notre",
        "nos",
        "pour",
        "avec",
        "dans",
        "sur",
        "par",
        "pas",
        "ce",
        "cette",
        "ces",
        "aux",
        "qui",
        "que",
        "être",
        "avez",
        "êtes",
        "ma",
        "mes",
        "sa",
        "ses",
        "leur",
        "leurs",
        "été",
        "ou",
        "où",
        "déjà",
        "aussi",
        "puis",
        "lors",
        "si",
        "ni",
        "donc",
        "mais",
        "chez",
        "sous",
        "entre",
        "vers",
        "après",
        "avant",
        "depuis",
        "pendant",
        "compte",
        "adresse",
        "courriel",
        "mot",
        "passe",
        "saisissez",
        "retour",
        "accueil",
        "connexion",
        "créer",
        "valider",
        "suivant",
        "étape",
        "erreur",
        "obligatoire",
        "champ",
    ]
)
ACCENTED = re.compile(r"[éèêëàâçùûüôîïœÉÈÊÀÇÔ]")
# Words, apostrophes included; a token with digits (a code, an identifier) is no word.
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
READ_ATTRIBUTES = ("aria-label", "alt", "title", "placeholder")


def speak(client: Client, language: str = "en", page: str = "/"):
    """Choose the language with the header's switch, as a person does."""
    return client.submit("/langue", {"lang": language, "next": page})


class _VisibleText(HTMLParser):
    """What a person reads or hears: text, and the attributes read aloud;
    not scripts, styles, nor what is marked as another language."""

    SKIPPED = ("script", "style", "template")
    VOID = frozenset(
        ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
    )

    def __init__(self, language: str):
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.parts: list[str] = []

    def _skipping(self) -> bool:
        return any(skipped for _, skipped in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = (attrs.get("lang") or "").split("-")[0]
        skipped = tag in self.SKIPPED or (tag != "html" and bool(lang) and lang != self.language)
        if not (skipped or self._skipping()):
            self.parts.extend(attrs[name] for name in READ_ATTRIBUTES if attrs.get(name))
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.parts.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not self._skipping():
            self.parts.append(data)


def visible_text(html: str, language: str = "en") -> str:
    parser = _VisibleText(language)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@cache
def _translated_ids() -> tuple[str, ...]:
    """French message ids the catalogue translates, long enough to be
    recognised, without placeholders."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    ids = []
    for message in catalogue:
        translated = isinstance(message.id, str) and message.string and message.string != message.id
        if translated and len(message.id) >= 12 and "%(" not in message.id and "<" not in message.id:
            ids.append(" ".join(message.id.split()))
    return tuple(ids)


def french_in(html: str, data: tuple[str, ...] = ()) -> list[str]:
    """French found on a page meant to be English: catalogue texts left
    untranslated, French words, accented words. ``data`` are values typed
    by people (names, addresses), removed first: they are not the portal's."""
    text = visible_text(html)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    found = [message for message in _translated_ids() if message in text]
    for word in WORD.findall(text):
        if any(ch.isdigit() for ch in word):
            continue
        if word.lower() in FRENCH_WORDS or ACCENTED.search(word):
            found.append(word)
    return found


def assert_english(html: str, data: tuple[str, ...] = ()) -> None:
    found = french_in(html, data)
    assert not found, f"French on an English page: {sorted(set(found))}\n\n{visible_text(html)}"
