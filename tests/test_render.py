"""forms.render gives WTForms' own output, byte for byte, on every field of
every form: empty, filled, in error, with the attributes the macros add."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from forms.account import ChangePasswordForm, NewPasswordForm, ProfileForm, SurveyConsentForm
from forms.auth import EmailRequestForm, LoginForm
from forms.registration import CaptchaForm, PersonalInfoForm
from forms.render import by_wtforms, control, render
from forms.structure import (
    AttachmentRequestForm,
    SiretForm,
    StructureForm,
    StructureSearchForm,
)
from models import User


class StoredProfileForm(ProfileForm):
    """« Mon compte »'s form edits the profile of a stored account."""

    def __init__(self, *args, **kwargs):
        marie = User(
            first_name="Marie", last_name="Curie", email="marie@exemple.fr", contact_email="marie@exemple.fr"
        )
        super().__init__(*args, user=marie, **kwargs)


FORMS = [
    NewPasswordForm, StoredProfileForm, SurveyConsentForm, ChangePasswordForm, LoginForm, EmailRequestForm,
    PersonalInfoForm, CaptchaForm, StructureForm, StructureSearchForm, AttachmentRequestForm, SiretForm,
]  # fmt: skip
TYPED = MultiDict({
    "email": 'a"b<c>@exemple.fr', "email_confirm": "x@exemple.fr", "first_name": "Zoé & <b>",
    "phone": "01 23", "terms": "y", "survey_consent": "y", "password": "secret-typed",
    "identifier_type": "ue", "identifier": "BE0123", "country": "BE", "company_name": "A&B",
    "challenge_id": "c'1", "answer": "K7", "postal_code": "7500",
})  # fmt: skip
EXTRAS = [
    {},
    {"required": True, "aria-required": "true", "aria-describedby": "x-hint x-error", "aria-invalid": "true"},
    {
        "data-hx-post": "/inscription/champ/email",
        "data-hx-target": "#field-email",
        "class_": "wide",
        "data_role": "a b",
    },
    {"value": "given", "disabled": False, "autocomplete": None},
]


@pytest.fixture
def request_context(app):
    with app.test_request_context(method="POST", data=TYPED):
        yield


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("filled", [False, True], ids=["empty", "filled"])
def test_every_field_renders_as_wtforms_does(request_context, form_class, filled):
    form = form_class(formdata=TYPED if filled else None, meta={"csrf": False})
    if filled:
        form.validate()
    for field in form:
        for extra in EXTRAS:
            assert render(field, **extra) == by_wtforms(field, **extra), (field.name, extra)
            assert isinstance(render(field, **extra), Markup)
            assert field(**extra) == render(field, **extra)  # a template's own call: the same bytes


def test_a_select_of_many_choices_and_its_selected_one(request_context):
    class Choose(StructureForm):
        member = SelectField("Membre", choices=[SelectChoice(1, "Un <1>"), SelectChoice(2, "")], coerce=int)

    form = Choose(formdata=MultiDict({"member": "2", "country": "DE"}), meta={"csrf": False})
    for name in ("member", "country", "identifier_type"):
        assert render(form[name]) == by_wtforms(form[name])
    assert '<option selected value="DE">' in render(form.country)


def test_the_control_links_hint_and_error_and_inline_validation(request_context):
    form = PersonalInfoForm(formdata=MultiDict({"email": "pas une adresse"}), meta={"csrf": False})
    form.validate()
    html = control(form.email, hint="Format", required=True, validate_url="/inscription/champ/email")
    assert 'aria-describedby="email-hint email-error"' in html
    assert 'aria-invalid="true"' in html and "required" in html and 'aria-required="true"' in html
    assert 'data-hx-post="/inscription/champ/email"' in html and 'data-hx-target="#field-email"' in html
    assert 'value="pas une adresse"' in html
    plain = control(form.first_name)
    assert "aria-describedby" in plain  # in error too: first_name is required
    assert control(form.phone) == form.phone()


def test_the_csrf_token_a_template_draws_is_wtforms_hidden_input(app):
    """``{{ form.csrf_token }}`` in a template (step 6, the edits) goes through
    forms.Form.Meta: WTForms' hidden input, with the page's token."""
    with app.test_request_context():
        form = StructureForm()
        drawn, wtforms_drawn = str(form.csrf_token()), str(by_wtforms(form.csrf_token))
    pattern = r'<input id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)">'
    assert re.fullmatch(pattern, drawn) and re.fullmatch(pattern, wtforms_drawn), (drawn, wtforms_drawn)
