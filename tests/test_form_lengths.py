"""Every length a form bounds is said as the portal's rules say it (« Ce
champ doit contenir au plus 20 caractères. », an address's « L'adresse
e-mail doit contenir au plus 254 caractères. »), in both languages, never in
WTForms' own words (« Le champ ne peut pas contenir plus de 254
caractères. »)."""

from __future__ import annotations

import html
import importlib
import pkgutil

import pytest
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

import forms
from forms.validators import AtMost
from tests.support.responses import error_of, is_fragment
from tests.support.signup import PERSON

ADDRESS_TOO_LONG = "L'adresse e-mail doit contenir au plus 254 caractères."


def _form_classes() -> list[type]:
    for module in pkgutil.iter_modules(forms.__path__):
        importlib.import_module(f"forms.{module.name}")
    found, waiting = [], [forms.Form]
    while waiting:
        cls = waiting.pop()
        found.append(cls)
        waiting.extend(cls.__subclasses__())
    return found


def _lengths() -> list[tuple[str, Length]]:
    bounds = []
    for cls in _form_classes():
        for name in dir(cls):
            unbound = getattr(cls, name, None)
            if isinstance(unbound, UnboundField):
                for validator in unbound.kwargs.get("validators") or ():
                    if isinstance(validator, Length):
                        bounds.append((f"{cls.__name__}.{name}", validator))
    return bounds


def test_every_bounded_field_says_its_bound_in_the_portals_words():
    bounds = _lengths()
    assert len(bounds) > 20  # the forms were read
    wtforms_own = [where for where, validator in bounds if not isinstance(validator, AtMost)]
    assert wtforms_own == []


def said(response, field: str) -> str:
    """The error next to the field, as a person reads it (after « Erreur : »)."""
    return html.unescape(error_of(response, field)).strip()


def too_long_email(client, field: str):
    client.get("/inscription/")
    return client.submit("/inscription/", data={**PERSON, field: "a" * 250 + "@exemple.fr"})


@pytest.mark.parametrize("field", ["email", "email_confirm", "contact_email"])
def test_an_address_too_long_is_said_next_to_its_field(any_client, field):
    response = too_long_email(any_client, field)
    assert response.status_code == 422
    assert is_fragment(response) == any_client.htmx
    assert said(response, field).endswith(ADDRESS_TOO_LONG)
    assert "ne peut pas contenir" not in response.get_data(as_text=True)


def test_the_inline_check_of_an_address_too_long_says_the_same(htmx_client):
    htmx_client.get("/inscription/")
    token = htmx_client.csrf_token()
    response = htmx_client.post(
        "/inscription/champ/email",
        data={"csrf_token": token, "email": "a" * 250 + "@exemple.fr"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert said(response, "email").endswith(ADDRESS_TOO_LONG)


def test_an_address_too_long_in_english(any_client):
    any_client.get("/inscription/", headers={"Accept-Language": "en"})
    response = any_client.submit(
        "/inscription/",
        data={**PERSON, "email": "a" * 250 + "@exemple.fr"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert said(response, "email").endswith("The email address must be 254 characters or fewer.")


def test_a_password_too_long_at_sign_in_is_said_in_the_portals_words(any_client):
    response = any_client.submit("/connexion", data={"email": "marie@exemple.fr", "password": "p" * 1025})
    assert response.status_code == 422
    assert said(response, "password").endswith("Ce champ doit contenir au plus 1024 caractères.")
