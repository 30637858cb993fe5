"""The header's language switch."""

from __future__ import annotations

from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import InputRequired

import i18n
from forms import Form


class LanguageForm(Form):
    lang = SelectField(
        choices=[SelectChoice(code, i18n.NAMES[code]) for code in i18n.LANGUAGES],
        validators=[InputRequired()],
    )
    # The page to come back to: a path of this site (views.safe_next).
    next = HiddenField()
