"""What the browser tests do, as a person would: the mail they read, the steps
they go through (``Visitor``), the keyboard, and the checks made on every page
(axe-core, screenshots at desktop and phone width).

``Visitor`` has one method per step of the journey, the structure steps
included; ``http_sign_up`` and ``http_create_structure`` make the starting
point of a test whose subject comes later."""

from __future__ import annotations

import re
import secrets
import time
import weakref
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path

from playwright.sync_api import APIRequestContext, Locator, Page, expect
from stdnum import luhn

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

CAPTCHA_ANSWER = "K7MX3P"
PASSWORD = "Correct-Cheval-42"
PHONE = {"width": 375, "height": 740}

# Headings of the steps, as the person reads them.
HOME = "Créer un compte et une structure en quelques clics"
PERSONAL_INFO = "Informations personnelles"
CAPTCHA = "Validez le Captcha"
MAIL_SENT = "Vérifiez votre messagerie"
SET_PASSWORD = "Mise à jour du mot de passe"
SIGN_IN = "Se connecter"
STRUCTURE_PATH = "/structure/"
STRUCTURE_CHOICE = "Créer une nouvelle structure"
STRUCTURE_FORM = "Renseignez les informations générales"
STRUCTURE_FORM_PATH = "/structure/nouvelle"
SPACE = "Mon espace"
SPACE_PATH = "/espace/"
APPROVALS = "Approbations"
APPROVALS_PATH = "/approbations/"
ACCOUNT = "Mon compte"
ACCOUNT_PATH = "/mon-compte/"
CREATED = "Votre compte est désormais actif et vous êtes rattaché à une structure."
ATTACHED = "vous êtes rattaché à une structure"
EXISTS = "Cette structure existe déjà"


# -- mail --------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every mail it accepts."""

    def __init__(self):
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.port: int | None = None

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(([address.lower() for address in envelope.rcpt_tos], message))
        return "250 Message accepted"

    def received(self, recipient: str, subject: str | None = None) -> list[EmailMessage]:
        recipient = recipient.lower()
        return [
            message
            for recipients, message in list(self.messages)
            # Subjects start with the portal's name: « Portail Structures – Activez… ».
            if recipient in recipients and (subject is None or message["Subject"].endswith(f" – {subject}"))
        ]

    def wait_for(self, recipient: str, subject: str | None = None, count: int = 1, timeout: float = 10.0):
        """The ``count``-th mail to ``recipient`` (with that subject), once it has arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.received(recipient, subject)
            if len(found) >= count:
                return found[count - 1]
            if time.monotonic() > deadline:
                subjects = [m["Subject"] for m in self.received(recipient)]
                raise AssertionError(f"no mail #{count} {subject!r} for {recipient} (received: {subjects})")
            time.sleep(0.02)

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @classmethod
    def link_in(cls, message: EmailMessage) -> str:
        """The first link of the mail's text, as a person would copy it."""
        match = re.search(r"https?://\S+", cls.text(message))
        assert match, f"no link in the mail {message['Subject']!r}"
        return match.group(0)


# -- people ------------------------------------------------------------------


@dataclass
class Person:
    email: str
    first_name: str = "Marie"
    last_name: str = "Curie"
    phone: str = "01 23 45 67 89"
    password: str = PASSWORD

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def new_person(tag: str = "marie", **changes) -> Person:
    """Someone with an e-mail address no other test uses."""
    return Person(email=f"{tag}.{secrets.token_hex(4)}@exemple.fr", **changes)


# -- structures ----------------------------------------------------------------


def new_siret() -> str:
    """A valid SIRET no other test uses: a random SIREN with its Luhn key,
    then an establishment number whose last digit makes all 14 Luhn-valid."""
    siren = "".join(secrets.choice("0123456789") for _ in range(8))
    siren += luhn.calc_check_digit(siren)
    number = siren + "".join(secrets.choice("0123456789") for _ in range(4))
    return number + luhn.calc_check_digit(number)


@dataclass
class Company:
    siret: str
    name: str = "Ateliers Curie"
    address: str = "12 rue de la Paix"
    city: str = "Paris"
    postal_code: str = "75002"


def new_company(name: str = "Ateliers Curie", **changes) -> Company:
    """A company with a SIRET of its own."""
    return Company(siret=new_siret(), name=f"{name} {secrets.token_hex(2).upper()}", **changes)


# -- set-ups through plain HTTP requests ------------------------------------------
# What a test only needs as a starting point (an active account, a structure)
# is made with the browser context's request API: the same forms, the same
# cookies, without drawing each page. The journeys do it all in the page.


