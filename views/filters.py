"""Template filters: values as the page's reader reads them (French by
default, English on English pages). The names say what they were first:
``date_fr`` formats in the page's language."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import Flask
from flask_babel import gettext as _
from flask_babel import ngettext

import i18n
from rules.email import shown_email
from rules.phone import shown_phone

PARIS = ZoneInfo("Europe/Paris")


def date_fr(value: datetime | None) -> str:
    """A stored UTC time in Paris time: « 14/03/2025 à 09:30 », in English
    « 14 Mar 2025 at 09:30 »."""
    if value is None:
        return ""
    local = value.replace(tzinfo=UTC).astimezone(PARIS)
    language = i18n.current()
    if language == "fr":
        return local.strftime("%d/%m/%Y à %H:%M")
    # « 14 Mar 2025 at 09:30 »: a day, a month in letters, no DD/MM vs MM/DD doubt.
    day = format_date(local.date(), "d MMM yyyy", locale=language)
    return _("%(date)s à %(time)s", date=day, time=local.strftime("%H:%M"))


def long_date(value: date) -> str:
    """A day in the page's language, its month in letters: « 30 novembre
    2026 », in English « 30 November 2026 »."""
    return format_date(value, "d MMMM yyyy", locale=i18n.current())


def time_fr(value: datetime | None) -> str:
    """A stored UTC time as the hour in Paris: « 09:30 »."""
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone(PARIS).strftime("%H:%M")


def phone(value: str | None) -> str:
    """A stored E.164 number as people write it (``rules.phone.shown_phone``)."""
    return shown_phone(value)


def _label(labels: dict, code: str | None) -> str:
    """``code`` as words; a code this version does not know, as it is."""
    label = labels.get(code)
    return str(label) if label is not None else (code or "")


def outcome(code: str | None) -> str:
    """An audit event's outcome as words (« Réussi »)."""
    from audit import OUTCOME_LABELS

    return _label(OUTCOME_LABELS, code)


def event_label(code: str | None) -> str:
    """An audit event as words (« Connexion »)."""
    from audit import EVENT_LABELS

    return _label(EVENT_LABELS, code)


def event_details(details: str | None) -> list[tuple[str, str]]:
    """An audit event's details (stored as JSON) as (name, value) pairs to
    read (« Nombre », « 10 »: ``audit.DETAIL_LABELS``), not as JSON; an
    account a detail names (``audit.ABOUT_KEYS``) as ``account_shown`` shows
    it. Details that are not a JSON object are shown as stored, under no name."""
    from audit import ABOUT_KEYS, DETAIL_LABELS, DETAIL_VALUE_LABELS

    if not details:
        return []
    try:
        loaded = json.loads(details)
    except ValueError:
        return [("", details)]
    if not isinstance(loaded, dict):
        return [("", details)]
    pairs = []
    for name, value in loaded.items():
        label = _label(DETAIL_LABELS, name)
        if name in ABOUT_KEYS and isinstance(value, str):
            pairs.append((label, account_shown(value)))
        elif isinstance(value, str) and value in DETAIL_VALUE_LABELS.get(name, {}):
            pairs.append((label, str(DETAIL_VALUE_LABELS[name][value])))
        else:
            pairs.append((label, _detail_value(value)))
    return pairs


def _detail_value(value) -> str:
    """A detail's value: text as it is, true or false as « oui » or « non »,
    a list as its items separated by commas, anything else as JSON writes it
    (10, null)."""
    from audit import NO, YES

    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(value, list):
        return ", ".join(_detail_value(item) for item in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def erased(value):
    """A detail erased with its account (stored as rights.ERASED), in the
    page's language; any other value as it is."""
    from rights import ERASED, ERASED_SHOWN

    return str(ERASED_SHOWN) if value == ERASED else value


def duration(minutes: int) -> str:
    """A setting's length of time as people say it, in whole days or hours
    when it is some (« 1 jour », « 2 heures »), else in minutes; never
    « 1440 minutes »."""
    minutes = int(minutes)
    if minutes and minutes % 1440 == 0:
        return ngettext("%(num)d jour", "%(num)d jours", minutes // 1440)
    if minutes and minutes % 60 == 0:
        return ngettext("%(num)d heure", "%(num)d heures", minutes // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def account_shown(value: str | None) -> str:
    """An audit event's account: an address as ``email`` shows it, or a
    deleted account's pseudonym (rights.pseudonym) in the page's language."""
    from rights import shown_pseudonym

    return shown_pseudonym(value) or shown_email(value)


def register(app: Flask) -> None:
    app.add_template_filter(duration, "duration")
    app.add_template_filter(account_shown, "account_shown")
    app.add_template_filter(date_fr, "date_fr")
    app.add_template_filter(i18n.of_person, "of_person")  # « de Bob », « d'Erin »
    app.add_template_filter(phone, "phone")
    app.add_template_filter(shown_email, "email")  # an IDN domain in Unicode (stored in ASCII)
    app.add_template_filter(time_fr, "time_fr")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(outcome, "outcome")
    app.add_template_filter(event_label, "event_label")
    app.add_template_filter(event_details, "event_details")
    app.add_template_filter(erased, "erased")
