"""Set-ups through plain HTTP requests.

What a test only needs as a starting point (an active account, a structure)
is made with the browser context's request API: the same forms, the same
cookies, without drawing each page. The journeys do it all in the page."""

from __future__ import annotations

import re

from playwright.sync_api import APIRequestContext

from tests.browser.support.mail import Inbox
from tests.browser.support.pages import APPROVALS_PATH, CREATED, SPACE_PATH, STRUCTURE_FORM_PATH
from tests.browser.support.people import Company, Person
from tests.support.constants import CAPTCHA_ANSWER


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


def http_request_attachment(http: APIRequestContext, company: Company) -> None:
    """Ask to be attached to ``company``'s structure (from « Mon espace »)."""
    _post(
        http,
        "/structure/rattachement/demande",
        {"identifier_type": "siret", "identifier": company.siret},
        from_url=SPACE_PATH,
    )


def http_approve(http: APIRequestContext, requester: Person) -> None:
    """The gestionnaire principal approves ``requester``'s request in « Approbations »."""
    approvals = http.get(APPROVALS_PATH).text()
    row = re.search(
        rf"<tr id=\"approval-\d+\">(?:(?!</tr>).)*{re.escape(requester.email)}.*?</tr>", approvals, re.S
    )
    assert row, f"no request from {requester.email}"
    [action] = re.findall(r'action="(/approbations/\d+/approuver)"', row.group(0))
    _post(http, action, {}, from_url=APPROVALS_PATH)
