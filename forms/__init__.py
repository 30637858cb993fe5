"""Forms, one module per area; validators.py turns the rules of ``rules``
into WTForms validators."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict
from wtforms import EmailField, PasswordField, StringField

from forms.validators import PlainText
from rules.email import shown_email


class Form(FlaskForm):
    """A FlaskForm that reads text fields only: no form here takes a file, and
    a file posted under a field's name must read as an invalid value, not
    reach the validators as a file object. Nor is any form sent as JSON:
    Flask-WTF would read a JSON body's numbers, lists and objects as the
    fields' data (a 500 in the validators); such a body reads as no data.

    Every text field (passwords excepted: never shown, and hashed as typed)
    is first checked by ``PlainText``: no invisible or direction-reversing
    character, NFC."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                field.validators = [PlainText(), *field.validators]

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if not hasattr(formdata, "getlist") and formdata is not None and request.is_json:
                # Flask-WTF's own reading (no formdata given) would parse the JSON body.
                return request.form or None
            data = super().wrap_formdata(form, formdata)
            if isinstance(data, CombinedMultiDict):
                return request.form
            return data


class EmailAddressField(EmailField):
    """An e-mail address, shown as people read it: an internationalised
    domain in Unicode, though the ``Email`` validator makes the data (what is
    stored and sent to) its ASCII form; so a form shown again, or filled
    from the database, never shows « xn--… »."""

    def _value(self) -> str:
        return shown_email(super()._value())
