"""A person going through the portal in one browser tab."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.support import pages
from tests.browser.support.checks import Screenshots, check_page
from tests.browser.support.http import http_sign_up
from tests.browser.support.mail import Inbox
from tests.browser.support.people import Company, Person, new_person
from tests.support.constants import CAPTCHA_ANSWER

# No htmx request of the page still on its way (Visitor.expect_answered).
ANSWERED = "() => !document.querySelector('.htmx-request')"


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
        self.expect_ready()

    def expect_ready(self) -> None:
        """With JavaScript, the page is as a person sees it: its scripts have
        run, and its images have come. A page loaded whole (a link without
        htmx, a reload) shows its heading before its deferred scripts run: a
        click then sends a plain POST, and the test would look at a page
        without JavaScript. (What htmx swaps in is live at once:
        ``defaultSettleDelay`` 0, test_enhancements.) A captcha answered while
        its image still loads spends its challenge, and the image's request
        then finds none (a 404 in the console). Without JavaScript, every
        page is a navigation, whose « load » waits for its images: a field
        can be filled as soon as the page is parsed, before then."""
        if self.javascript:
            self.page.wait_for_function(
                "() => document.readyState === 'complete' && !!window.htmx"
                " && [...document.images].every((image) => image.complete)"
            )
        else:
            self.page.wait_for_load_state("load")

    def expect_answered(self) -> None:
        """Every htmx request of the page answered, and its answer in place:
        htmx marks what sent one ``.htmx-request`` until then. (Playwright's
        « networkidle » is no such wait: once the page has loaded, it returns
        at once, a request still on its way.)"""
        self.page.wait_for_function(ANSWERED)

    def expect_path(self, path: str) -> None:
        """The page's address is ``path``, with any query and fragment (a
        mail's link names the row it is about: « /approbations/#approval-3 »).
        The path follows the origin: « /connexion?next=/mon-compte/ » is not
        at « /mon-compte/ »."""
        at = r"^[a-z]+://[^/?#]+" + re.escape(path) + r"(\?[^#]*)?(#.*)?$"
        expect(self.page).to_have_url(re.compile(at))

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

    def expect_errors(self, *messages: str) -> None:
        """The error summary is shown, with each of the messages."""
        expect(self.error_summary).to_be_visible()
        for message in messages:
            expect(self.error_summary).to_contain_text(message)

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

    def send(self, button: str) -> None:
        """Click the form's ``button`` and wait until its answer is on the
        page: without JavaScript, its document loaded; with it, the answer
        received and swapped in (nothing left sending). A page still showing the previous answer's errors
        would pass a check made sooner, and a swap landing in the middle of
        the next fill() would take what it typed."""
        if not self.javascript:  # the new document loaded
            with self.page.expect_navigation():
                self.button(button).click()
            return
        with self.page.expect_response(lambda answer: answer.request.method == "POST"):
            self.button(button).click()
        expect(self.page.locator("[aria-busy], [data-sending]")).to_have_count(0)

    def notice(self, text: str) -> Locator:
        """A message shown on the page (not its copy in #announcer, which the
        script fills 50 ms after a swap)."""
        return self.page.locator(".notice").filter(has_text=text)

    def expect_announced(self, text: str | re.Pattern) -> None:
        expect(self.page.locator("#announcer")).to_have_text(text)

    # -- the steps
    def start_signup(self) -> None:
        self.page.goto("/")
        self.expect_step(pages.HOME)
        self.link("Créer un compte").click()
        self.expect_step(pages.PERSONAL_INFO)

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
        field = self.field("Reproduire la suite de caractères")
        field.wait_for(state="attached")  # the captcha's page, not the one before it
        self.expect_ready()  # then its image read
        field.fill(answer)
        self.button("Valider le Captcha").click()

    def create_account(self, person: Person | None = None) -> Person:
        """From the home page to « Vérifiez votre messagerie »."""
        person = person or new_person()
        self.person = person
        self.start_signup()
        self.fill_personal_info(person)
        self.submit_personal_info()
        self.expect_step(pages.CAPTCHA)
        self.solve_captcha()
        self.expect_step(pages.MAIL_SENT)
        return person

    def activation_link(self, person: Person | None = None, count: int = 1) -> str:
        """The link of the newest activation mail, once ``count`` have arrived."""
        person = person or self.person
        self.inbox.wait_for(person.email, "Activez votre compte", count)
        return self.inbox.link_in(self.inbox.received(person.email, "Activez votre compte")[-1])

    def open_activation_link(self, person: Person | None = None) -> None:
        self.page.goto(self.activation_link(person))
        self.expect_step(pages.SET_PASSWORD)

    def set_password(self, password: str, confirm: str | None = None) -> None:
        self.field("Nouveau mot de passe").fill(password)
        self.field("Confirmation du nouveau mot de passe").fill(password if confirm is None else confirm)
        self.button("Soumettre").click()

    def check_password_errors(self, shots: Screenshots | None, name: str, password: str) -> None:
        """The error states of a form with a new password (nothing typed,
        a password the rules refuse, a different confirmation), each checked
        as ``{name} vide``, ``{name} refuse``, ``{name} different``."""
        self.button("Soumettre").click()
        self.expect_errors("Ce champ est obligatoire.")
        check_page(self.page, shots, f"{name} vide")
        self.set_password("motdepasse")
        self.expect_errors("Nouveau mot de passe")
        check_page(self.page, shots, f"{name} refuse")
        self.set_password(password, confirm=password + "x")
        self.expect_errors("identiques")
        check_page(self.page, shots, f"{name} different")

    def expect_structure_step(self) -> None:
        self.expect_path(pages.STRUCTURE_PATH)
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
        self.expect_step(pages.SIGN_IN)
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
        self.link(pages.STRUCTURE_CHOICE).click()
        self.expect_step(pages.STRUCTURE_FORM)
        self.expect_path(pages.STRUCTURE_FORM_PATH)

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
        self.expect_step(pages.SPACE)
        expect(self.main).to_contain_text(pages.CREATED)

    def row_of(self, text: str) -> Locator:
        """The table row that mentions ``text`` (a name, an e-mail)."""
        return self.page.get_by_role("row").filter(has_text=text)
