"""Values as French users read them."""

from __future__ import annotations

from datetime import datetime

import pytest

from views.filters import date_fr, phone


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+33123456789", "01 23 45 67 89"),
        ("+3225112233", "+32 2 511 22 33"),
        ("", ""),
        (None, ""),
        ("abc", "abc"),
    ],
)
def test_phone_numbers_are_shown_grouped(stored, shown):
    assert phone(stored) == shown


def test_times_are_shown_in_paris_time():
    assert date_fr(datetime(2025, 3, 14, 8, 30)) == "14/03/2025 à 09:30"
    assert date_fr(datetime(2025, 7, 14, 8, 30)) == "14/07/2025 à 10:30"
    assert date_fr(None) == ""


def test_times_are_shown_in_the_pages_language(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert date_fr(datetime(2025, 3, 14, 8, 30)) == "14 Mar 2025 at 09:30"
    with app.test_request_context():
        assert date_fr(datetime(2025, 3, 14, 8, 30)) == "14/03/2025 à 09:30"
