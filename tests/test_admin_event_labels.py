"""The console's events in words: an account's « Événements récents » and the
« Journal » (its rows and its event filter) name each event as « Mes
données » does (audit.EVENT_LABELS), its code beside it for the operator who
filters or reads the logs and metrics; details read as « name : value »
lines, not JSON. In French and in English, as a full page and as an htmx
partial (``operator`` is both)."""

from __future__ import annotations

import html
import re

import pytest

import audit
from audit import EVENT_LABELS, Event
from folding import fold
from models import User
from tests.support.app import query
from tests.support.constants import EMAIL
from tests.support.i18n import assert_english, speak
from tests.support.operators import account_id
from tests.support.responses import shown
from views.filters import event_details

JOURNAL = "/administration/journal"
CODES = Event.RECOVERY_CODES_GENERATED  # the operator's fixture made her ten codes: details {"count": 10}


def table(text: str) -> str:
    match = re.search(r'<table class="table table--stack">.*?</table>', text, re.S)
    assert match, "no events table"
    return match.group(0)


def select(text: str) -> str:
    match = re.search(r'<select id="event" name="event">.*?</select>', text, re.S)
    assert match, "no event filter"
    return match.group(0)


def row(text: str, code: str) -> str:
    """The table row of the (latest) event ``code``."""
    match = re.search(rf"<tr>(?:(?!</tr>).)*<code>{re.escape(code)}</code>.*?</tr>", table(text), re.S)
    assert match, f"no row for {code}"
    return match.group(0)


def record(app, event: str, outcome: str = audit.Outcome.SUCCESS, **details) -> None:
    """An event of the operator's account, as the portal records it."""
    query(app, lambda: audit.record(event, User.by_email(EMAIL), outcome, **details))


def account_page(app) -> str:
    return f"/administration/comptes/{account_id(app, EMAIL)}/"


# -- French ----------------------------------------------------------------------------------------


def test_the_journal_names_events_in_words_with_their_code(operator):
    text = shown(operator, JOURNAL)
    cell = f'data-label="Événement">Nouveaux codes de secours<br><small><code>{CODES}</code></small></td>'
    assert cell in row(text, CODES)
    assert 'data-label="Détails">Nombre : 10</td>' in row(text, CODES)
    assert 'data-label="Détails">Méthode : Application d\'authentification</td>' in row(
        text, Event.SECOND_FACTOR_ENROLLED
    )
    assert 'data-label="Détails">–</td>' in row(text, "account.activated")  # none: as an empty account
    assert ">Inscription<br><small><code>account.created</code></small>" in table(text)
    assert "{" not in table(text)  # no JSON left


def test_the_journal_filter_offers_events_in_words_and_keeps_codes_as_values(operator):
    options = select(shown(operator, JOURNAL))
    assert f'<option value="{CODES}">Nouveaux codes de secours ({CODES})</option>' in options
    assert '<option value="auth.sign_in">Connexion (auth.sign_in)</option>' in options
    # Every event, in the order of their words, accents aside.
    shown_texts = [
        html.unescape(text) for text in re.findall(r'<option value="[^"]+">([^<]+)</option>', options)
    ]
    assert len(shown_texts) == len(EVENT_LABELS)
    assert shown_texts == sorted(shown_texts, key=fold)
    assert shown_texts[0] == "Activation du compte (account.activated)"
    found = shown(operator, f"{JOURNAL}?event={CODES}")
    assert f'<option selected value="{CODES}">' in select(found)
    assert table(found).count("<tr>") == 2  # the header's and the one event's
    assert "Nouveaux codes de secours" in table(found)


def test_an_accounts_recent_events_are_in_words(app, operator):
    text = shown(operator, account_page(app))
    assert "Événements récents" in text
    assert f">Nouveaux codes de secours<br><small><code>{CODES}</code></small>" in row(text, CODES)
    assert 'data-label="Détails">Nombre : 10</td>' in row(text, CODES)
    assert ">Activation du compte<br><small><code>account.activated</code></small>" in table(text)


def test_details_read_as_name_and_value_lines(app, operator):
    record(app, Event.PROFILE_UPDATED, fields=["first_name", "phone"])
    record(app, Event.SURVEY_CONSENT_CHANGED, consent=False)
    record(app, Event.SIGN_IN, audit.Outcome.FAILURE, reason="wrong_password", known_device=True)
    text = shown(operator, JOURNAL)
    assert 'data-label="Détails">Champs modifiés : first_name, phone</td>' in row(text, Event.PROFILE_UPDATED)
    assert 'data-label="Détails">Consentement : non</td>' in row(text, Event.SURVEY_CONSENT_CHANGED)
    assert "Appareil connu : oui<br>Motif : mot de passe incorrect</td>" in row(text, Event.SIGN_IN)


