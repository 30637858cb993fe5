"""Nobody can lock a chosen person out: per-account limits spare the browser
the owner signed in with before (device cookie), and per-address limits on
reset, resend and sign-up stop mails, never the person's next step."""

from __future__ import annotations

import re

import pytest

from models import OutboxMail, User, db
from tests.support.app import Client, HtmxClient, clean_environment, make_app, outbox
from tests.support.constants import CAPTCHA_ANSWER, PASSWORD
from tests.support.signup import PERSON, Signup, challenge_on

EMAIL = "marie.curie@exemple.fr"
WRONG = "Pas-le-bon-1234"


class Portal:
    """An app with its limits on, behind one trusted proxy: each browser is a
    test client, each client address an X-Forwarded-For."""

    def __init__(self, app, client_class):
        self.app = app
        self.client_class = client_class

    def browser(self) -> Client:
        self.app.test_client_class = self.client_class
        return self.app.test_client()

    def outbox(self, recipient=None) -> list[OutboxMail]:
        return outbox(self.app, recipient)

    def owner_browser(self) -> Client:
        """The owner's browser: it created the account, signed in, signed out."""
        browser = self.browser()
        signup = Signup(browser, self.outbox)
        signup.create_account()
        signup.activate()
        browser.submit("/deconnexion")
        return browser

    def failed_sign_ins(self) -> int:
        with self.app.app_context(), db.connection_context():
            return User.by_email(EMAIL).failed_sign_ins


@pytest.fixture(params=["page", "htmx"])
def portal(request, tmp_path, monkeypatch):
    clean_environment(monkeypatch)

    def build(**settings):
        app = make_app(tmp_path, RATELIMIT_ENABLED=True, TRUSTED_PROXIES=1, **settings)
        return Portal(app, HtmxClient if request.param == "htmx" else Client)

    return build


def at(address: str) -> dict:
    return {"headers": {"X-Forwarded-For": address}}


def sign_in(browser, password, address, email=EMAIL):
    return browser.submit("/connexion", {"email": email, "password": password}, **at(address))


def signed_in(response) -> bool:
    return response.status_code in (204, 303) and "/connexion" not in response.headers.get(
        "HX-Redirect", response.headers.get("Location", "")
    )


def test_lockout_of_owner_by_strangers_is_refused(portal):
    site = portal()
    owner = site.owner_browser()
    attacker = site.browser()
    answers = [sign_in(attacker, WRONG, f"203.0.113.{n % 2 + 1}").status_code for n in range(30)]
    assert answers[0] == 422 and answers[-1] == 429  # the strangers are throttled
    assert signed_in(sign_in(owner, PASSWORD, "198.51.100.9"))
    assert owner.get("/mon-compte/").status_code == 200


def test_a_stranger_with_the_right_password_is_still_throttled(portal):
    site = portal()
    site.owner_browser()
    attacker = site.browser()
    for n in range(12):
        sign_in(attacker, WRONG, f"203.0.113.{n % 2 + 1}")
    other_browser = site.browser()
    assert not signed_in(sign_in(other_browser, PASSWORD, "198.51.100.9"))


def test_failures_from_the_owner_browser_count_per_device_not_per_account(portal):
    site = portal(RATELIMIT_SIGN_IN_DEVICE="3 per minute")
    owner = site.owner_browser()
    for _ in range(3):
        assert sign_in(owner, WRONG, "198.51.100.9").status_code == 422
    assert sign_in(owner, PASSWORD, "198.51.100.9").status_code == 429
    assert site.failed_sign_ins() == 0  # the account's own delay did not move


def test_a_forged_device_cookie_is_not_believed(portal):
    site = portal()
    site.owner_browser()
    forger = site.browser()
    forger.set_cookie("device", "eyIxIjp7ImUiOjEsIm4iOiJ4IiwidCI6MH19.forged.signature")
    for n in range(12):
        sign_in(forger, WRONG, f"203.0.113.{n % 2 + 1}")
    assert site.failed_sign_ins() >= 5
    assert not signed_in(sign_in(forger, PASSWORD, "203.0.113.7"))


