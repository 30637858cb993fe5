"""Second factors in the browser: an authenticator app enrolled through the
pages, its codes computed as the app would."""

from __future__ import annotations

from tests.support.second_factor import FACTORS, code_at


def enrol_app(visitor, from_page: bool = False) -> str:
    """Enrol an authenticator app for the signed-in visitor (the password was
    given moments ago), from « Vérification en deux étapes » (or, with
    ``from_page``, the page the visitor is on, which offers it); returns its
    secret."""
    page = visitor.page
    if not from_page:
        page.goto(FACTORS)
    visitor.button("Ajouter une application d'authentification").click()
    visitor.expect_step("Ajouter une application d'authentification")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    visitor.field("Code à 6 chiffres de votre application").fill(code_at(secret, -1))
    visitor.button("Activer").click()
    visitor.expect_step("Vos codes de secours")
    return secret
