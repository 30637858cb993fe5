"""Edits of stored details that know what they showed: a form that carries
the details as it showed them (``seen``) writes nothing over a change made
meanwhile (a second tab, an operator's correction) unseen. Per field: changed
here only, it is written; changed meanwhile only (left here as shown), the
stored value is taken and named under the field; changed on both sides to
different values, the edit is refused once, the person's value kept and the
stored one named under it. Sent again, the person's values are written.

The use case writes only while the details are still those the form was
checked against (compare-and-set); the view is then run once more
(views.checked_again_once)."""

from __future__ import annotations

import base64
import json

from flask_babel import gettext as _
from wtforms import BooleanField, HiddenField

from forms import EmailAddressField, PhoneField
from rules.email import shown_email
from rules.phone import shown_phone


class SeenEdit:
    """Mixin, before ``forms.Form``, of a form editing the details of a stored
    ``record``: ``details`` names them (its fields, in the order ``seen``
    lists them), and ``typed_details`` gives the form's values as they would
    be stored."""

    # Its label is given: see forms.structure.StructureForm.sirene_siret.
    # Carried over the language switch with the fields it describes.
    seen = HiddenField("Seen", render_kw={"data-carried": True})

    def __init__(self, *args, record, details: tuple[str, ...], **kwargs):
        self.record = record
        self.compared = details
        super().__init__(*args, **kwargs)
        # Read by read_seen alone: an unreadable one names every field that
        # differs, it is no error of a field the person could correct.
        self.seen.validators = []
        self.changed_since: dict[str, str] = {}  # both here and meanwhile: the stored value
        self.taken_since: dict[str, str] = {}  # meanwhile only: taken, and named
        if not self.seen.data:
            # A page shown before forms carried what they showed: the last
            # one sent wins, as it did (the check protects the person's own
            # earlier page, nobody else's data).
            self.seen.data = seen_of(self.stored_details())

    def typed_details(self) -> dict:
        raise NotImplementedError

    def stored_details(self) -> dict:
        """The record's details as ``typed_details`` gives a form's."""
        details = {}
        for name in self.compared:
            value = getattr(self.record, name)
            details[name] = bool(value) if isinstance(self[name], BooleanField) else value or None
        return details

    def named(self, name: str) -> str:
        """A stored detail as the form names it under its field: as the field
        shows it (an internationalised domain in Unicode, a French phone
        number as « 01 23 45 67 89 »)."""
        stored = getattr(self.record, name)
        if isinstance(self[name], BooleanField):
            return _("oui") if stored else _("non")
        if isinstance(self[name], EmailAddressField):
            return shown_email(stored) or _("(vide)")
        if isinstance(self[name], PhoneField):
            return shown_phone(stored) or _("(vide)")
        return stored or _("(vide)")

    def hint(self, name: str, usual: str | None = None) -> str | None:
        """A field's hint, with the value stored since the form was shown."""
        if (taken := self.taken_since.get(name)) is not None:
            note = _("Enregistré entre-temps : %(value)s.", value=taken)
        elif (stored := self.changed_since.get(name)) is not None:
            note = _("Enregistré entre-temps : %(value)s. Votre saisie est conservée.", value=stored)
        else:
            parent = getattr(super(), "hint", None)
            return parent(name, usual) if parent else usual
        return f"{note} {usual}" if usual else note

    def validate(self, extra_validators=None) -> bool:
        """The fields' checks, then the merge with a change made meanwhile;
        the result is checked again as a whole: a value taken must fit those
        typed (a postal code and its country, one typed, the other taken)."""
        valid = super().validate(extra_validators)
        shown = read_seen(self.seen.data, self.compared)
        stored = self.stored_details()
        if shown == stored:
            return valid
        typed = self.typed_details()
        for name, value in stored.items():
            if (shown is not None and shown[name] == value) or typed[name] == value:
                continue  # not changed meanwhile, or changed to what is typed here
            if shown is not None and typed[name] == shown[name]:
                self._take(name)  # left as shown: the stored value
                self.taken_since[name] = self.named(name)
            else:
                self.changed_since[name] = self.named(name)
        self._put(self.seen, seen_of(stored))  # sent again, what is typed is written
        if self.taken_since:
            valid = super().validate(extra_validators)
        if self.changed_since:
            self.form_errors.append(
                _(
                    "Ces informations ont été modifiées pendant que vous les modifiiez. Les valeurs "
                    "enregistrées entre-temps sont indiquées sous les champs ; votre saisie est "
                    "conservée. Soumettez à nouveau pour l'enregistrer."
                )
            )
            return False
        return valid

    def _take(self, name: str) -> None:
        self._put(self[name], getattr(self.record, name))

    @staticmethod
    def _put(field, value) -> None:
        """The field holds ``value`` as if it had been sent so: a draft of
        the form (drafts.typed, which reads a text as sent) keeps it too."""
        field.data = value
        if not isinstance(field, BooleanField):
            field.raw_data = [value or ""]


def seen_of(details: dict) -> str:
    """Details as a form's hidden field carries them: JSON in base64url
    (opaque, and without the addresses' ASCII forms that the page shows in
    Unicode)."""
    shown = json.dumps(list(details.values()), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(shown.encode()).decode()


def read_seen(text: str, names: tuple[str, ...]) -> dict | None:
    """The details a form showed, or None when they cannot be read (made
    up): every field that differs from the stored one is then named."""
    try:
        values = json.loads(base64.urlsafe_b64decode(text.encode("ascii", "strict")))
    except (ValueError, UnicodeError, AttributeError):
        return None
    if not isinstance(values, list) or len(values) != len(names):
        return None
    if not all(value is None or isinstance(value, str | bool) for value in values):
        return None
    return dict(zip(names, values, strict=True))
