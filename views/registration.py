"""Sign-up: personal information (step 2), captcha (step 3), mail sent."""

from __future__ import annotations

import json
import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup

import accounts
import challenges
import database
import drafts
import i18n
import mailer
import uniform_time
from forms.auth import EmailRequestForm
from forms.registration import CaptchaForm, PersonalInfoForm
from forms.render import control as field_control
from security import limit, mail_allowed
from views import advance, draft_saved, invalid, page, renders, replace_url, shared_page

bp = Blueprint("registration", __name__, url_prefix="/inscription")

# The event (HX-Trigger) by which an inline answer asks the page to check
# another field again, with what that field holds by then (static/js/app.js).
RECHECK = "portail:recheck"

# What step 2 holds, typed or validated, waits in a draft on the server (the
# session cookie holds only its id) until the captcha is passed: no account
# row exists before that. The validated data sits in the draft under VALIDATED.
VALIDATED = "validated"
SENT_KEY = "signup_sent_to"
SENT_AT_KEY = "signup_sent_at"  # when this browser last had a mail sent: the resend cooldown


def _pending() -> dict | None:
    """Step 2's validated data, or None."""
    validated = drafts.load(drafts.SIGNUP)[0].get(VALIDATED)
    return validated if isinstance(validated, dict) and validated.get("email") else None


def _pending_email() -> str | None:
    return (_pending() or {}).get("email")


def _told_sent(email: str):
    """The mail-sent page for a sign-up this browser has finished already:
    nothing is sent again."""
    session[SENT_KEY] = email
    session.setdefault(SENT_AT_KEY, time.time())
    return advance(".sent") if request.method == "POST" else redirect(url_for(".sent"), 303)


def _keep_typed(form: PersonalInfoForm, validated: dict | None = None):
    """Keep what was typed in step 2 (and, once valid, the validated data);
    returns when it was saved. A step sent with nothing typed (every field
    emptied) keeps no draft, and no « Brouillon enregistré » is said of it."""
    typed = drafts.typed(form, PersonalInfoForm.DRAFTED)
    if validated is None and not drafts.holds_anything(typed):
        if drafts.signup_sent() is None:  # the mark of a sign-up finished stays (the mail-sent page)
            drafts.delete(drafts.SIGNUP)
        return None
    return drafts.save(drafts.SIGNUP, {**typed, VALIDATED: validated})


@bp.route("/", methods=["GET", "POST"])
@limit("SIGN_UP")
def personal_info():
    kept, saved_at = drafts.load(drafts.SIGNUP)
    if drafts.SIGNUP_SENT in kept:  # a sign-up finished: the next one starts afresh
        kept, saved_at = {}, None
    if not kept and request.method == "GET":
        # Nothing typed yet: the empty step every new visitor sees alike.
        return shared_page(
            "registration/personal_info.html", lambda: {"form": PersonalInfoForm(), "saved_at": None}
        )
    form = PersonalInfoForm(data=drafts.fill(kept, PersonalInfoForm.DRAFTED))
    if form.is_submitted():
        if not form.validate():
            # Nothing typed is lost, even without JavaScript.
            saved_at = _keep_typed(form)
            return invalid("registration/personal_info.html", form=form, saved_at=saved_at)
        _keep_typed(form, validated=form.signup_data())
        return advance(".captcha")
    return page("registration/personal_info.html", form=form, saved_at=saved_at)


@bp.post("/brouillon")
@limit("DRAFT")
def save_draft():
    """Autosave under htmx (the status line's new text), or « Enregistrer le
    brouillon » without JavaScript (back to the step, refilled)."""
    return draft_saved(_keep_typed(PersonalInfoForm()), ".personal_info")


@bp.post("/champ/<name>")
def validate_field(name: str):
    """Inline validation of one field with the same form class as the submit."""
    if name not in PersonalInfoForm.INLINE:
        abort(404)
    # CSRFProtect checked the request's token before any view ran; this form
    # is never shown whole, so it signs no token of its own for the page.
    form = PersonalInfoForm.checking(name)(meta={"csrf": False})
    field = form.validate_one(name)
    response = current_app.make_response(registration_field(field))
    if name == "email" and form.email_confirm.data:
        # « Confirmez » depends on the address: the page checks it again,
        # with what it holds by then (see app.js, portail:recheck).
        response.headers["HX-Trigger"] = json.dumps({RECHECK: form.email_confirm.id})
    return response


@bp.app_template_global()
def registration_field(field) -> Markup:
    """One field of step 2, with its hint, checked live when it changes: on
    the step's page, and as the answer of its live check."""
    url = url_for("registration.validate_field", name=field.name)
    hint = PersonalInfoForm.HINTS.get(field.name)
    return field_control(field, hint, field.flags.required, url, block="field")


