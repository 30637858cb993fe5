"""Step 6's fields as everybody first sees them are rendered once (issue 11,
P1: the page of 40 fields cost 4.8 times the floor). What is kept must be
the page a fresh render gives, and never carry one person's typing, draft,
directory answer or language to another. Attacks are named after what they try."""

from __future__ import annotations

import re

import pytest
from flask import template_rendered
from werkzeug.datastructures import MultiDict

import views.structure
from forms.structure import StructureForm
from tests.support.app import Client, HtmxClient
from tests.support.responses import text_of, without_tokens
from tests.support.structures import PIERRE, SIRET_NORMALISED, STRUCTURE, sign_up
from tests.test_language_carry import switch_from, value_of
from tests.test_structure_sirene import load_directory

STEP_6 = "/structure/nouvelle"
FIELDS = "structure/_fieldsets.html"
MARIE = {
    **PIERRE,
    "email": "marie@exemple.fr",
    "email_confirm": "marie@exemple.fr",
    "first_name": "Marie",
    "contact_email": "",
}
NO_DIRECTORY = (
    "Le répertoire SIRENE de l'INSEE n'est pas chargé sur ce portail : "
    "saisissez vous-même la raison sociale et l'adresse."
)


def speaking(client: Client, language: str) -> Client:
    """``client`` with ``language`` chosen (the switch sent as a form, its
    htmx mode kept for what follows)."""
    if language != "fr":
        mode, client.htmx = client.htmx, False
        assert client.submit("/langue", {"lang": language, "next": "/"}).status_code == 303
        client.htmx = mode
    return client


def person(app, mailbox, who: dict = PIERRE, htmx: bool = False, language: str = "fr") -> Client:
    app.test_client_class = HtmxClient if htmx else Client
    return speaking(sign_up(app.test_client(), mailbox, who), language)


def kept_parts(app) -> dict:
    """The parts of step 6 kept (the layout's own, the same on every page, left out)."""
    kept = app.extensions.get("shared_parts", {})
    return {key: part for key, part in kept.items() if not key[0].startswith("layouts/")}


def rendered_afresh(client: Client, monkeypatch) -> str:
    """The page as the template renders it whole, its fields included by
    create.html itself (nothing kept is used, nothing is kept)."""
    with monkeypatch.context() as patch:
        patch.setattr(views.structure, "_blank_fields", lambda form: None)
        patch.setattr(StructureForm, "fresh", classmethod(lambda cls: cls()))
        return text_of(client.get(STEP_6))


def fields_rendered(app, visits, template: str = FIELDS) -> int:
    """How many times the fields (``template``) were rendered on their own
    (to be kept) or inside a page, over ``visits``."""
    seen = []

    def record(sender, template, context, **extra):
        seen.append(template.name)

    with template_rendered.connected_to(record, app):
        visits()
    return seen.count(template)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_step_6_from_the_kept_fields_is_the_page_rendered_afresh(app, mailbox, monkeypatch, htmx, language):
    client = person(app, mailbox, htmx=htmx, language=language)
    afresh = rendered_afresh(client, monkeypatch)
    assert not kept_parts(app)
    first = text_of(client.get(STEP_6))
    assert fields_rendered(app, lambda: client.get(STEP_6)) == 0
    again = text_of(client.get(STEP_6))
    assert len(kept_parts(app)) == 1
    assert without_tokens(first) == without_tokens(again) == without_tokens(afresh)
    assert ("Raison sociale" in first) is (language == "fr")
    assert ("Company name" in first) is (language == "en")
    assert ("<!doctype html>" in first) is not htmx


def test_step_6s_untouched_fields_are_rendered_once_for_everybody(app, mailbox):
    pierre, marie = person(app, mailbox), person(app, mailbox, MARIE)
    pages = []

    def visits():
        pages.extend(client.get(STEP_6).get_data(as_text=True) for client in (pierre, marie))

    assert fields_rendered(app, visits) == 1
    pierre_page, marie_page = pages
    ((key, fields),) = kept_parts(app).items()
    assert key == (FIELDS, "fr", "", NO_DIRECTORY)
    assert NO_DIRECTORY.replace("'", "&#39;") in pierre_page
    assert without_tokens(pierre_page) != without_tokens(marie_page)  # each one's name in the header
    assert fields in pierre_page and fields in marie_page


