"""Account forms: a new password (activation and reset), and « Mon compte »
(identity, survey consent, password change)."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired

from forms import Form
from forms.registration import SURVEY_CONSENT_LABEL, PersonalInfoForm, SurveyConsentLabel
from forms.seen import SeenEdit
from forms.validators import AtMost, PasswordChanges, PasswordRule, SameAs
from rules.messages import PASSWORDS_DIFFER, REQUIRED


def new_password_untouched(form) -> bool:
    """A form's new password (``password`` and ``password_confirm``) as
    anybody first sees it: nothing typed, no error."""
    return not any(field.data or field.errors for field in (form.password, form.password_confirm))


class NewPasswordForm(Form):
    """« Mise à jour du mot de passe ». ``context`` lists the words the
    password may not contain (the user's names and e-mail); ``is_current``,
    for an account that has a password (a reset), says whether a password
    is that one: it is refused."""

    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("Confirmation du nouveau mot de passe"),
        validators=[
            DataRequired(REQUIRED),
            SameAs("password", PASSWORDS_DIFFER),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(
        self,
        *args,
        context: tuple[str, ...] = (),
        is_current: Callable[[str], bool] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.password.validators = [*self.password.validators, PasswordRule(lambda: context)]
        if is_current is not None:
            self.password.validators.append(PasswordChanges(is_current))


class ProfileForm(SeenEdit, Form):
    """The identity fields a user may edit, with the very rules of sign-up.
    It carries the profile as it showed it (forms.seen): sent after another
    change of it (a second tab), it writes nothing over that change unseen."""

    first_name = PersonalInfoForm.first_name
    last_name = PersonalInfoForm.last_name
    phone = PersonalInfoForm.phone
    contact_email = PersonalInfoForm.contact_email

    FIELDS = ("first_name", "last_name", "phone", "contact_email")
    # Kept in « Mon compte »'s draft: a draft taken up later knows what was shown.
    DRAFTED = (*FIELDS, "seen")

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, record=user, details=self.FIELDS, **kwargs)

    def typed_details(self) -> dict:
        return self.profile_data(self.user.email)

    def profile_data(self, login_email: str) -> dict:
        return {
            "first_name": self.first_name.data,
            "last_name": self.last_name.data,
            "phone": self.phone.data or None,
            "contact_email": self.contact_email.data or login_email,
        }


class ConfirmForm(Form):
    """A button alone (its CSRF token): « Confirmer l'adresse »."""


class SurveyConsentForm(SurveyConsentLabel, Form):
    survey_consent = BooleanField(SURVEY_CONSENT_LABEL)


class ActivationForm(Form):
    """Step 4: the details that will be saved, shown to be checked (and
    corrected) by whoever holds the link, then the first password."""

    first_name = PersonalInfoForm.first_name
    last_name = PersonalInfoForm.last_name
    phone = PersonalInfoForm.phone
    contact_email = PersonalInfoForm.contact_email
    survey_consent = BooleanField(SURVEY_CONSENT_LABEL)
    password = NewPasswordForm.password
    password_confirm = NewPasswordForm.password_confirm

    def __init__(self, *args, login_email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.login_email = login_email
        # Names as typed here (validated before the password, declared first).
        self.password.validators = [*self.password.validators, PasswordRule(self.password_context)]

    def password_context(self) -> tuple[str, ...]:
        names = (self.first_name.data, self.last_name.data, self.contact_email.data)
        return (*(name or "" for name in names), self.login_email)

    def details(self) -> dict:
        return {
            "first_name": self.first_name.data,
            "last_name": self.last_name.data,
            "phone": self.phone.data or None,
            "contact_email": self.contact_email.data or self.login_email,
            "survey_consent": bool(self.survey_consent.data),
        }


def _again(unbound):
    return unbound.field_class(*unbound.args, **unbound.kwargs)


class ChangePasswordForm(Form):
    """The current password, then a new one under the rule of step 4 that
    differs from it. Comparing with the current password as typed is
    enough: the use case refuses the change unless that one is right."""

    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(REQUIRED), AtMost(1024)],
        render_kw={"autocomplete": "current-password"},
    )
    # The fields of NewPasswordForm, declared anew so that they come after
    # the current password (WTForms orders fields by creation).
    password = _again(NewPasswordForm.password)
    password_confirm = _again(NewPasswordForm.password_confirm)

    def __init__(self, *args, context: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.password.validators = [
            *self.password.validators,
            PasswordRule(lambda: context),
            PasswordChanges(lambda password: password == self.current_password.data),
        ]


class DeleteAccountForm(Form):
    """« Supprimer mon compte »: the password confirms it is the holder."""

    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(REQUIRED), AtMost(1024)],
        render_kw={"autocomplete": "current-password"},
    )
