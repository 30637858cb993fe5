"""Reading an answer of the app: its text, fragment or full page, where a
success leads, the error shown next to a field."""

from __future__ import annotations

import re

from breach import MASKED
from tests.support.app import Client

MASKED_TOKEN = re.compile(re.escape(MASKED) + r"[\w-]+")


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def without_tokens(text: str) -> str:
    """A page with its CSRF tokens, masked afresh for each answer
    (``breach.MASKED``, then URL-safe base64), set aside: two answers then
    compare, and a short word is looked for outside them (a random token
    holds « Lyon » or « xn-- » now and then)."""
    return MASKED_TOKEN.sub("TOKEN", text)


def is_fragment(response) -> bool:
    return "<html" not in response.get_data(as_text=True)


def follow(client: Client, response, pushed: str | None = None) -> str:
    """The page a success leads to: the htmx fragment itself (with
    ``pushed`` as the URL htmx puts in the history), or the page behind the 303."""
    if client.htmx:
        assert response.status_code == 200, response.get_data(as_text=True)
        if pushed is not None:
            assert response.headers["HX-Push-Url"] == pushed
        return text_of(response)
    assert response.status_code == 303, response.get_data(as_text=True)
    return text_of(client.get(response.headers["Location"]))


def shown(client: Client, url: str) -> str:
    """The text of the page at ``url``, answered as a fragment under htmx
    and as a full page without."""
    response = client.get(url)
    assert response.status_code == 200
    assert is_fragment(response) == client.htmx
    return text_of(response)


def error_of(response, field: str) -> str:
    match = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', text_of(response), re.S)
    assert match, f"no error next to {field}"
    return match.group(1)


def led_to(client: Client, response) -> str:
    """Where a whole-page navigation (views.full_redirect) leads: a 303
    without JavaScript, HX-Redirect (204) under htmx; its URL."""
    if client.htmx:
        assert response.status_code == 204, response.get_data(as_text=True)
        return response.headers["HX-Redirect"]
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def sent_to_sign_in(client: Client, response) -> str:
    """Where a request that needs an account was sent: « Se connecter »
    (a redirect for a page, a whole-page navigation under htmx); its URL."""
    if client.htmx:
        assert response.status_code == 204, response.get_data(as_text=True)
        url = response.headers["HX-Redirect"]
    else:
        assert response.status_code == 302, response.get_data(as_text=True)
        url = response.headers["Location"]
    assert url == "/connexion" or url.startswith("/connexion?next="), url
    return url


def signs_in_first(response) -> bool:
    """Whether the answer sends to « Se connecter » (either way, as sent_to_sign_in)."""
    url = (
        response.headers.get("HX-Redirect")
        if response.status_code == 204
        else response.headers.get("Location")
    )
    return response.status_code in (204, 302) and bool(url) and url.split("?")[0] == "/connexion"