def whole_forms_built(visits) -> int:
    """How many StructureForm (with their fields) ``visits`` built."""
    built = []
    real = StructureForm.__init__

    def counted(self, *args, **kwargs):
        built.append(self)
        real(self, *args, **kwargs)

    StructureForm.__init__ = counted
    try:
        visits()
    finally:
        StructureForm.__init__ = real
    return len(built)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_blank_step_6_binds_its_fields_only_to_draw_them_the_first_time(app, mailbox, htmx):
    """Nothing can be in the fields of a step 6 with no draft, no link and
    nothing carried: once they are kept, the page builds only its token."""
    client = person(app, mailbox, htmx=htmx)
    assert whole_forms_built(lambda: client.get(STEP_6)) == 1  # to draw the fields kept
    pages = []
    assert whole_forms_built(lambda: pages.append(text_of(client.get(STEP_6)))) == 0
    assert 'name="csrf_token" type="hidden" value="m~' in pages[0] and 'name="company_name"' in pages[0]
    sent = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', pages[0]).group(1)
    assert client.post(STEP_6, data={**STRUCTURE, "csrf_token": sent}).status_code in (200, 303)


def test_each_page_carries_its_own_token_around_the_kept_fields_attack_token_leak(app, mailbox):
    """The token is in the page around the kept fields, never in them: each
    person's step 6 sends with their own token only (a guard, the fields
    kept first by someone else)."""
    pierre, marie = person(app, mailbox), person(app, mailbox, MARIE)
    pierre.get(STEP_6)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text_of(marie.get(STEP_6))).group(1)
    assert marie.post(STEP_6, data={**STRUCTURE, "csrf_token": token}).status_code == 303
    assert pierre.post(STEP_6, data={**STRUCTURE, "csrf_token": token}).status_code == 400


def test_attack_one_persons_draft_never_reaches_anothers_blank_step_6(app, mailbox):
    """Pierre's draft is his: Marie's blank page does not show it, and the
    fields kept for blank pages never replace his draft on his own page."""
    marie = person(app, mailbox, MARIE)
    text_of(marie.get(STEP_6))  # the blank fields, kept
    pierre = person(app, mailbox)
    drafted = {**STRUCTURE, "company_name": "Brouillon de Pierre", "city": "Quimper"}
    assert pierre.submit(f"{STEP_6}/brouillon", drafted).status_code in (200, 303)
    his = text_of(pierre.get(STEP_6))
    assert "Brouillon de Pierre" in his and "Quimper" in his
    hers = text_of(marie.get(STEP_6))
    assert "Brouillon de Pierre" not in hers and "Quimper" not in hers
    assert all("Brouillon" not in part and "Quimper" not in part for part in kept_parts(app).values())


def test_attack_a_step_sent_with_errors_never_shows_its_values_to_the_next_person(app, mailbox):
    """What Pierre sent with an error is his draft: his step 6 shows it
    again, never the blank fields kept for Marie; hers never shows it."""
    marie = person(app, mailbox, MARIE)
    marie.get(STEP_6)  # the blank fields, kept
    pierre = person(app, mailbox)
    sent = pierre.submit(STEP_6, {**STRUCTURE, "company_name": "Envoyé par Pierre", "postal_code": "x"})
    assert sent.status_code == 422 and "Envoyé par Pierre" in text_of(sent)
    assert value_of(text_of(pierre.get(STEP_6)), "company_name") == "Envoyé par Pierre"
    assert "Envoyé par Pierre" not in text_of(marie.get(STEP_6))


def test_the_searchs_link_with_a_siret_fills_it_in_and_keeps_nothing(app, mailbox):
    """« Créer cette structure » from the attachment search: its SIRET is in
    the identifier field, for that page only; the blank fields kept stay blank."""
    marie = person(app, mailbox, MARIE)
    blank = text_of(marie.get(STEP_6))
    pierre = person(app, mailbox)
    linked = text_of(pierre.get(STEP_6, query_string={"siret": SIRET_NORMALISED}))
    assert value_of(linked, "identifier").replace(" ", "") == SIRET_NORMALISED
    assert len(kept_parts(app)) == 1
    assert without_tokens(text_of(marie.get(STEP_6))) == without_tokens(blank)
    assert value_of(blank, "identifier") == ""


def test_another_identifier_type_is_never_served_the_kept_siret_fields(app, mailbox):
    """A draft begun for a RIDET shows its own type and countries, never the
    SIRET fields kept for a blank form."""
    marie = person(app, mailbox, MARIE)
    marie.get(STEP_6)
    pierre = person(app, mailbox)
    drafted = {**STRUCTURE, "identifier_type": "ridet", "identifier": "", "country": "NC"}
    assert pierre.submit(f"{STEP_6}/brouillon", drafted).status_code in (200, 303)
    page = text_of(pierre.get(STEP_6))
    assert '<option selected value="ridet">' in page and '<option selected value="NC">' in page
    assert len(kept_parts(app)) == 1


def test_attack_fields_carried_by_the_language_switch_stay_with_their_person(app, mailbox):
    pierre = person(app, mailbox)
    switch_from(pierre, STEP_6, {**STRUCTURE, "label": "Atelier de Pierre"})
    assert value_of(text_of(pierre.get(STEP_6)), "label") == "Atelier de Pierre"
    marie = person(app, mailbox, MARIE, language="en")
    page = text_of(marie.get(STEP_6))
    assert value_of(page, "label") == "" and "Atelier de Pierre" not in page


