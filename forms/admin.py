"""« Administration »: the operators' search and action forms."""

from __future__ import annotations

from wtforms import HiddenField, SearchField, SelectField, StringField
from wtforms.validators import Length, Optional

from forms import Form
from rules.messages import NOT_A_CHOICE


class SearchForm(Form):
    """A GET search: no CSRF token, nothing changes."""

    class Meta:
        csrf = False

    q = SearchField("Rechercher", validators=[Optional(), Length(max=200, message="200 caractères au plus.")])


class ActionForm(Form):
    """A button that changes something: the CSRF token only."""


class MailRetryForm(Form):
    mail = HiddenField()


class AuditFilterForm(Form):
    """The audit trail's filters (a GET form)."""

    class Meta:
        csrf = False

    account = StringField("Compte (adresse e-mail)", validators=[Optional(), Length(max=320)])
    structure = StringField("Structure (numéro interne)", validators=[Optional(), Length(max=20)])
    event = SelectField(
        "Événement",
        choices=[],
        invalid_choice_message=NOT_A_CHOICE,
        invalid_value_message=NOT_A_CHOICE,
        validators=[Optional()],
    )
    since = StringField("Depuis le (AAAA-MM-JJ)", validators=[Optional(), Length(max=10)])
    until = StringField("Jusqu'au (AAAA-MM-JJ, inclus)", validators=[Optional(), Length(max=10)])

    def __init__(self, *args, events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.event.choices = [("", "Tous")] + [(name, name) for name in events]
