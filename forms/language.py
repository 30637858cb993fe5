"""The header's language switch."""

from __future__ import annotations

from flask import request
from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import InputRequired

import i18n
from forms import Form, typed_fields


class LanguageForm(Form):
    lang = SelectField(
        choices=[SelectChoice(code, i18n.NAMES[code]) for code in i18n.LANGUAGES],
        validators=[InputRequired()],
    )
    # The page to come back to: a path of this site (views.safe_next). A
    # switch sent from a page's form (without JavaScript) names it in its
    # address instead: the form is the page's, not the switch's.
    next = HiddenField()

    @property
    def page(self) -> str | None:
        return request.args.get("next") or self.next.data

    OWN = frozenset({"csrf_token", "lang", "next"})  # the switch's own fields

    @classmethod
    def carries_nothing(cls) -> bool:
        """A switch sent from its own form: only its own fields."""
        return set(request.form) <= cls.OWN

    def carried(self) -> dict[str, str]:
        """What the page's form held, when the switch was sent from it
        (its button is then that form's, without JavaScript)."""
        return typed_fields(request.form, self.OWN)
