r"""Text typed in any field: what may be stored and shown to others.

Invisible and control characters (Unicode categories Cc, Cf, Co, Cn: bidi
overrides such as U+202E, zero-width spaces and joiners, private-use and
unassigned code points, fillers that draw nothing) are refused, so that
« Facture\u202eFDP.exe » cannot be shown as « Factureexe.PDF ». Piles of
combining marks are limited; what is kept is NFC-normalised. Names also
refuse letters of look-alike scripts mixed together (a Cyrillic « Ј » in
« Јеаn »), after Unicode's UTS #39 "highly restrictive" level.
"""

from __future__ import annotations

import unicodedata

from rules import RuleError
from rules.i18n import _

# Combining marks in a row after one letter: Vietnamese or Thai need two at
# most once NFC has composed what it can; "Zalgo" text piles up dozens.
MAX_COMBINING_MARKS = 3


def text_invisible(code: str):
    """The message for an invisible or control character (« U+202E »)."""
    return _(
        "Ce champ contient un caractère invisible, de contrôle ou qui inverse le sens du texte (%(code)s). "
        "Retirez-le, par exemple en saisissant à nouveau le texte au clavier.",
        code=code,
    )


TEXT_MARKS = _(
    "Ce champ contient trop de signes diacritiques sur une même lettre (au plus %(count)s).",
    count=MAX_COMBINING_MARKS,
)
TEXT_MARK_ALONE = _(
    "Ce champ contient un signe diacritique seul, sans lettre avant lui. "
    "Retirez-le, ou saisissez la lettre accentuée entière."
)
_MARKS = frozenset({"Mn", "Mc", "Me"})


def name_mixed_scripts(scripts):
    """The message for a name mixing scripts; ``scripts`` their names."""
    return _(
        "Ce nom mélange des lettres d'alphabets différents (%(scripts)s) qui peuvent se ressembler. "
        "Saisissez-le dans un seul alphabet.",
        scripts=scripts,
    )


_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs"})
# Default-ignorable code points outside those categories: they draw nothing.
_INVISIBLE = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5"
    "\u180b\u180c\u180d\u180f\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07"
    "\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f"
)
# Ordinary white space: the fields collapse it, it is never refused.
_WHITE_SPACE = frozenset("\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85")


def refused(ch: str) -> bool:
    """A character ``check_text`` refuses: invisible, or a control other than white space."""
    if ch in _WHITE_SPACE:
        return False
    return ch in _INVISIBLE or unicodedata.category(ch) in _REFUSED_CATEGORIES


# Characters that are neither refused nor marks: a text made of them only
# (what nearly everybody types in French or English) needs no look at each
# character. Latin letters with their accents, digits, punctuation, symbols.
_PLAIN = frozenset(
    ch
    for ch in map(chr, range(0x20, 0x250))
    if unicodedata.category(ch) not in _REFUSED_CATEGORIES | _MARKS and ch not in _INVISIBLE
)


def check_text(value: str) -> str:
    """The text NFC-normalised; RuleError if it holds an invisible or control
    character, a combining mark on no letter (first, or after a space: it
    draws on nothing, and a name of marks alone looks empty), or more than
    MAX_COMBINING_MARKS combining marks in a row."""
    text = unicodedata.normalize("NFC", value if isinstance(value, str) else "")
    if _PLAIN.issuperset(text):
        return text
    marks = 0
    previous = " "
    for ch in text:
        if refused(ch):
            raise RuleError(text_invisible(f"U+{ord(ch):04X}"))
        if unicodedata.category(ch) in _MARKS:
            if previous.isspace():
                raise RuleError(TEXT_MARK_ALONE)
            marks += 1
        else:
            marks = 0
        if marks > MAX_COMBINING_MARKS:
            raise RuleError(TEXT_MARKS)
        previous = ch
    return text


# Scripts by the first word of a character's Unicode name (the standard
# library has no Script property). Words not listed are a script of their own.
_SCRIPT_OF_WORD = {"CJK": "Han", "KANGXI": "Han", "IDEOGRAPHIC": "Han"}
_SCRIPT_NAMES = {
    "LATIN": _("latin"),
    "CYRILLIC": _("cyrillique"),
    "GREEK": _("grec"),
    "ARMENIAN": _("arménien"),
    "HEBREW": _("hébreu"),
    "ARABIC": _("arabe"),
    "Han": _("idéogrammes"),
    "HIRAGANA": _("hiragana"),
    "KATAKANA": _("katakana"),
    "HANGUL": _("hangeul"),
    "BOPOMOFO": _("bopomofo"),
}


class ScriptNames:
    """Names of scripts, in the language of the moment, in its alphabetical order."""

    __slots__ = ("scripts",)

    def __init__(self, scripts: set[str]):
        self.scripts = frozenset(scripts)

    def __str__(self) -> str:
        names = (str(_SCRIPT_NAMES.get(script, script.lower())) for script in self.scripts)
        return ", ".join(sorted(names))


