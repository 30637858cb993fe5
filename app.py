"""Application factory: ``flask --app app run`` or ``gunicorn "app:create_app()"``."""

from __future__ import annotations

from inspect import CO_COROUTINE

from flask import Flask, request
from flask.globals import _cv_request
from flask.templating import Environment
from flask_wtf.csrf import CSRFError

import assets
import backup
import breach
import cli
import config
import database
import health
import i18n
import logs
import mailer
import metrics
import security
import sessions
from extensions import csrf, htmx, login_manager, mail
from factors.recovery import COUNT as RECOVERY_CODES
from forms.render import control as field_control
from models import Membership, SecondFactor, Structure, User
from rules.identifiers import SIRET
from views import (
    PORTAL_ANSWER,
    RowIdConverter,
    account,
    activation,
    admin,
    approvals,
    auth,
    captcha,
    dev,
    errors,
    factors,
    filters,
    here,
    language,
    layout_part,
    legal,
    main,
    recovery,
    registration,
    rights,
    second_factor,
    sign_in_first,
    space,
    structure,
)


class Templates(Environment):
    """Flask's Jinja environment, whose templates read its globals as they are.

    Jinja gives each template a ChainMap of its own globals (none here) over
    the environment's; every render, include and macro import then copies
    and lists that ChainMap key by key (some 10 µs each, five a page). A
    template loaded without globals of its own gets the environment's dict
    itself, as Jinja 2 did: the same names, seen as they are updated.
    Templates are never given globals of their own here (no
    ``get_template(..., globals=...)``), so no template adds to them."""

    def make_globals(self, d):
        return self.globals if not d else super().make_globals(d)


class Portal(Flask):
    jinja_environment = Templates

    def ensure_sync(self, func):
        """Flask asks, for each hook and view of each request (some 25), whether
        it is a coroutine: a plain function's flags answer at once."""
        code = getattr(func, "__code__", None)
        plain = code is not None and not code.co_flags & CO_COROUTINE
        if plain and not hasattr(func, "_is_coroutine_marker"):  # inspect.markcoroutinefunction
            return func
        return super().ensure_sync(func)


def create_app(test_config: dict | None = None) -> Flask:
    # Static files are assets.py's (WhiteNoise), not a Flask route.
    app = Portal(__name__, instance_relative_config=True, static_folder=None)
    refusal = None
    try:
        config.load(app, test_config)
    except config.SettingError as error:
        refusal = cli.refusal(error)  # raises unless `flask` only lists its commands

    health.init_app(app)  # first: probes answer before any other hook runs
    breach.init_app(app)  # its compression runs after every other hook
    logs.init_app(app)
    i18n.init_app(app)
    database.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(sessions.load_user)
    login_manager.unauthorized_handler(sign_in_first)
    sessions.init_app(app)
    mailer.init_app(app)
    security.init_app(app)
    metrics.init_app(app)
    assets.init_app(app)

    app.url_map.converters["id"] = RowIdConverter
    for blueprint in (
        main.bp,
        registration.bp,
        captcha.bp,
        activation.bp,
        auth.bp,
        structure.bp,
        space.bp,
        approvals.bp,
    ):
        app.register_blueprint(blueprint)
    for blueprint in (
        recovery.bp,
        account.bp,
        rights.bp,
        admin.bp,
        legal.bp,
        second_factor.bp,
        factors.bp,
        language.bp,
    ):
        app.register_blueprint(blueprint)
    if app.config["DEV_OUTBOX_PAGE"]:
        app.register_blueprint(dev.bp)
    errors.register(app)
    filters.register(app)
    app.register_error_handler(CSRFError, errors.csrf_error)

    # Seen by the macros too (_macros.html, stepper): enrolment is a step of
    # the flow when every account must have a second factor.
    app.jinja_env.globals["two_factor_step"] = app.config["TWO_FACTOR_POLICY"] == "all"
    app.jinja_env.globals["RECOVERY_CODES"] = RECOVERY_CODES  # « … sur 10 » (factors/_codes_left.html)

    @app.context_processor
    def _layout() -> dict:
        # One place decides full page or fragment: htmx requests that are not
        # boosted get the step's fragment.
        partial = bool(request.htmx) and not request.htmx.boosted
        return {"base_template": "layouts/partial.html" if partial else "layouts/base.html"}

    @app.after_request
    def _vary(response):
        if "Vary" in response.headers:
            response.vary.add("HX-Request")
        else:
            response.headers["Vary"] = "HX-Request"
        if request.htmx:
            # The portal's own answer: app.js swaps an error answer in only
            # when it bears this; a proxy's (nginx's maintenance page during
            # a restart) would replace the form and what was typed.
            response.headers[PORTAL_ANSWER] = "1"
        return response

    # Templates compare against these names, never against raw strings.
    app.jinja_env.globals.update(
        Membership=Membership, SecondFactor=SecondFactor, SIRET=SIRET, Structure=Structure, User=User
    )
    # The form macros render a field's control with forms.render (WTForms' output, faster).
    app.jinja_env.globals["field_control"] = field_control
    app.jinja_env.globals["here"] = here
    app.jinja_env.globals["layout_part"] = layout_part

    _cache_plain_urls(app)

    app.cli.add_command(backup.backup)
    cli.register(app, refusal)
    return app


# A page links the same few addresses on every request (the header's, the
# footer's): each costs a build through the URL map. An address named by its
# endpoint alone, with no value, depends on nothing else but the root the
# application is mounted at (SCRIPT_NAME): it is built once per root.
PLAIN_URLS_KEPT = 1000


def _cache_plain_urls(app: Flask) -> None:
    if any(app.url_default_functions.values()):
        return  # defaults injected per request: nothing is plain
    build = app.url_for
    built: dict[tuple[str, str], str] = {}

    def url_for(endpoint: str, /, **values) -> str:
        if values or endpoint.startswith("."):
            return build(endpoint, **values)  # relative to the request's blueprint, or with values
        context = _cv_request.get(None)
        if context is None:
            return build(endpoint)  # outside a request: an external URL
        key = (endpoint, context.request.script_root)
        url = built.get(key)
        if url is None:
            url = build(endpoint)
            if len(built) < PLAIN_URLS_KEPT:
                built[key] = url
        return url

    app.jinja_env.globals["url_for"] = url_for