def _form_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*\bvalue="([^"]*)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def _post(http: APIRequestContext, url: str, form: dict, *, from_url: str | None = None) -> str:
    """Submit a form as the browser would: the CSRF token of the page it is on."""
    page = http.get(from_url or url)
    assert page.ok, f"GET {from_url or url}: {page.status}"
    response = http.post(url, form={"csrf_token": _form_value(page.text(), "csrf_token"), **form})
    assert response.ok, f"POST {url}: {response.status}\n{response.text()[:2000]}"
    return response.text()


def http_sign_up(http: APIRequestContext, inbox: Inbox, person: Person) -> None:
    """An active account for ``person``, signed in in that browser context."""
    _post(
        http,
        "/inscription/",
        {
            "email": person.email,
            "email_confirm": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "phone": person.phone,
            "terms": "y",
        },
    )
    captcha = http.get("/inscription/captcha").text()
    _post(
        http,
        "/inscription/captcha",
        {"challenge_id": _form_value(captcha, "challenge_id"), "answer": CAPTCHA_ANSWER},
        from_url="/inscription/captcha",
    )
    link = Inbox.link_in(inbox.wait_for(person.email, "Activez votre compte"))
    _post(http, link, {"password": person.password, "password_confirm": person.password})


def http_create_structure(http: APIRequestContext, company: Company) -> None:
    page = _post(
        http,
        STRUCTURE_FORM_PATH,
        {
            "identifier_type": "siret",
            "identifier": company.siret,
            "company_name": company.name,
            "address": company.address,
            "city": company.city,
            "postal_code": company.postal_code,
            "country": "FR",
        },
    )
    assert CREATED in page, "the structure was not created"


# -- checks on a page ----------------------------------------------------------


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html.slice(0, 160),
                                 summary: (n.failureSummary || "").replace(/\\s+/g, " ")})),
  }));
}"""


# Pages opened with JavaScript disabled: the DevTools protocol still evaluates
# scripts there, but timers (and queueMicrotask) never fire, and axe.run waits
# on them; promise callbacks do run.
_WITHOUT_JAVASCRIPT: weakref.WeakSet = weakref.WeakSet()
TIMERS_AS_PROMISES = """() => {
  window.setTimeout = (callback, _delay, ...args) => {
    Promise.resolve().then(() => callback(...args));
    return 0;
  };
  window.clearTimeout = () => {};
}"""


def without_javascript(page: Page) -> Page:
    """Record that ``page`` was opened with JavaScript disabled."""
    _WITHOUT_JAVASCRIPT.add(page)
    return page


def check_axe(page: Page, state: str = "") -> None:
    """axe-core (from node_modules) finds no WCAG 2.1 A/AA violation on the page.

    The script is evaluated through the DevTools protocol, which the page's
    CSP does not govern, so the page needs no relaxed policy to be checked."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        if page in _WITHOUT_JAVASCRIPT:
            page.evaluate(TIMERS_AS_PROMISES)
        page.evaluate(_axe_source())
    violations = page.evaluate(AXE_RUN, WCAG_TAGS)
    if violations:
        lines = [f"axe: {len(violations)} violation(s) on {page.url} {state}".rstrip()]
        for v in violations:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['url']}>")
            for node in v["nodes"][:5]:
                lines.append(f"    {node['target']}: {node['html']}")
                lines.append(f"      {node['summary']}")
        raise AssertionError("\n".join(lines))


class Screenshots:
    """Full-page screenshots of a test's steps, at desktop then phone width;
    at phone width the page must not scroll sideways."""

    def __init__(self, folder: Path, prefix: str):
        self.folder = folder
        self.prefix = prefix
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, step: str) -> None:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        base = self.folder / f"{self.prefix}-{self.count:02d}-{slug}"
        page.screenshot(path=f"{base}-desktop.png", full_page=True, animations="disabled")
        desktop = page.viewport_size
        page.set_viewport_size(PHONE)
        try:
            page.screenshot(path=f"{base}-phone.png", full_page=True, animations="disabled")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{step}: at {PHONE['width']} px the page is {width} px wide"
        finally:
            page.set_viewport_size(desktop)


def check_page(page: Page, shots: Screenshots | None, step: str) -> None:
    """What every page and every error state goes through."""
    check_axe(page, step)
    if shots is not None:
        shots.take(page, step)


