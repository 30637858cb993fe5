"""Second-factor forms: the sign-in's second step, enrolment, and the
password asked again before a change."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, ValidationError

from forms import Form
from forms.validators import AtMost
from rules.codes import CODE_SHAPE, six_digits
from rules.messages import REQUIRED

UNAVAILABLE = _l("Cette méthode n'est pas proposée pour votre compte. Choisissez l'une de celles ci-dessous.")
# A mailed code that has had all its tries (models.EmailCode.MAX_TRIES): told
# next to its field, with the button « Demander un nouveau code ».
CODE_SPENT = _l(
    "Ce code n'est plus valable : il a été saisi trop de fois sans succès. Demandez un nouveau code."
)
# A mailed code refused: a new one, not another try, is what an expired code needs.
WRONG_MAILED_CODE = _l("Ce code est incorrect ou a expiré. Vérifiez-le, ou demandez un nouveau code.")
TRUST_LABEL = _l("Faire confiance à cet appareil pendant 30 jours")
METHODS = ("totp", "passkey", "email", "recovery")

CODE_LABELS = {
    "totp": _l("Code à 6 chiffres de votre application"),
    "email": _l("Code à 6 chiffres reçu par e-mail"),
    "recovery": _l("Code de secours"),
    "passkey": _l("Clé d'accès"),
}


SIX_DIGIT_METHODS = ("totp", "email")


class SixDigits:
    """A one-time code of six digits (spaces and hyphens allowed): any other
    shape is told as such, not as a wrong code."""

    def __call__(self, form, field) -> None:
        if field.data and six_digits(field.data) is None:
            raise ValidationError(str(CODE_SHAPE))


def _code_field(label, *checks) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(REQUIRED), AtMost(64), *checks],
        # A code is a secret: never carried over the language switch (static/js/app.js).
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "spellcheck": "false",
            "data-not-carried": True,
        },
    )


class SecondStepForm(Form):
    """The sign-in's second step, for one of the ``offered`` methods (the
    account's): a method it does not have is refused like a wrong code."""

    method = HiddenField()
    code = _code_field(CODE_LABELS["totp"])
    trust = BooleanField(TRUST_LABEL)
    # A passkey's answer, filled by static/js/passkeys.js.
    credential = HiddenField(validators=[AtMost(16 * 1024)])

    def __init__(self, *args, offered: Sequence[str] = METHODS, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered = tuple(kind for kind in offered if kind in METHODS)

    def validate(self, extra_validators=None) -> bool:
        if self.method.data not in self.offered:
            self.form_errors.append(str(UNAVAILABLE))
            return False
        if self.method.data == "passkey":
            self.code.validators = []
        elif self.method.data in SIX_DIGIT_METHODS:
            self.code.validators = [*self.code.validators, SixDigits()]
        return super().validate(extra_validators)

    @property
    def answer(self) -> str:
        """What the chosen method checks: the passkey's answer, or the code typed."""
        return self.credential.data if self.method.data == "passkey" else self.code.data

    def for_method(self, method: str) -> SecondStepForm:
        self.method.data = method
        self.code.label.text = CODE_LABELS[method]
        if method == "recovery":
            self.code.render_kw = {"autocomplete": "off", "spellcheck": "false", "data-not-carried": True}
        return self


class CodeForm(Form):
    """The code that confirms an enrolment (an app's or a mailed one: six digits)."""

    code = _code_field(CODE_LABELS["totp"], SixDigits())


class ReauthForm(Form):
    password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(REQUIRED), AtMost(1024)],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmForm(Form):
    """A button and its CSRF token."""


class RemoveFactorForm(Form):
    """« Retirer »: its CSRF token and, for the account's last method, the
    confirmation that two-step verification goes with it (sent by the
    confirmation's own button, a hidden field)."""

    turn_off = BooleanField()


class PasskeyForm(Form):
    """Naming a new passkey; ``credential`` is filled by static/js/passkeys.js."""

    name = StringField(
        _l("Nom de la clé d'accès"),
        validators=[DataRequired(REQUIRED), AtMost(100)],
        render_kw={"autocomplete": "off"},
    )
    credential = HiddenField(validators=[AtMost(16 * 1024)])


class PasskeySignInForm(Form):
    """FLASK_PASSKEY_SIGN_IN: the passkey's answer alone."""

    credential = HiddenField(validators=[DataRequired(REQUIRED), AtMost(16 * 1024)])