def test_a_device_cookie_for_another_account_exempts_nothing(portal):
    site = portal()
    site.owner_browser()
    mallory = site.browser()
    Signup(mallory, site.outbox).create_account(
        email="mallory@exemple.fr", email_confirm="mallory@exemple.fr", first_name="Mallory"
    )
    Signup(mallory, site.outbox).activate(email="mallory@exemple.fr")
    mallory.submit("/deconnexion")
    for n in range(12):
        sign_in(mallory, WRONG, f"203.0.113.{n % 2 + 1}")
    assert site.failed_sign_ins() >= 5


def test_the_device_cookie_is_signed_http_only_and_survives_sign_out(portal):
    site = portal()
    owner = site.owner_browser()
    cookie = owner.get_cookie("device")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert EMAIL not in cookie.value  # names the account by id only, signed


# -- per-address limits stop mails, never the next step -------------------------------------


def test_reset_requests_by_strangers_do_not_block_the_owner_page(portal):
    site = portal(RATELIMIT_RESET_EMAIL="2 per hour", RESEND_COOLDOWN_SECONDS=0)
    site.owner_browser()
    stranger = site.browser()
    for n in range(5):
        response = stranger.submit("/mot-de-passe-oublie/", {"email": EMAIL}, **at(f"203.0.113.{n}"))
        assert response.status_code in (200, 303)
    owner = site.browser()
    response = owner.submit("/mot-de-passe-oublie/", {"email": EMAIL}, **at("198.51.100.9"))
    assert response.status_code in (200, 303)
    page = owner.get("/mot-de-passe-oublie/envoye").get_data(as_text=True)
    assert EMAIL in page
    resets = [m for m in site.outbox(EMAIL) if "Réinitialisez" in m.subject]
    assert len(resets) == 2  # the limit stopped the mails, not the pages


def test_lockout_of_sign_up_by_wrong_captcha_answers_is_refused(portal):
    site = portal()
    attacker = site.browser()
    for n in range(22):
        address = at(f"203.0.113.{n % 3 + 1}")
        attacker.submit("/inscription/", PERSON, **address)
        page = attacker.get("/inscription/captcha", **address).get_data(as_text=True)
        data = {"challenge_id": challenge_on(page), "answer": "WRONG1"}
        answer = attacker.submit("/inscription/captcha", data, **address)
        assert answer.status_code == 422
    victim = site.browser()
    signup = Signup(victim, site.outbox)
    signup.personal_info()
    response = signup.captcha()
    assert response.status_code in (200, 303)
    assert signup.activation_path(EMAIL)


def test_sign_up_mails_per_address_are_limited_without_a_429(portal):
    site = portal(RATELIMIT_CAPTCHA_EMAIL="1 per hour")
    for n in range(3):
        browser = site.browser()
        signup = Signup(browser, site.outbox)
        browser.submit("/inscription/", PERSON, **at(f"203.0.113.{n + 1}"))
        response = signup.captcha()
        assert response.status_code in (200, 303)
    assert len(site.outbox(EMAIL)) == 1


def test_resend_by_strangers_does_not_block_the_owner_page(portal):
    site = portal(RATELIMIT_RESEND_EMAIL="1 per hour", RESEND_COOLDOWN_SECONDS=0)
    browser = site.browser()
    Signup(browser, site.outbox).create_account()
    before = len(site.outbox(EMAIL))
    for n in range(4):
        stranger = site.browser()
        response = stranger.submit("/inscription/renvoyer", {"email": EMAIL}, **at(f"203.0.113.{n}"))
        assert response.status_code in (200, 303)
    assert len(site.outbox(EMAIL)) == before + 1


