"""Sign-in form and the form asking for an address to mail a link to."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import DataRequired

from forms import EmailAddressField, Form
from forms.validators import AtMost, Email, EmailAtMost
from rules.messages import REQUIRED


class LoginForm(Form):
    email = EmailAddressField(
        _l("Adresse e-mail"),
        validators=[DataRequired(REQUIRED), EmailAtMost()],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(REQUIRED), AtMost(1024)],
        render_kw={"autocomplete": "current-password"},
    )


class EmailRequestForm(Form):
    """An address to send a link to: « Mot de passe oublié ? », or a new
    activation link. The answer never says whether it has an account."""

    email = EmailAddressField(
        _l("Adresse e-mail"),
        validators=[DataRequired(REQUIRED), EmailAtMost(), Email()],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
