"""Second-factor forms: the sign-in's second step, enrolment, and the
password asked again before a change."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from forms import Form
from rules.messages import REQUIRED

TRUST_LABEL = _l("Faire confiance à cet appareil pendant 30 jours")
METHODS = ("totp", "passkey", "email", "recovery")

CODE_LABELS = {
    "totp": _l("Code à 6 chiffres de votre application"),
    "email": _l("Code à 6 chiffres reçu par e-mail"),
    "recovery": _l("Code de secours"),
    "passkey": _l("Clé d'accès"),
}


def _code_field(label) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(REQUIRED), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )


class SecondStepForm(Form):
    """The sign-in's second step, for one method."""

    method = HiddenField(validators=[AnyOf(METHODS)])
    code = _code_field(CODE_LABELS["totp"])
    trust = BooleanField(TRUST_LABEL)
    # A passkey's answer, filled by static/js/passkeys.js.
    credential = HiddenField(validators=[Length(max=16 * 1024)])

    def validate(self, extra_validators=None) -> bool:
        if self.method.data == "passkey":
            self.code.validators = []
        return super().validate(extra_validators)

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
        _l("Mot de passe actuel"),
        validators=[DataRequired(REQUIRED), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmForm(Form):
    """A button and its CSRF token."""


class PasskeyForm(Form):
    """Naming a new passkey; ``credential`` is filled by static/js/passkeys.js."""

    name = StringField(
        _l("Nom de la clé d'accès"),
        validators=[DataRequired(REQUIRED), Length(max=100)],
        render_kw={"autocomplete": "off"},
    )
    credential = HiddenField(validators=[Length(max=16 * 1024)])


class PasskeySignInForm(Form):
    """FLASK_PASSKEY_SIGN_IN: the passkey's answer alone."""

    credential = HiddenField(validators=[DataRequired(REQUIRED), Length(max=16 * 1024)])
