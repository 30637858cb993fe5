"""Forms, one module per area; validators.py turns the rules of ``rules``
into WTForms validators."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict


class Form(FlaskForm):
    """A FlaskForm that reads text fields only: no form here takes a file, and
    a file posted under a field's name must read as an invalid value, not
    reach the validators as a file object."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            data = super().wrap_formdata(form, formdata)
            if isinstance(data, CombinedMultiDict):
                return request.form
            return data