def test_an_event_without_words_is_shown_by_its_code(app, operator):
    record(app, "legacy.something", note="kept")
    text = row(shown(operator, JOURNAL), "legacy.something")
    assert 'data-label="Événement"><code>legacy.something</code></td>' in text
    assert "note : kept" in text


def test_details_that_are_not_an_object_are_shown_as_stored(app):
    with app.test_request_context():
        assert event_details(None) == [] and event_details("") == []
        assert event_details("not json") == [("", "not json")]
        assert event_details("[1, 2]") == [("", "[1, 2]")]
        assert event_details('{"a": null, "b": {"c": 1}, "d": 2.5}') == [
            ("a", "null"),
            ("b", '{"c": 1}'),
            ("d", "2.5"),
        ]


def test_an_account_a_detail_names_is_shown_as_the_account_column_shows_it(app):
    details = '{"structure": 7, "target": "supprimé-0123456789abcdef", "to": "x@xn--exemple-t-j4a.fr"}'
    with app.test_request_context(headers={"Accept-Language": "en"}):
        pairs = dict(event_details(details))
    assert (
        pairs["Account concerned"] == "deleted-0123456789abcdef"
    )  # in the page's language, as in the filter
    assert pairs["New main manager"] == "x@exemple-té.fr"  # an IDN domain in Unicode
    assert pairs["Structure no."] == "7"


# -- English ---------------------------------------------------------------------------------------


@pytest.fixture
def english_operator(operator):
    speak(operator, "en")
    return operator


def test_the_journal_in_english(app, english_operator):
    text = shown(english_operator, JOURNAL)
    assert f'data-label="Event">New recovery codes<br><small><code>{CODES}</code></small></td>' in text
    assert 'data-label="Details">Count: 10</td>' in row(text, CODES)
    assert ">Account activated<br><small><code>account.activated</code></small>" in table(text)
    options = select(text)
    assert f'<option value="{CODES}">New recovery codes ({CODES})</option>' in options
    assert '<option value="auth.sign_in">Sign-in (auth.sign_in)</option>' in options
    assert_english(table(text) + options)


def test_an_accounts_recent_events_in_english(app, english_operator):
    text = shown(english_operator, account_page(app))
    assert "Recent events" in text
    assert f">New recovery codes<br><small><code>{CODES}</code></small>" in row(text, CODES)
    assert 'data-label="Details">Count: 10</td>' in row(text, CODES)
    assert_english(table(text))


# -- attacks ---------------------------------------------------------------------------------------


def test_attack_markup_in_details_and_codes_is_escaped(app, operator):
    """Details hold what people sent (a structure's changed fields, a reason)
    and events of older versions any code: none of it is markup on an
    operator's page."""
    record(app, Event.PROFILE_UPDATED, fields=["<script>alert(1)</script>"], **{"<b>": "<i>x</i>"})
    record(app, "<img src=x onerror=alert(2)>")
    text = shown(operator, JOURNAL)
    assert "<script>alert(1)" not in text and "<img src=x" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt; : &lt;i&gt;x&lt;/i&gt;" in text
    assert "<code>&lt;img src=x onerror=alert(2)&gt;</code>" in text


def test_codes_and_yes_or_no_in_details_read_as_words_in_the_pages_language(app):
    """« Motif : wrong_password », « Consentement : false » were the stored
    codes; a code this version does not know is still shown as it is."""
    details = (
        '{"reason": "wrong_password", "method": "recovery", "consent": true,'
        ' "known_device": false, "kind": "a-new-kind", "left": 9}'
    )
    with app.test_request_context():
        assert event_details(details) == [
            ("Motif", "mot de passe incorrect"),
            ("Méthode", "Code de secours"),
            ("Consentement", "oui"),
            ("Appareil connu", "non"),
            ("Méthode", "a-new-kind"),
            ("Codes de secours restants", "9"),
        ]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        pairs = event_details(details)
    assert pairs[:4] == [
        ("Reason", "wrong password"),
        ("Method", "Recovery code"),
        ("Consent", "yes"),
        ("Known device", "no"),
    ]
    assert pairs[5] == ("Recovery codes left", "9")
