"""Flask extensions, created once and bound by the factory."""

import ipaddress

from flask import session
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


class _LoginManager(LoginManager):
    """Flask-Login's, with its session protection (``basic``: a signed-in
    session seen from another address or browser is no longer « fresh »)
    checked only where someone is signed in. An anonymous session (a CSRF
    token, a language) has no freshness to lose: marking it would rewrite
    and re-sign its cookie on the next request of a visitor whose address
    changed, and hash the address and browser of every visitor."""

    def _session_protection_failed(self):
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


login_manager = _LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


def client_key() -> str:
    """What the limits count by: the client address as the app sees it (the
    socket's, or ProxyFix's when proxies are trusted); for IPv6, its /64.
    A home line or a rented server is given a whole /64 (2**64 addresses):
    counted by address, each attempt could come from a new one."""
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


# Limits are declared on the views (security.limit); storage, strategy and
# on/off come from the RATELIMIT_* settings; the key is client_key().
limiter = Limiter(key_func=client_key)
