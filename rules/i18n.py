"""Translation of the rules' messages without knowing Flask.

The rules write their messages in French, marked with ``_`` (what
``pybabel extract`` looks for). ``_`` returns a ``LazyText``: the text is
looked up when it is shown, in the language of the page being rendered, so
module-level messages work too. The application installs the lookup and the
current language (``i18n.init_app``); without it (a script, a unit test)
messages stay French.

A ``LazyText`` has no ``__html__``: a template escapes it like any string,
even when a parameter came from the person's input.
"""

from __future__ import annotations

from collections.abc import Callable

DEFAULT_LANGUAGE = "fr"

_lookup: Callable[[str], str] = lambda message: message  # noqa: E731
_language: Callable[[], str] = lambda: DEFAULT_LANGUAGE  # noqa: E731


def install(lookup: Callable[[str], str], language: Callable[[], str]) -> None:
    """How to translate a message and which language is in use (the app's)."""
    global _lookup, _language
    _lookup, _language = lookup, language


def language() -> str:
    """The language messages are shown in now (« fr », « en »)."""
    return _language()


class LazyText:
    """A message translated when it is turned into a string."""

    __slots__ = ("message", "params")

    def __init__(self, message: str, params: dict):
        self.message = message
        self.params = params

    def __str__(self) -> str:
        text = _lookup(self.message)
        return text % self.params if self.params else text

    def __repr__(self) -> str:
        return f"_({self.message!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == (str(other) if isinstance(other, LazyText) else other)

    def __hash__(self) -> int:
        return hash(self.message)

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __len__(self) -> int:
        return len(str(self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __mod__(self, values: object) -> str:
        """WTForms formats a message as it formats its own (``Length`` does
        ``message % values``): the text of the moment has none of its
        placeholders left, so it comes out whole."""
        return str(self) % values


def _(message: str, **params: object) -> LazyText:
    """A French message, shown translated; ``%(name)s`` placeholders take ``params``."""
    return LazyText(message, params)