def test_the_directory_loaded_later_is_not_hidden_by_the_fields_kept_before(
    app, mailbox, tmp_path, monkeypatch
):
    """The kept fields depend on the directory's notice: once it is loaded,
    the blank page no longer says it is missing, and a SIRET it knows is
    filled in as before."""
    pierre = person(app, mailbox)
    assert "n'est pas chargé sur ce portail" in text_of(pierre.get(STEP_6))
    load_directory(app, tmp_path)
    page = text_of(pierre.get(STEP_6))
    assert "n'est pas chargé sur ce portail" not in page
    assert without_tokens(page) == without_tokens(rendered_afresh(pierre, monkeypatch))
    sent = {"identifier_type": "siret", "identifier": SIRET_NORMALISED, "country": "FR"}
    filled = pierre.submit(STEP_6, sent)
    assert "CURIE ET FILLES" in text_of(filled)


# -- the form's own test ------------------------------------------------------------


def form_sent(app, sent: dict | None, **kwargs) -> bool:
    """Whether the form made from what was sent (POST), or on a GET with ``kwargs``, is untouched."""
    method = "POST" if sent is not None else "GET"
    with app.test_request_context(STEP_6, method=method, data=sent or {}):
        return StructureForm(meta={"csrf": False}, **kwargs).untouched()


def test_a_form_is_untouched_only_as_everybody_first_sees_it(app):
    assert form_sent(app, None)
    assert form_sent(app, None, formdata=None, data={"identifier": "", "non_diffusible": False})
    assert not form_sent(app, None, formdata=None, data={"company_name": "Ateliers Curie"})
    assert not form_sent(app, None, formdata=None, data={"country": "BE"})
    assert not form_sent(app, None, formdata=None, data={"non_diffusible": True})
    assert not form_sent(app, {"identifier_type": "siret", "country": "FR"})  # sent, even with the defaults
    assert not form_sent(app, None, formdata=MultiDict({"city": ""}))


def test_a_form_with_an_error_or_a_directory_answer_is_not_untouched(app):
    with app.test_request_context(STEP_6):
        form = StructureForm(meta={"csrf": False})
        form.form_errors.append("Trop de structures créées.")
        assert not form.untouched()
        form = StructureForm(meta={"csrf": False})
        form.identifier.errors = ["Le SIRET est invalide."]
        assert not form.untouched()
        form = StructureForm(meta={"csrf": False})
        form.directory_differs = {"city": "PARIS"}
        assert not form.untouched()


def test_attack_the_kept_fields_never_show_one_language_to_another(app, mailbox):
    french, english = person(app, mailbox), person(app, mailbox, MARIE, language="en")
    for _ in range(2):
        assert "Raison sociale" in text_of(french.get(STEP_6))
        page = text_of(english.get(STEP_6))
        assert "Company name" in page and "Raison sociale" not in page
    assert {key[1] for key in kept_parts(app)} == {"fr", "en"}


def test_the_kept_fields_follow_the_application_root(app, mailbox):
    """One app answering under two roots (a proxy's prefix): each page's
    live checks post to its own."""
    pierre = person(app, mailbox)
    assert 'data-hx-post="/structure/nouvelle/identifiant"' in text_of(pierre.get(STEP_6))
    page = text_of(pierre.get(STEP_6, base_url="http://localhost/portail/"))
    assert 'data-hx-post="/portail/structure/nouvelle/identifiant"' in page
    assert 'data-hx-post="/structure/' not in page


def test_a_part_holding_the_visitors_token_is_never_kept_attack_token_leak(app, mailbox, monkeypatch):
    """However a token reached the part (masked, or raw), it is answered to
    its visitor only, never kept for the next one."""
    import breach
    import views

    render = views.render_template

    def leaking(template, **context):
        html = render(template, **context)
        return html + f"<!-- {breach.raw_token_payload()} -->" if template == FIELDS else html

    monkeypatch.setattr(views, "render_template", leaking)
    pierre, marie = person(app, mailbox), person(app, mailbox, MARIE)
    leaks = [text_of(client.get(STEP_6)).split("<!-- ")[-1].split(" -->")[0] for client in (pierre, marie)]
    assert not kept_parts(app)
    assert leaks[0] != leaks[1]  # each visitor's own


def test_the_kept_fields_say_the_notice_they_are_kept_under(app, mailbox, monkeypatch):
    """A directory whose state changes while the page is made (an import
    ending): the fields kept under one notice never show another."""
    from sirene import directory

    said = iter(["", "Le répertoire vient de changer."])
    monkeypatch.setattr(directory, "notice", lambda: next(said, "Le répertoire vient de changer."))
    person(app, mailbox).get(STEP_6)
    ((key, fields),) = kept_parts(app).items()
    assert key[-1] == "" and "vient de changer" not in fields