# -- the keyboard ----------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body", name: "", id: "", type: ""};
  let name = el.getAttribute("aria-label") || "";
  if (!name && el.labels && el.labels.length) {
    const label = el.labels[0].cloneNode(true);
    label.querySelectorAll("[aria-hidden=true]").forEach((hidden) => hidden.remove());
    name = label.textContent;
  }
  if (!name) name = el.textContent || el.value || "";
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
    || style.boxShadow !== "none";
  return {tag: el.tagName.toLowerCase(), type: el.type || "", id: el.id,
          name: name.replace(/\\s+/g, " ").trim(), indicator: ring};
}"""


def focused(page: Page) -> dict:
    """The element that has the focus: tag, type, id and accessible name."""
    return page.evaluate(FOCUSED)


def _matches(name: str, wanted: str | re.Pattern) -> bool:
    if isinstance(wanted, re.Pattern):
        return bool(wanted.search(name))
    return name == wanted


def tab_to(page: Page, wanted: str | re.Pattern, *, backwards: bool = False, limit: int = 40) -> dict:
    """Press Tab (or Shift+Tab) until the element named ``wanted`` has the
    focus; every element on the way must show a focus indicator."""
    key = "Shift+Tab" if backwards else "Tab"
    path = []
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        path.append(now["name"] or now["tag"])
        if now["tag"] not in ("body", "audio", "video"):
            assert now["indicator"], f"no visible focus on {now} (after {path})"
        if _matches(now["name"], wanted):
            return now
    raise AssertionError(f"{wanted!r} never got the focus with {key}; the focus went through {path}")


def expect_focus(page: Page, wanted: str | re.Pattern, tag: str | None = None) -> dict:
    """The focus is (or soon is) on the element named ``wanted``."""
    deadline = time.monotonic() + 5
    while True:
        now = focused(page)
        if _matches(now["name"], wanted) and (tag is None or now["tag"] == tag):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"the focus is on {now}, not on {wanted!r}")
        time.sleep(0.02)


# -- a person going through the portal -----------------------------------------


class Visitor:
    """One person in one browser tab. With ``javascript`` the steps swap in
    place under htmx; without it, every form is a plain POST and a 303."""

    def __init__(self, page: Page, inbox: Inbox, javascript: bool = True):
        self.page = page
        self.inbox = inbox
        self.javascript = javascript
        self.person: Person | None = None
        self.company: Company | None = None  # the structure this person manages, if any

    # -- reading the page
    @property
    def heading(self) -> Locator:
        return self.page.locator("main h1")

    def expect_step(self, title: str) -> None:
        expect(self.heading).to_have_text(title)

    def expect_path(self, path: str) -> None:
        expect(self.page).to_have_url(re.compile(re.escape(path) + r"(\?.*)?$"))

    def field(self, label: str) -> Locator:
        """The field with that label (the label may end with the required mark « * »)."""
        return self.page.get_by_label(re.compile(rf"^\s*\*?\s*{re.escape(label)}\s*\*?\s*$"))

    def error_for(self, label: str) -> Locator:
        """The error message shown next to a field (linked by aria-describedby)."""
        field_id = self.field(label).get_attribute("id")
        return self.page.locator(f"#{field_id}-error")

    @property
    def error_summary(self) -> Locator:
        return self.page.locator(".error-summary")

    def button(self, name: str) -> Locator:
        return self.page.get_by_role("button", name=name, exact=True)

    def link(self, name: str) -> Locator:
        return self.page.get_by_role("link", name=name, exact=True)

    @property
    def account_nav(self) -> Locator:
        return self.page.get_by_role("navigation", name="Compte")

    def expect_signed_in(self, person: Person) -> None:
        expect(self.account_nav).to_contain_text(person.full_name)
        expect(self.account_nav.get_by_role("button", name="Se déconnecter")).to_be_visible()

    def expect_signed_out(self) -> None:
        expect(self.account_nav.get_by_role("link", name="Se connecter")).to_be_visible()

    # -- same document (JavaScript on): no full reload between steps
    def mark_document(self) -> None:
        self.page.evaluate("() => { window.__sameDocument = true; }")

    def expect_same_document(self) -> None:
        assert self.page.evaluate("() => window.__sameDocument === true"), "the page was fully reloaded"

    def expect_announced(self, text: str | re.Pattern) -> None:
        expect(self.page.locator("#announcer")).to_have_text(text)

    # -- the steps
    def start_signup(self) -> None:
        self.page.goto("/")
        self.expect_step(HOME)
        self.link("Créer un compte").click()
        self.expect_step(PERSONAL_INFO)

    def fill_personal_info(self, person: Person, *, terms: bool = True, survey: bool = False) -> None:
        self.field("Adresse e-mail").fill(person.email)
        self.field("Confirmez votre adresse e-mail").fill(person.email)
        self.field("Prénom").fill(person.first_name)
        self.field("Nom").fill(person.last_name)
        self.field("Téléphone").fill(person.phone)
        if survey:
            self.page.get_by_label("J'accepte que mon nom").check()
        if terms:
            self.field("J'accepte les conditions").check()

    def submit_personal_info(self) -> None:
        self.button("Continuer").click()

    def solve_captcha(self, answer: str = CAPTCHA_ANSWER) -> None:
        self.field("Reproduire la suite de caractères").fill(answer)
        self.button("Valider le Captcha").click()

    def create_account(self, person: Person | None = None) -> Person:
        """From the home page to « Vérifiez votre messagerie »."""
        person = person or new_person()
        self.person = person
        self.start_signup()
        self.fill_personal_info(person)
        self.submit_personal_info()
        self.expect_step(CAPTCHA)
        self.solve_captcha()
        self.expect_step(MAIL_SENT)
        return person

    def activation_link(self, person: Person | None = None, count: int = 1) -> str:
        """The link of the newest activation mail, once ``count`` have arrived."""
        person = person or self.person
        self.inbox.wait_for(person.email, "Activez votre compte", count)
        return self.inbox.link_in(self.inbox.received(person.email, "Activez votre compte")[-1])

    def open_activation_link(self, person: Person | None = None) -> None:
        self.page.goto(self.activation_link(person))
        self.expect_step(SET_PASSWORD)

    def set_password(self, password: str, confirm: str | None = None) -> None:
        self.field("Nouveau mot de passe").fill(password)
        self.field("Confirmation du nouveau mot de passe").fill(password if confirm is None else confirm)
        self.button("Soumettre").click()

    def expect_structure_step(self) -> None:
        self.expect_path(STRUCTURE_PATH)
        expect(self.page.locator("main .stepper")).to_contain_text("Étape 5 sur 6")

    def create_and_activate(self, person: Person | None = None) -> Person:
        """A new account, activated from its mail, signed in on the structure step."""
        person = self.create_account(person)
        self.open_activation_link(person)
        self.set_password(person.password)
        self.expect_structure_step()
        self.expect_signed_in(person)
        return person

    def sign_out(self) -> None:
        self.account_nav.get_by_role("button", name="Se déconnecter").click()
        self.expect_signed_out()

    def sign_in(self, person: Person, password: str | None = None) -> None:
        self.account_nav.get_by_role("link", name="Se connecter").click()
        self.expect_step(SIGN_IN)
        self.field("Adresse e-mail").fill(person.email)
        self.field("Mot de passe").fill(person.password if password is None else password)
        self.button("Se connecter").click()

    def sign_up_quickly(self, person: Person | None = None) -> Person:
        """An active account, signed in, made through plain requests (see
        ``http_sign_up``): for tests whose subject comes later."""
        person = person or new_person()
        self.person = person
        http_sign_up(self.page.request, self.inbox, person)
        return person

    # -- the header
    def nav_link(self, name: str) -> Locator:
        return self.account_nav.get_by_role("link", name=name, exact=True)

    def expect_current_nav(self, name: str | None) -> None:
        """aria-current="page" is on that link of the header, and on no other."""
        current = self.account_nav.locator("[aria-current=page]")
        if name is None:
            expect(current).to_have_count(0)
        else:
            expect(current).to_have_text([name])

    # -- mail
    def open_link_from_mail(self, subject: str, count: int = 1) -> None:
        """Open the link of the ``count``-th mail with that subject, as the person would."""
        self.page.goto(Inbox.link_in(self.inbox.wait_for(self.person.email, subject, count)))

    # -- structures
    @property
    def main(self) -> Locator:
        return self.page.locator("main")

    @property
    def identifier(self) -> Locator:
        """The identifier's field, whatever its label (it follows the type)."""
        return self.page.locator("#identifier")

    def start_new_structure(self) -> None:
        self.link(STRUCTURE_CHOICE).click()
        self.expect_step(STRUCTURE_FORM)
        self.expect_path(STRUCTURE_FORM_PATH)

    def fill_structure(self, company: Company, *, non_diffusible: bool = False) -> None:
        """Informations générales and Adresse postale, the identifier type
        left at SIRET (its default)."""
        self.identifier.fill(company.siret)
        self.field("Raison sociale").fill(company.name)
        self.field("Adresse").fill(company.address)
        self.field("Ville").fill(company.city)
        self.field("Code postal").fill(company.postal_code)
        if non_diffusible:
            self.field("Non diffusible").check()

    def submit_structure(self) -> None:
        self.button("Soumettre").click()

    def create_structure(self, company: Company) -> None:
        """From the structure step to « Mon espace », attached as its manager."""
        self.start_new_structure()
        self.fill_structure(company)
        self.submit_structure()
        self.expect_step(SPACE)
        expect(self.main).to_contain_text(CREATED)

    def row_of(self, text: str) -> Locator:
        """The table row that mentions ``text`` (a name, an e-mail)."""
        return self.page.get_by_role("row").filter(has_text=text)
