"""Second-factor forms: the sign-in's second step, enrolment, and the
password asked again before a change."""

from __future__ import annotations

from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from forms import Form
from rules.messages import REQUIRED

TRUST_LABEL = "Faire confiance à cet appareil pendant 30 jours"
METHODS = ("totp", "email", "recovery")

CODE_LABELS = {
    "totp": "Code à 6 chiffres de votre application",
    "email": "Code à 6 chiffres reçu par e-mail",
    "recovery": "Code de secours",
}


def _code_field(label: str) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(REQUIRED), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )


class SecondStepForm(Form):
    """The sign-in's second step, for one method."""

    method = HiddenField(validators=[AnyOf(METHODS)])
    code = _code_field(CODE_LABELS["totp"])

    def for_method(self, method: str) -> SecondStepForm:
        self.method.data = method
        self.code.label.text = CODE_LABELS[method]
        if method == "recovery":
            self.code.render_kw = {"autocomplete": "off", "spellcheck": "false"}
        return self


class CodeForm(Form):
    """The code that confirms an enrolment."""

    code = _code_field(CODE_LABELS["totp"])


class ReauthForm(Form):
    password = PasswordField(
        "Mot de passe actuel",
        validators=[DataRequired(REQUIRED), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmForm(Form):
    """A button and its CSRF token."""
