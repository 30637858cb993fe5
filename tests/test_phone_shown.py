"""A phone number is stored in E.164 (+33123456789) and shown as people
write it, in every form that shows one again: step 2's inline check and its
refusal, step 4, « Mon compte », step 6. Never « +33123456789 » in a field."""

from __future__ import annotations

import re

import pytest

from rules.phone import shown_phone
from tests.support.responses import text_of
from tests.support.signup import PERSON


def value_of(page: str, name: str) -> str | None:
    field = re.search(rf'<input[^>]* name="{name}"[^>]*>', page)
    value = re.search(r' value="([^"]*)"', field.group(0)) if field else None
    return value.group(1) if value else None


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+33123456789", "01 23 45 67 89"),
        ("+33690001122", "06 90 00 11 22"),
        ("+442079460958", "+44 20 7946 0958"),
        ("+3225112233", "+32 2 511 22 33"),
        ("abc", "abc"),  # as typed, not a number: left as it is
        ("", ""),
    ],
)
def test_a_stored_number_is_shown_as_people_write_it(stored, shown):
    assert shown_phone(stored) == shown


@pytest.mark.parametrize(
    ("typed", "shown"), [("0123456789", "01 23 45 67 89"), ("+44 20 7946 0958", "+44 20 7946 0958")]
)
def test_the_inline_check_gives_the_number_back_as_people_write_it(any_client, typed, shown):
    any_client.get("/inscription/")
    response = any_client.submit("/inscription/champ/phone", {**PERSON, "phone": typed})
    assert value_of(text_of(response), "phone") == shown


def test_a_refused_step_2_shows_the_number_written_the_same_way(client):
    client.get("/inscription/")
    response = client.submit(
        "/inscription/", {**PERSON, "phone": "+442079460958", "email_confirm": "autre@exemple.fr"}
    )
    assert response.status_code == 422 and value_of(text_of(response), "phone") == "+44 20 7946 0958"


def test_my_account_shows_the_stored_number_as_people_write_it(marie):
    page = text_of(marie.get("/mon-compte/"))
    assert value_of(page, "phone") == "01 23 45 67 89" and "+33123456789" not in page
