"""Sign-up forms: personal information (step 2) and captcha (step 3)."""

from __future__ import annotations

from types import MappingProxyType

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Optional

from forms import EmailAddressField, Form, PhoneField
from forms.validators import AtMost, Email, EmailAtMost, PersonName, Phone, SameAs
from rules.email import lookup_email
from rules.messages import EMAILS_DIFFER, REQUIRED


def N_(message: str) -> str:
    """Marks a message id for ``pybabel extract``; translated where it is shown."""
    return message


class MessageId(str):
    """A French text that is a message id: as a string it stays the French
    text (what the seed and the tests compare), a template shows it in the
    page's language (``__html__``, as Flask-Babel's lazy strings). Only for
    the portal's own texts, never for what a person typed."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(escape(gettext(str(self))))


SURVEY_CONSENT_LABEL = MessageId(
    N_(
        "J'accepte que mon nom, prénom et adresse électronique soient utilisés par le "
        "Ministère chargé du Budget (et par le prestataire réalisant les enquêtes de "
        "satisfaction pour le compte de l'AIFE) afin de recevoir l'enquête de satisfaction "
        "sur Chorus Pro. Je note par ailleurs que je pourrai à tout moment exercer mon droit "
        "de retrait en décochant l'option."
    )
)


def survey_consent_label() -> str:
    """The survey consent's wording: the operator's (FLASK_SURVEY_CONSENT_TEXT,
    shown as set) or that of the Chorus Pro flow (shown in the page's language)."""
    return current_app.config.get("SURVEY_CONSENT_TEXT") or SURVEY_CONSENT_LABEL


class SurveyConsentLabel:
    """Gives a form's ``survey_consent`` field the operator's wording."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "survey_consent" in self:  # not in a live check's form (Form.checking)
            self.survey_consent.label.text = survey_consent_label()


class PersonalInfoForm(SurveyConsentLabel, Form):
    email = EmailAddressField(
        _l("Adresse e-mail"),
        validators=[DataRequired(REQUIRED), EmailAtMost(), Email()],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    email_confirm = EmailAddressField(
        _l("Confirmez votre adresse e-mail"),
        validators=[
            DataRequired(REQUIRED),
            EmailAtMost(),
            SameAs("email", EMAILS_DIFFER, key=lookup_email),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    first_name = StringField(
        _l("Prénom"),
        validators=[DataRequired(REQUIRED), PersonName()],
        render_kw={"autocomplete": "given-name"},
    )
    last_name = StringField(
        _l("Nom"),
        validators=[DataRequired(REQUIRED), PersonName()],
        render_kw={"autocomplete": "family-name"},
    )
    phone = PhoneField(
        _l("Téléphone"),
        validators=[Optional(), AtMost(40), Phone()],
        render_kw={"autocomplete": "tel"},
    )
    contact_email = EmailAddressField(
        _l("Adresse email de contact"),
        validators=[Optional(), EmailAtMost(), Email()],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    survey_consent = BooleanField(SURVEY_CONSENT_LABEL)
    terms = BooleanField(
        _l("J'accepte les conditions"),
        validators=[InputRequired(_l("Vous devez accepter les conditions pour créer un compte."))],
    )

    # Each field's hint under its label, on the step and in its live check's answer.
    HINTS = MappingProxyType({
        "email": _l("Format attendu : nom@exemple.fr"),
        "phone": _l(
            "Facultatif. Format attendu : 01 23 45 67 89, ou +32 2 511 22 33 pour un numéro hors de France"
        ),
        "contact_email": _l(
            "Facultatif. Adresse sur laquelle vous recevrez les notifications du portail. "
            "Par défaut, votre adresse e-mail."
        ),
    })  # fmt: skip
    # Fields validated one by one when they lose focus.
    INLINE = ("email", "email_confirm", "first_name", "last_name", "phone", "contact_email")
    # Fields kept in the step's draft as they are typed (all of them: no secret here).
    DRAFTED = (*INLINE, "survey_consent", "terms")

    def signup_data(self) -> dict:
        """The validated data, as kept between step 2 and the captcha."""
        return {
            "email": self.email.data,
            "first_name": self.first_name.data,
            "last_name": self.last_name.data,
            "phone": self.phone.data or None,
            "contact_email": self.contact_email.data or self.email.data,
            "survey_consent": bool(self.survey_consent.data),
        }


class CaptchaForm(Form):
    # WTForms' default label, given: without one WTForms loads its own
    # translations from disk for each form (a hidden field shows none).
    challenge_id = HiddenField("Challenge Id", validators=[DataRequired()])
    answer = StringField(
        _l("Reproduire la suite de caractères"),
        validators=[DataRequired(REQUIRED), AtMost(20)],
        # Not carried over the language switch (static/js/app.js): the page comes back with a new image.
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "data-not-carried": True,
        },
    )
