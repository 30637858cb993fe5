"""Password forms: first password (activation) and, later, reset."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired

from forms.validators import PasswordRule, SameAs

REQUIRED = "Ce champ est obligatoire."


class NewPasswordForm(FlaskForm):
    """« Mise à jour du mot de passe ». ``context`` lists the words the
    password may not contain (the user's names and e-mail)."""

    password = PasswordField(
        "Nouveau mot de passe",
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        "Confirmation du nouveau mot de passe",
        validators=[
            DataRequired(REQUIRED),
            SameAs("password", "Les deux mots de passe ne sont pas identiques."),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, context: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.password.validators = [*self.password.validators, PasswordRule(lambda: context)]
