"""Translation of the rules' messages without knowing Flask.

The rules write their messages in French, marked with ``_`` (what
``pybabel extract`` looks for). ``_`` returns a ``LazyText`` (Babel's
``LazyProxy``, uncached): the text is looked up each time it is shown, in
the language of the page being rendered, so module-level messages work
too. The application installs the lookup and the current language
(``i18n.init_app``); without it (a script, a unit test) messages stay French.

A ``LazyText`` has no ``__html__``: a template escapes it like any string,
even when a parameter came from the person's input.
"""

from __future__ import annotations

from collections.abc import Callable

from babel.support import LazyProxy

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


class LazyText(LazyProxy):
    """Babel's lazy proxy, hashable by its French message (frozen
    dataclasses, such as the identifier types, hold these texts)."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self._args[0])


def _shown(message: str, params: dict) -> str:
    text = _lookup(message)
    return text % params if params else text


def _(message: str, **params: object) -> LazyText:
    """A French message, shown translated; ``%(name)s`` placeholders take ``params``."""
    return LazyText(_shown, message, params, enable_cache=False)
