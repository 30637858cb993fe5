"""The English catalogue is complete and current: every text ``pybabel
extract`` finds (the same command as ``make translations``) is translated,
nothing translated is stale, the compiled catalogue is what the app loads,
and no template holds French outside a translation call."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
IGNORED_DIRS = ".venv node_modules tests bench migrations scripts"


def extracted(tmp_path) -> dict:
    pot = tmp_path / "messages.pot"
    keywords = ["-k", "_l", "-k", "lazy_gettext"]
    command = [Path(sys.executable).with_name("pybabel"), "extract", "-F", "babel.cfg", *keywords, "-o", pot]
    arguments = [*command, f"--ignore-dirs={IGNORED_DIRS}", "."]
    subprocess.run(arguments, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    with pot.open("rb") as handle:
        return {message.id: message for message in read_po(handle) if message.id}


def catalogue():
    with PO.open("rb") as handle:
        return read_po(handle)


def test_every_text_found_in_the_code_is_translated(tmp_path):
    found = extracted(tmp_path)
    translations = {message.id: message for message in catalogue() if message.id}
    missing = sorted(str(key) for key in found if key not in translations)
    assert not missing, f"`make translations`, then translate: {missing[:20]}"
    untranslated = sorted(
        str(message.id)
        for message in translations.values()
        if message.fuzzy or not (all(message.string) if isinstance(message.string, tuple) else message.string)
    )
    assert not untranslated, f"untranslated or fuzzy in {PO.name}: {untranslated[:20]}"
    stale = sorted(str(key) for key in translations if key not in found)
    assert not stale, f"no longer in the code (`make translations` drops them): {stale[:20]}"


def test_placeholders_are_kept_by_every_translation():
    placeholder = re.compile(r"%\((\w+)\)[sd]")
    wrong = []
    for message in catalogue():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(placeholder.findall(ids[-1] if ids else ""))
        wrong += [message.id for string in strings if string and set(placeholder.findall(string)) != expected]
    assert not wrong


def test_english_follows_english_typography_and_one_spelling():
    """No French habits left in English: a space before « : ; ? ! », « »
    quotes; and « email », never « e-mail », as every other English text says."""
    french_habit = re.compile(r"\w [:;?!](\s|$)|[«»]|\b[Ee]-mail")
    wrong = []
    for message in catalogue():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wrong += [string for string in strings if string and french_habit.search(string)]
    assert not wrong


def _hashable(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_the_compiled_catalogue_is_the_one_translated():
    """``make install`` compiles it; the app reads the .mo, not the .po."""
    with MO.open("rb") as handle:
        compiled = {_hashable(m.id): _hashable(m.string) for m in read_mo(handle) if m.id}
    translated = {_hashable(m.id): _hashable(m.string) for m in catalogue() if m.id and m.string}
    assert compiled == translated


# -- templates ------------------------------------------------------------------------------

JINJA = re.compile(r"{%-?\s*trans\b.*?endtrans\s*-?%}|{{.*?}}|{%.*?%}|{#.*?#}", re.S)
TAG = re.compile(r"<[^>]*>", re.S)
READ_ATTRIBUTE = re.compile(r'\b(?:aria-label|alt|title|placeholder)="([^"{]*)"')
FRENCH = re.compile(
    r"[éèêàçùûôîœÉÈÊÀÇ]|\b(?:le|la|les|des|du|une|et|est|vous|votre|vos|pour|avec|dans|sur|pas|ce|cette|ou)\b",
    re.I,
)


def test_no_template_says_french_outside_a_translation_call():
    """Text between tags (and read attributes) that does not go through
    ``_()`` or ``{% trans %}`` would stay French on English pages."""
    found = []
    for template in sorted((ROOT / "templates").rglob("*")):
        if template.suffix not in (".html", ".txt"):
            continue
        source = template.read_text(encoding="utf-8")
        attributes = READ_ATTRIBUTE.findall(JINJA.sub(" ", source))
        text = TAG.sub(" ", JINJA.sub(" ", source))
        for chunk in [*attributes, *text.splitlines()]:
            chunk = " ".join(chunk.split())
            if chunk and FRENCH.search(chunk):
                found.append(f"{template.relative_to(ROOT)}: {chunk}")
    assert not found, "\n".join(found)