def test_my_account_mails_no_address_without_end_attack_contact_email_mail_bomb(portal):
    """Switching the contact e-mail back and forth mailed a link each time:
    a signed-in account could mail any address without end. The links stop
    at the limits (per address, per account); past them the new address is
    refused next to its field (422), the current one kept."""
    site = portal(RATELIMIT_CONTACT_EMAIL="3 per hour", RATELIMIT_CONTACT_EMAIL_ACCOUNT="5 per hour")
    owner = site.browser()
    signup = Signup(owner, site.outbox)
    signup.create_account()
    signup.activate()
    victims = ["victime@exemple.org", "victime2@exemple.org"]
    answers = []
    for turn in range(8):
        contact = victims[turn % 2]
        profile = {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": contact}
        answers.append(owner.submit("/mon-compte/informations", profile))
    assert [len(site.outbox(victim)) for victim in victims] == [3, 2]  # the account's 5, each address ≤ 3
    # The sixth change is refused; the seventh names the address kept: nothing to save.
    assert [answer.status_code for answer in answers[5:]] in ([422, 303, 422], [422, 200, 422])
    assert_too_many_links_at_field(answers[-1])
    with site.app.app_context(), db.connection_context():
        assert User.by_email(EMAIL).contact_email == victims[0]  # the fifth change, the last with a link
    resent = owner.submit("/mon-compte/adresse-de-contact/renvoyer")
    assert "Trop de liens de confirmation" in follow_text(owner, resent)
    assert len(site.outbox(victims[0])) == 3


def assert_too_many_links_at_field(response) -> None:
    """The refusal is the contact e-mail field's error, linked to it."""
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    error = text.split('id="contact_email-error"', 1)[1].split("</p>", 1)[0]
    assert "Trop de liens de confirmation ont été envoyés" in error
    [control] = re.findall(r'<input[^>]*\bid="contact_email"[^>]*>', text)
    assert "contact_email-error" in control and 'aria-invalid="true"' in control


def follow_text(browser, response) -> str:
    if response.status_code == 303:
        response = browser.get(response.headers["Location"])
    return response.get_data(as_text=True)


def test_one_address_gets_no_more_links_from_many_accounts_attack_contact_email_mail_bomb(portal):
    """Several accounts naming one victim as their contact e-mail: the
    per-address limit holds, whatever each account's own allowance."""
    site = portal(RATELIMIT_CONTACT_EMAIL="2 per hour", RATELIMIT_CONTACT_EMAIL_ACCOUNT="100 per hour")
    victim, other = "victime@exemple.org", "autre@exemple.org"
    answers = []
    for n in range(3):
        email = f"compte{n}@exemple.fr"
        browser = site.browser()
        signup = Signup(browser, site.outbox)
        signup.create_account(email=email, email_confirm=email)
        signup.activate(email=email)
        for contact in (victim, other):
            profile = {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": contact}
            answers.append(follow_text(browser, browser.submit("/mon-compte/informations", profile)))
        own = {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": email}
        browser.submit("/mon-compte/informations", own)  # its own address: no link, nothing counted
    assert len(site.outbox(victim)) == 2 and len(site.outbox(other)) == 2
    assert "Trop de liens de confirmation" in answers[-2]  # the third account's link to the victim
    assert "Trop de liens de confirmation" not in answers[0]


def activated_account(site, email: str, address: str, contact: str = ""):
    """An account signed up and activated from ``address``, naming ``contact``
    at step 2; its browser and the activation's answer."""
    browser = site.browser()
    signup = Signup(browser, site.outbox)
    signup.personal_info(email=email, email_confirm=email, contact_email=contact, **at(address))
    page = browser.get("/inscription/captcha", **at(address)).get_data(as_text=True)
    browser.submit(
        "/inscription/captcha", {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER}, **at(address)
    )
    path = signup.activation_path(email)
    answer = browser.submit(path, {"password": PASSWORD, "password_confirm": PASSWORD}, **at(address))
    return browser, answer


def test_attack_sign_ups_naming_one_contact_address_mail_it_within_its_limit(portal):
    """Step 2's contact e-mail is mailed its link at activation, and those
    links counted against no limit: accounts signed up from as many client
    addresses, each naming the victim, mailed her once each. They now count
    against the victim's limit; past it the account is active all the same,
    told that no link left."""
    site = portal(RATELIMIT_CONTACT_EMAIL="2 per hour")
    victim = "victime@exemple.org"
    answers = []
    for n in range(4):
        browser, answer = activated_account(site, f"compte{n}@exemple.fr", f"203.0.113.{n}", contact=victim)
        assert answer.status_code in (200, 303)
        answers.append(follow_text(browser, answer))
    assert len(site.outbox(victim)) == 2
    assert "Trop de liens de confirmation" not in answers[1]
    assert "aucun lien n&#39;est parti vers votre adresse de contact" in answers[2]
    with site.app.app_context(), db.connection_context():
        last = User.by_email("compte3@exemple.fr")
        assert last.is_active and last.contact_email == victim and not last.contact_email_confirmed


def test_attack_accounts_of_one_client_address_share_its_contact_links(portal):
    """Each account had its own allowance of contact links, and a client
    address may make many accounts: one address could mail the accounts'
    allowances together. They now share the address's limit."""
    site = portal(RATELIMIT_CONTACT_EMAIL_CLIENT="4 per hour", RATELIMIT_CONTACT_EMAIL_ACCOUNT="3 per hour")
    answers = []
    for n in range(3):
        browser, _answer = activated_account(site, f"compte{n}@exemple.fr", "203.0.113.7")
        for turn in range(3):
            profile = {
                "first_name": "Marie",
                "last_name": "Curie",
                "phone": "",
                "contact_email": f"c{n}-{turn}@exemple.org",
            }
            answers.append(browser.submit("/mon-compte/informations", profile, **at("203.0.113.7")))
    sent = [mail for mail in site.outbox() if mail.recipient.endswith("@exemple.org")]
    assert len(sent) == 4
    assert_too_many_links_at_field(answers[-1])
    # Another client address is not held back by this one.
    browser, _answer = activated_account(site, "ailleurs@exemple.fr", "198.51.100.8")
    profile = {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": "d@exemple.org"}
    assert browser.submit("/mon-compte/informations", profile, **at("198.51.100.8")).status_code in (200, 303)
    assert len(site.outbox("d@exemple.org")) == 1


def test_attack_contact_link_refusal_tells_nothing_of_the_address(portal):
    """Refused by the address's limit (others mailed it: it may be someone's
    contact address) or by the account's own, the answer is the same, and
    the same for an address that is another account's login e-mail."""
    site = portal(RATELIMIT_CONTACT_EMAIL="1 per hour", RATELIMIT_CONTACT_EMAIL_ACCOUNT="3 per hour")
    _browser, _answer = activated_account(site, "autre@exemple.fr", "198.51.100.1")
    first, _answer = activated_account(site, "premier@exemple.fr", "198.51.100.2")
    second, _answer = activated_account(site, "second@exemple.fr", "198.51.100.3")

    def change(browser, contact, address):
        profile = {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": contact}
        return browser.submit("/mon-compte/informations", profile, **at(address))

    assert change(first, "victime@exemple.org", "198.51.100.2").status_code in (200, 303)
    by_address = change(second, "victime@exemple.org", "198.51.100.3")  # the victim's limit
    assert change(second, "autre@exemple.fr", "198.51.100.3").status_code in (200, 303)
    assert change(second, "x@exemple.org", "198.51.100.3").status_code in (200, 303)
    by_account = change(second, "autre2@exemple.org", "198.51.100.3")  # the account's limit
    assert_too_many_links_at_field(by_address)
    assert_too_many_links_at_field(by_account)

    def field_error(response):
        return response.get_data(as_text=True).split('id="contact_email-error"', 1)[1].split("</p>", 1)[0]

    assert field_error(by_address) == field_error(by_account)


def test_a_refused_contact_address_says_the_other_changes_are_not_saved_either(portal):
    """Past the links' limits « Mon compte » saves nothing of the form, the
    name and phone changed with the address included: the field's message
    said only that the address was not saved, so the person left the page
    believing their new name or phone kept."""
    site = portal(RATELIMIT_CONTACT_EMAIL_ACCOUNT="1 per hour")
    owner = site.browser()
    signup = Signup(owner, site.outbox)
    signup.create_account()
    signup.activate()
    owner.submit(
        "/mon-compte/informations",
        {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": "a@exemple.org"},
    )
    refused = owner.submit(
        "/mon-compte/informations",
        {"first_name": "Maria", "last_name": "Skłodowska", "phone": "", "contact_email": "b@exemple.org"},
    )
    assert_too_many_links_at_field(refused)
    error = refused.get_data(as_text=True).split('id="contact_email-error"', 1)[1].split("</p>", 1)[0]
    assert "aucune de vos modifications n&#39;est enregistrée" in error
    with site.app.app_context(), db.connection_context():
        kept = User.by_email(EMAIL)
        assert (kept.first_name, kept.last_name, kept.contact_email) == ("Marie", "Curie", "a@exemple.org")