@bp.route("/captcha", methods=["GET", "POST"])
@limit("CAPTCHA")
@limit("CAPTCHA_NEW", methods=("GET",))
def captcha():
    data = _pending()
    if data is None:
        # Back, a reload or a second click once the captcha is passed: the
        # mail-sent page, not an empty step 2 that reads as a failure.
        if (sent_to := drafts.signup_sent()) is not None:
            return _told_sent(sent_to)
        flash(_("Complétez d'abord vos informations personnelles."), "info")
        return redirect(url_for(".personal_info"), 303)
    form = CaptchaForm()
    if not form.is_submitted():  # a GET: the form as it first shows, already built
        return _captcha_step(form, email=data["email"])
    if not form.validate():
        return _captcha_step(form, status=422, email=data["email"])
    # The challenge's one attempt, the account and its mail, and the mark that
    # this browser's sign-up is done, in one transaction: a second click sent
    # at the same time waits for it, then finds the mark; a worker dying
    # midway leaves none of them, so the same answer sent again still counts.
    # The per-address limit stops mails only: the same page follows, and as
    # late as when the address has an account (its row is updated, its old
    # link revoked: a few milliseconds more than a new account).
    with uniform_time.held("sign_up") as branch:
        for attempt in database.attempts():
            with attempt:
                solved = challenges.solve(form.challenge_id.data, form.answer.data)
                # A wrong answer says so (422, a new image): nothing to hide, and a
                # bot's tries must not each keep a worker waiting.
                branch.hold = solved
                if solved:
                    if mail_allowed("CAPTCHA_EMAIL", data["email"]):
                        branch.slow = accounts.sign_up(data, language=i18n.current())
                    drafts.mark_signup_sent(data["email"])
        if solved:
            mailer.kick_queued()  # the delivery thread's start, held too
    if not solved:
        if (sent_to := drafts.signup_sent()) is not None:  # solved by this browser's other click, at once
            return _told_sent(sent_to)
        # One attempt per challenge: a new one is drawn.
        form.answer.errors = [
            _("Les caractères saisis ne correspondent pas. Essayez avec cette nouvelle image.")
        ]
        form.answer.data = ""
        return _captcha_step(form, status=422, email=data["email"])
    session[SENT_KEY] = data["email"]
    session[SENT_AT_KEY] = time.time()
    return advance(".sent")


@bp.post("/captcha/nouveau")
@limit("CAPTCHA_NEW")
def new_challenge():
    """« Nouvelle image »: the widget under htmx, the captcha step otherwise."""
    form = CaptchaForm()
    challenges.discard(form.challenge_id.data or "")
    if _pending() is None:
        return redirect(url_for(".personal_info"), 303)
    if not request.htmx:
        return redirect(url_for(".captcha"), 303)
    widget = render_template(
        "registration/_captcha_widget.html",
        form=CaptchaForm(formdata=None),
        challenge=challenges.open_challenge(),
    )
    # The same step, a new image: the address stays, Back does not step through each image.
    return replace_url(widget, url_for(".captcha"))


@bp.get("/envoye")
def sent():
    if SENT_KEY not in session:
        return redirect(url_for(".personal_info"), 303)
    return _sent_step()


@bp.route("/renvoyer", methods=["GET", "POST"])
@limit("RESEND")
def resend():
    """A new activation link: from the mail-sent page (the address is in the
    session), or from an expired link's page (the address is asked for)."""
    form = EmailRequestForm()
    if not form.is_submitted():
        return page("registration/resend.html", form=form)
    wait = _cooldown_left()
    if "email" in request.form:
        if not form.validate():
            return invalid("registration/resend.html", form=form)
        if wait and form.email.data != session.get(SENT_KEY):
            # Another address typed too soon: kept in its field, not taken as sent to.
            form.email.errors = [_cooldown_message(wait)]
            return invalid("registration/resend.html", form=form)
        session[SENT_KEY] = form.email.data
    email = session.get(SENT_KEY)
    if email is None:
        return redirect(url_for(".resend"), 303)
    if wait:
        # Told from this browser's own last request: says nothing about the address.
        flash(_cooldown_message(wait), "info")
    else:
        with uniform_time.held("resend") as branch:
            if mail_allowed("RESEND_EMAIL", email):
                branch.slow = accounts.resend_activation(email)
            mailer.kick_queued()  # the delivery thread's start, held too
        session[SENT_AT_KEY] = time.time()
        flash(_("Si votre demande est valide, un nouveau courriel vient de vous être envoyé."), "success")
    return advance(".sent")


def _cooldown_message(wait: int) -> str:
    return _(
        "Un courriel vient d'être envoyé. Vous pourrez en demander un autre dans %(wait)s secondes.",
        wait=wait,
    )


def _cooldown_left() -> int:
    cooldown = current_app.config["RESEND_COOLDOWN_SECONDS"]
    sent_at = session.get(SENT_AT_KEY)
    if not isinstance(sent_at, int | float):
        return 0
    return max(0, int(sent_at + cooldown - time.time() + 0.999))


@renders("registration.captcha")
def _captcha_step(form: CaptchaForm | None = None, status: int = 200, email: str | None = None):
    """The captcha step; ``email``, step 2's address, when the caller has
    loaded the draft already (one query less)."""
    form = form or CaptchaForm(formdata=None)
    return page(
        "registration/captcha.html",
        status,
        form=form,
        challenge=challenges.open_challenge(),
        email=email or _pending_email(),
    )


@renders("registration.sent")
def _sent_step():
    return page("registration/sent.html", email=session[SENT_KEY])
