"""Sign-up: personal information (step 2), captcha (step 3), mail sent."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for

import accounts
import challenges
from forms.registration import CaptchaForm, PersonalInfoForm
from views import advance, invalid, page

bp = Blueprint("registration", __name__, url_prefix="/inscription")

# Validated step-2 data waits in the session until the captcha is passed:
# no account row exists before that.
PENDING_KEY = "signup"
SENT_KEY = "signup_sent_to"


@bp.route("/", methods=["GET", "POST"])
def personal_info():
    kept = session.get(PENDING_KEY) or {}
    form = PersonalInfoForm(data={**kept, "email_confirm": kept.get("email")})
    if form.is_submitted():
        if not form.validate():
            return invalid("registration/personal_info.html", form=form)
        session[PENDING_KEY] = form.signup_data()
        return advance(url_for(".captcha"), _captcha_step)
    return page("registration/personal_info.html", form=form)


@bp.post("/champ/<name>")
def validate_field(name: str):
    """Inline validation of one field with the same form class as the submit."""
    form = PersonalInfoForm()
    if name not in PersonalInfoForm.INLINE:
        abort(404)
    form.validate()
    return render_template("registration/_field.html", field=form[name])


@bp.route("/captcha", methods=["GET", "POST"])
def captcha():
    if PENDING_KEY not in session:
        flash("Complétez d'abord vos informations personnelles.", "info")
        return redirect(url_for(".personal_info"), 303)
    form = CaptchaForm()
    if not form.is_submitted():
        return _captcha_step()
    if not form.validate():
        return _captcha_step(form, status=422)
    if not challenges.solve(form.challenge_id.data, form.answer.data):
        # One attempt per challenge: a new one is drawn.
        form.answer.errors = [
            "Les caractères saisis ne correspondent pas. Essayez avec cette nouvelle image."
        ]
        form.answer.data = ""
        return _captcha_step(form, status=422)
    data = session.pop(PENDING_KEY)
    accounts.sign_up(data)
    session[SENT_KEY] = data["email"]
    return advance(url_for(".sent"), _sent_step)


@bp.post("/captcha/nouveau")
def new_challenge():
    """« Nouvelle image »: the widget under htmx, the captcha step otherwise."""
    form = CaptchaForm()
    challenges.discard(form.challenge_id.data or "")
    if PENDING_KEY not in session:
        return redirect(url_for(".personal_info"), 303)
    return advance(
        url_for(".captcha"),
        lambda: render_template(
            "registration/_captcha_widget.html",
            form=CaptchaForm(formdata=None),
            challenge=challenges.open_challenge(),
        ),
    )


@bp.get("/envoye")
def sent():
    if SENT_KEY not in session:
        return redirect(url_for(".personal_info"), 303)
    return _sent_step()


@bp.post("/renvoyer")
def resend():
    email = session.get(SENT_KEY)
    if email is None:
        return redirect(url_for(".personal_info"), 303)
    accounts.resend_activation(email)
    flash("Si votre demande est valide, un nouveau courriel vient de vous être envoyé.", "success")
    return advance(url_for(".sent"), _sent_step)


def _captcha_step(form: CaptchaForm | None = None, status: int = 200):
    form = form or CaptchaForm(formdata=None)
    return page(
        "registration/captcha.html",
        status,
        form=form,
        challenge=challenges.open_challenge(),
        email=session[PENDING_KEY]["email"],
    )


def _sent_step():
    return page("registration/sent.html", email=session[SENT_KEY])
