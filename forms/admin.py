"""« Administration »: the operators' search and action forms."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SearchField, SelectField, StringField
from wtforms.validators import DataRequired, Optional, ValidationError

from forms import Form
from forms.validators import AtMost
from rights import stored_pseudonym
from rules.messages import NOT_A_CHOICE

BAD_DATE = _l("Date attendue au format AAAA-MM-JJ, par exemple 2026-03-14.")
BAD_STRUCTURE_NUMBER = _l("Numéro interne attendu (chiffres seulement).")
END_BEFORE_START = _l("Cette date précède celle de « Depuis le » : aucun événement ne peut s'y trouver.")
LARGEST_ID = 2**63 - 1  # a 64-bit database key
NO_SUCH_STRUCTURE = _l("Aucune structure ne porte ce numéro : il dépasse tous ceux du portail.")


class SearchForm(Form):
    """A GET search: no CSRF token, nothing changes."""

    class Meta:
        csrf = False

    q = SearchField(_l("Rechercher"), validators=[Optional(), AtMost(200, _l("200 caractères au plus."))])


class ActionForm(Form):
    """A button that changes something: the CSRF token only."""


class DeleteAccountForm(ActionForm):
    """« Supprimer le compte »: the box that confirms an erasure."""

    confirm = BooleanField(
        _l("Je confirme la suppression définitive de ce compte et de ses données personnelles"),
        validators=[DataRequired(_l("Cochez la case de confirmation pour supprimer le compte."))],
    )


class MailRetryForm(Form):
    mail = HiddenField()


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def _as_stored(value):
    """A deleted account's pseudonym as the page showed it (« deleted-… » in
    English), as the trail stores it."""
    return stored_pseudonym(value) if value else value


class AuditFilterForm(Form):
    """The audit trail's filters (a GET form)."""

    class Meta:
        csrf = False

    # What was pasted with spaces around it is read without them (a length
    # counts the text, not the spaces).
    account = StringField(
        _l("Compte (adresse e-mail)"),
        filters=[_stripped, _as_stored],
        validators=[Optional(), AtMost(320)],
    )
    structure = StringField(
        _l("Structure (numéro interne)"), filters=[_stripped], validators=[Optional(), AtMost(20)]
    )
    event = SelectField(
        _l("Événement"),
        choices=[],
        invalid_choice_message=NOT_A_CHOICE,
        invalid_value_message=NOT_A_CHOICE,
        validators=[Optional()],
    )
    since = StringField(
        _l("Depuis le (AAAA-MM-JJ)"), filters=[_stripped], validators=[Optional(), AtMost(10)]
    )
    until = StringField(
        _l("Jusqu'au (AAAA-MM-JJ, inclus)"), filters=[_stripped], validators=[Optional(), AtMost(10)]
    )

    def __init__(self, *args, events=(), **kwargs):
        """``events``: (code, text shown) pairs; the code is the value sent."""
        super().__init__(*args, **kwargs)
        self.event.choices = [("", _l("Tous")), *events]
        # What validate() reads from the text fields.
        self.since_day: datetime | None = None
        self.until_day: datetime | None = None
        self.structure_id: int | None = None

    @staticmethod
    def _day(field) -> datetime:
        try:
            day = datetime.strptime(field.data, "%Y-%m-%d")
        except ValueError:
            raise ValidationError(BAD_DATE) from None
        if day.year >= 9999:  # the day after must still be a date
            raise ValidationError(BAD_DATE)
        return day

    def validate(self, extra_validators=None) -> bool:
        """The fields, then the period they make: one that ends before it
        starts would list nothing, as if nothing had happened."""
        valid = super().validate(extra_validators)
        if valid and self.since_day and self.until_day and self.until_day < self.since_day:
            self.until.errors = [*self.until.errors, str(END_BEFORE_START)]
            return False
        return valid

    def validate_since(self, field) -> None:
        self.since_day = self._day(field)

    def validate_until(self, field) -> None:
        self.until_day = self._day(field)

    def validate_structure(self, field) -> None:
        text = field.data  # stripped by the field's filter
        if not (text.isascii() and text.isdigit()):
            raise ValidationError(BAD_STRUCTURE_NUMBER)
        if int(text) > LARGEST_ID:  # digits, but more than any number the database gives
            raise ValidationError(NO_SUCH_STRUCTURE)
        self.structure_id = int(text)