# Scripts that are written together (UTS #39, "highly restrictive").
_WRITTEN_TOGETHER = (
    frozenset({"LATIN", "Han", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "Han", "BOPOMOFO"}),
    frozenset({"LATIN", "Han", "HANGUL"}),
)
_NAME_PREFIXES = ("FULLWIDTH", "HALFWIDTH", "SMALL", "MATHEMATICAL")


def script_of(ch: str) -> str | None:
    """The script of a letter, or None for a character of no script."""
    if not ch.isalpha():
        return None
    words = unicodedata.name(ch, "").split()
    while words and words[0] in _NAME_PREFIXES:
        words = words[1:]
    if not words or words[0] == "MODIFIER":
        return None
    return _SCRIPT_OF_WORD.get(words[0], words[0])


def check_single_script(text: str) -> str:
    """RuleError if the letters of ``text`` come from scripts that are not
    written together (Latin with Cyrillic or Greek…)."""
    scripts = {script for script in map(script_of, text) if script}
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _WRITTEN_TOGETHER):
        raise RuleError(name_mixed_scripts(ScriptNames(scripts)))
    return text


# -- text printed for others: a structure's names and postal address ---------------------
# It goes on invoices and to other organisations' systems: letters, digits,
# spaces, punctuation (& ' ’ - . , / ( ) « » " : ; # @ …) and the currency
# signs, but no markup's chevrons, no emoji or pictograph. Symbols (Sm, Sk,
# So) are those of a keyboard (Latin-1: + = | ~ ^ ° © ® ± × ÷…), ™ and №;
# the others, emoji (So) and their skin tones (Sk), arrows and geometric
# shapes are refused, and so are enclosing marks (Me: keycaps, circles
# drawn around a letter) and the enclosed and dingbat numbers and brackets
# (① ❶ ⒈ ❨), whatever their category. Control characters are check_text's.
_SYMBOLS = frozenset({"Sm", "Sk", "So"})
_KEYBOARD_SYMBOLS = frozenset(
    ch for ch in map(chr, range(0x100)) if unicodedata.category(ch) in _SYMBOLS and ch not in "<>"
) | {"™", "№"}
# Emoji whose category is punctuation or a letter: ‼ ⁉ 〰 〽 ℹ.
_PICTOGRAPHS = frozenset("\u203c\u2049\u3030\u303d\u2139")
# Enclosed alphanumerics, dingbats, enclosed CJK, their supplements.
_PICTOGRAPH_BLOCKS = ((0x2460, 0x24FF), (0x2700, 0x27BF), (0x3200, 0x32FF), (0x1F100, 0x1F2FF))

PRINTED_TEXT_ALLOWED = _(
    "Ce champ n'accepte ni les chevrons (< et >), ni les émojis et pictogrammes : "
    "utilisez des lettres, des chiffres, des espaces et la ponctuation courante."
)


def refused_in_print(ch: str) -> bool:
    """A character ``check_printed_text`` refuses besides check_text's."""
    if ch in "<>" or ch in _PICTOGRAPHS:
        return True
    category = unicodedata.category(ch)
    if category in _SYMBOLS:
        return ch not in _KEYBOARD_SYMBOLS
    if category == "Me":
        return True
    code = ord(ch)
    return code >= 0x2460 and any(start <= code <= end for start, end in _PICTOGRAPH_BLOCKS)


def first_refused_in_print(value: str) -> str | None:
    """The first character of ``value`` that ``refused_in_print``, if any."""
    return next((ch for ch in value if refused_in_print(ch)), None)


def printed_text_refused(ch: str):
    """The message for a character ``refused_in_print`` (« 🍕 »); a mark,
    which would draw on the quotes around it, by its code point."""
    shown = f"U+{ord(ch):04X}" if unicodedata.category(ch).startswith("M") else ch
    return _("Le caractère « %(ch)s » n'est pas accepté. %(allowed)s", ch=shown, allowed=PRINTED_TEXT_ALLOWED)


def check_printed_text(value: str) -> str:
    """A structure's name or address line (text others read and print),
    NFC-normalised; RuleError for markup's chevrons, an emoji or a pictograph
    (``refused_in_print``), then for what check_text refuses. The emoji is
    named first: its sequence often holds an invisible selector or joiner
    (a heart and U+FE0F, a family joined by U+200D), which alone would be
    reported as an invisible character."""
    refused = first_refused_in_print(value) if isinstance(value, str) else None
    if refused is not None:
        raise RuleError(printed_text_refused(refused))
    text = check_text(value)
    # NFC composes what was typed apart: « = » and U+0338 make « ≠ ».
    refused = first_refused_in_print(text)
    if refused is not None:
        raise RuleError(printed_text_refused(refused))
    return text
