"""Flask extensions, created once and bound by the factory."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

babel = Babel()
csrf = CSRFProtect()
mail = Mail()
htmx = Htmx()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"

# Limits are declared on the views (security.limit); storage, strategy and
# on/off come from the RATELIMIT_* settings. The key is the client address as
# the app sees it: the socket's, or ProxyFix's when proxies are trusted.
limiter = Limiter(key_func=get_remote_address)
