"""Changes a signed-in person makes to what the portal keeps of them are
limited per account, whatever the client address: each is a row of the
account's history (« Mes données » reads them all) and some a mail. Without
a limit, one session toggled the survey's consent thousands of times (5,000
toggles: « Mes données » took 383 ms and 1.7 MB where it took 12 ms and
7 KB) or asked for new recovery codes in a loop, one mail each."""

from __future__ import annotations

import pytest

from models import AuditEvent, ConsentChange, Membership, OutboxMail, SecondFactor, Structure, User, utcnow
from tests.support.app import limited_app, outbox, query
from tests.support.constants import EMAIL
from tests.support.responses import text_of
from tests.support.second_factor import FACTORS, enrol_totp
from tests.support.signup import PERSON
from tests.support.structures import LUCIE, create_structure, new_client

PROFILE = {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": ""}
OFFICES = [{"X-Forwarded-For": f"198.51.100.{n}"} for n in range(10)]


class Portal:
    def __init__(self, app, htmx: bool):
        self.app, self.htmx = app, htmx

    def person(self, person: dict = PERSON):
        """A browser of its own, signed in as ``person`` (signed up just now)."""
        return new_client(self.app, lambda r=None: outbox(self.app, r), person, htmx=self.htmx)


@pytest.fixture(params=["page", "htmx"])
def portal(request, tmp_path, monkeypatch):
    """``portal(**limits)``: an app with its limits on and ``limits`` set,
    and its browsers, full-page or htmx."""
    return lambda **limits: Portal(
        limited_app(tmp_path, monkeypatch, TRUSTED_PROXIES=1, **limits), request.param == "htmx"
    )


def past_the_limit(response) -> bool:
    """Refused by a limit: the 429 itself, or, for a form sent from its own
    page without JavaScript, back to that page with the notice (Retry-After)."""
    return response.status_code == 429 or "Retry-After" in response.headers


def count(app, model) -> int:
    return query(app, lambda: model.select().count())


def test_attack_toggling_the_survey_consent_is_limited_per_account(portal):
    site = portal(RATELIMIT_ACCOUNT_CHANGE_ACCOUNT="4 per hour")
    marie = site.person()
    before = count(site.app, ConsentChange)
    for n in range(4):
        consent = {"survey_consent": "y"} if n % 2 == 0 else {}
        answer = marie.submit("/mon-compte/enquete", consent, headers=OFFICES[n])
        assert answer.status_code in (200, 303), text_of(answer)
    assert count(site.app, ConsentChange) == before + 4
    answer = marie.submit("/mon-compte/enquete", {"survey_consent": "y"}, headers=OFFICES[9])
    assert past_the_limit(answer)
    assert count(site.app, ConsentChange) == before + 4


def test_attack_editing_the_profile_again_and_again_is_limited_per_account(portal):
    site = portal(RATELIMIT_ACCOUNT_CHANGE_ACCOUNT="4 per hour")
    marie = site.person()
    before = count(site.app, AuditEvent)
    for n in range(4):
        profile = {**PROFILE, "first_name": "Maria" if n % 2 == 0 else "Marie"}
        answer = marie.submit("/mon-compte/informations", profile, headers=OFFICES[n])
        assert answer.status_code in (200, 303), text_of(answer)
    assert count(site.app, AuditEvent) == before + 4
    own_page = {"Sec-Fetch-Site": "same-origin", "Referer": "http://localhost/mon-compte/"}
    answer = marie.submit(
        "/mon-compte/informations", {**PROFILE, "first_name": "Mariette"}, headers={**OFFICES[9], **own_page}
    )
    assert past_the_limit(answer)
    if not site.htmx:  # back to « Mon compte », the notice above what was typed (htmx keeps its page)
        page = marie.get(answer.headers["Location"]).get_data(as_text=True)
        assert "Patientez" in page and 'value="Mariette"' in page
    assert count(site.app, AuditEvent) == before + 4
    assert query(site.app, lambda: User.get(User.email == EMAIL).first_name) == "Marie"


def test_attack_handing_a_structure_back_and_forth_is_limited_per_account(portal):
    """Two accounts of one person passing the role between them: each
    hand-over mails the new gestionnaire principal."""
    site = portal(RATELIMIT_ACCOUNT_CHANGE_ACCOUNT="1 per hour")
    marie = site.person()
    assert create_structure(marie).status_code in (200, 303)
    lucie = site.person(LUCIE)
    query(site.app, lambda: _member(LUCIE["email"]))
    hers, mine = (query(site.app, lambda e=e: _membership(e)) for e in (LUCIE["email"], EMAIL))
    handed = {"confirm": "y"}
    assert marie.submit("/structure/1/gestionnaire", {**handed, "member": hers}).status_code in (200, 303)
    assert lucie.submit("/structure/1/gestionnaire", {**handed, "member": mine}).status_code in (200, 303)
    mails = count(site.app, OutboxMail)
    answer = marie.submit("/structure/1/gestionnaire", {**handed, "member": hers}, headers=OFFICES[9])
    assert past_the_limit(answer)
    assert count(site.app, OutboxMail) == mails
    assert query(site.app, lambda: _role(EMAIL)) == Membership.MANAGER


def _member(email: str) -> None:
    Membership.create(
        user=User.get(User.email == email), structure=Structure.get(), status=Membership.ACTIVE,
        decided_at=utcnow(),
    )  # fmt: skip


def _membership(email: str) -> int:
    return Membership.get(Membership.user == User.get(User.email == email)).id


def _role(email: str) -> str:
    return Membership.get(Membership.user == User.get(User.email == email)).role


def test_attack_asking_for_new_recovery_codes_in_a_loop_is_limited_per_account(portal):
    """Each new set of codes mails the account (« Vos méthodes de connexion
    ont été modifiées »)."""
    site = portal(RATELIMIT_FACTOR_CHANGE_ACCOUNT="3 per hour")
    marie = site.person()
    enrol_totp(marie)
    mails = count(site.app, OutboxMail)
    for n in range(3):
        answer = marie.submit(f"{FACTORS}codes-de-secours", headers=OFFICES[n])
        assert answer.status_code in (200, 303), text_of(answer)
    assert count(site.app, OutboxMail) == mails + 3
    answer = marie.submit(f"{FACTORS}codes-de-secours", headers=OFFICES[9])
    assert past_the_limit(answer)
    assert count(site.app, OutboxMail) == mails + 3


def test_attack_removing_factors_in_a_loop_is_limited_per_account(portal):
    """A second factor removed mails the account too: past its limit (each
    form keeps its own count), a removal is refused and nothing goes."""
    site = portal(RATELIMIT_FACTOR_CHANGE_ACCOUNT="1 per hour")
    marie = site.person()
    enrol_totp(marie)
    factor = query(site.app, lambda: SecondFactor.get(SecondFactor.kind == SecondFactor.TOTP).id)
    assert not past_the_limit(marie.submit(f"{FACTORS}retirer/{factor + 100}", headers=OFFICES[0]))
    mails = count(site.app, OutboxMail)
    answer = marie.submit(f"{FACTORS}retirer/{factor}", {"turn_off": "y"}, headers=OFFICES[9])
    assert past_the_limit(answer)
    assert query(site.app, lambda: SecondFactor.get_or_none(SecondFactor.id == factor)) is not None
    assert count(site.app, OutboxMail) == mails


def test_one_accounts_changes_spend_nothing_of_another_accounts(portal):
    site = portal(RATELIMIT_ACCOUNT_CHANGE_ACCOUNT="2 per hour")
    marie, lucie = site.person(), site.person(LUCIE)
    for consent in ({"survey_consent": "y"}, {}):
        assert not past_the_limit(marie.submit("/mon-compte/enquete", consent, headers=OFFICES[0]))
    assert past_the_limit(marie.submit("/mon-compte/enquete", {}, headers=OFFICES[0]))
    answer = lucie.submit("/mon-compte/enquete", {"survey_consent": "y"}, headers=OFFICES[0])
    assert answer.status_code in (200, 303) and not past_the_limit(answer)
