"""A complete sign-up (steps 1 to 6) with JavaScript on, as Debian's Chromium
makes it, driven by Playwright: the page's own scripts send what they send —
htmx's swaps, each field's live check when it is left, the drafts' autosave,
the password's checklist, the SIRET's look-up in the directory.

The person fills each field at once (as a paste or the browser's autofill
does), leaves it, and takes PAUSE before typing in the next: any pace slower
than the autosave's delay (500 ms after a field is left) makes the same
requests, so the server's work is that of a person at any such pace. The browser waits for each of its
requests to be answered before « Continuer » or « Soumettre », as a person
reads the page before going on.

Every request carries ``X-Bench-Counted: js`` (bench/_request_cpu.py keeps its
CPU apart from the JavaScript-off journeys'). Each sign-up has a context of
its own: a new visitor, who fetches the assets once."""

from __future__ import annotations

import asyncio
import re

from bench._journey import JourneyError, activation_path, captcha_answer, siret

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
PASSWORD = "Velo-Rouge-Matin-2048"
PAUSE_S = 0.6  # between two fields: past the autosave's 500 ms
TIMEOUT_MS = 30_000
LANE = "js"  # the requests' mark (X-Bench-Counted), beside bench._journey.LANE
NUMBERS = 10**5  # the JavaScript-off journeys' numbers stay below: a SIRET each
READY = (
    "() => document.readyState === 'complete' && !!window.htmx"
    " && [...document.images].every((image) => image.complete)"
    " && !document.querySelector('.htmx-request')"
)


def _label(text: str) -> re.Pattern:
    """A field's label, with or without its required mark « * »."""
    return re.compile(rf"^\s*\*?\s*{re.escape(text)}\s*\*?\s*$")


async def _heading(page, text: str) -> None:
    try:
        await page.get_by_role("heading", level=1, name=text).wait_for()
    except Exception as error:  # Playwright's timeout: say where the journey stopped
        raise JourneyError(f"« {text} » never came (at {page.url})") from error
    await page.wait_for_function(READY)


async def _fill(page, fields: list[tuple[str, str]]) -> None:
    for label, value in fields:
        field = page.locator("#identifier") if label == "#identifier" else page.get_by_label(_label(label))
        await field.fill(value)
        await field.blur()  # left: its change (the live check, the autosave's delay)
        await asyncio.sleep(PAUSE_S)
    await page.wait_for_function(READY)


async def browser_journey(browser, base: str, number: int, secret_key: str, database: str, tag: str) -> int:
    """Steps 1 to 6 for person ``number`` in a context of its own; returns
    how many requests the browser sent. Raises JourneyError on a wrong answer."""
    number += NUMBERS
    email = f"personne{number}{tag}@exemple.fr"
    context = await browser.new_context(
        base_url=base, locale="fr-FR", extra_http_headers={"X-Bench-Counted": LANE}
    )
    context.set_default_timeout(TIMEOUT_MS)
    sent = []
    context.on("request", lambda request: sent.append(request.url))
    try:
        page = await context.new_page()
        await page.goto("/")
        await _heading(page, "Créer un compte et une structure en quelques clics")
        await page.get_by_role("link", name="Créer un compte", exact=True).click()
        await _heading(page, "Informations personnelles")
        await _fill(page, [
            ("Adresse e-mail", email), ("Confirmez votre adresse e-mail", email),
            ("Prénom", "Marie"), ("Nom", "Curie"), ("Téléphone", "01 23 45 67 89"),
        ])  # fmt: skip
        await page.get_by_label(_label("J'accepte les conditions")).check()
        await asyncio.sleep(PAUSE_S)
        await page.wait_for_function(READY)
        await page.get_by_role("button", name="Continuer", exact=True).click()
        await _heading(page, "Validez le Captcha")
        challenge = await page.locator('input[name="challenge_id"]').input_value()
        await _fill(page, [("Reproduire la suite de caractères", captcha_answer(secret_key, challenge))])
        await page.get_by_role("button", name="Valider le Captcha", exact=True).click()
        await _heading(page, "Vérifiez votre messagerie")
        await page.goto(activation_path(database, email))
        await _heading(page, "Mise à jour du mot de passe")
        await _fill(
            page, [("Nouveau mot de passe", PASSWORD), ("Confirmation du nouveau mot de passe", PASSWORD)]
        )
        await page.get_by_role("button", name="Soumettre", exact=True).click()
        await _heading(page, "Créer une nouvelle structure")
        await page.get_by_role("link", name="Créer une nouvelle structure", exact=True).click()
        await _heading(page, "Renseignez les informations générales")
        await _fill(page, [
            ("#identifier", siret(number)), ("Raison sociale", f"Société {number}"),
            ("Adresse", "12 rue de la Paix"), ("Ville", "Paris"), ("Code postal", "75002"),
        ])  # fmt: skip
        await page.get_by_role("button", name="Soumettre", exact=True).click()
        await _heading(page, "Mon espace")
        return len(sent)
    finally:
        await context.close()


async def _many(base: str, numbers: range, secret_key: str, database: str, tag: str) -> list:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            jobs = [browser_journey(browser, base, n, secret_key, database, tag) for n in numbers]
            return await asyncio.gather(*jobs, return_exceptions=True)
        finally:
            await browser.close()


def browser_journeys(base: str, numbers: range, secret_key: str, database: str, tag: str) -> list:
    """The journeys ``numbers`` at once, one browser context each: for each,
    the number of requests it sent, or the error that stopped it."""
    return asyncio.run(_many(base, numbers, secret_key, database, tag))
